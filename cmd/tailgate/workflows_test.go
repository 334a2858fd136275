package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The workflow policy: the rules a shipped workflow must keep for the self-hosted board to stay
// the project's (docs/github.md, "Threat model"). checkWorkflow returns every violation.
//
//   - A pull_request_target job never checks out the pull request (a checkout ref naming its
//     head, its merge commit or refs/pull/, or another repository) and no script mentions the
//     pull request's head or refs/pull/ (fetching or running its code, or injecting its text).
//   - Every `uses:` is pinned by a full 40-hex commit SHA; local ./ actions excepted.
//   - Every actions/checkout sets persist-credentials: false.
//   - A job on the self-hosted board has explicit permissions (job or workflow level) and
//     none of them is contents: write (or write-all); only a job named store may write, and it
//     must not run on the board.
//   - pages: write and id-token: write (deploying GitHub Pages) are granted per job, never at
//     the workflow level, and never to a job on the board.

var (
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	// What names the pull request's code in an expression or a script.
	prCodeRef = regexp.MustCompile(`github\.event\.pull_request\.head\.|github\.head_ref|refs/pull/|merge_commit_sha|github\.event\.pull_request\.merge|gh pr checkout`)
)

type wfStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

type wfJob struct {
	RunsOn      yaml.Node `yaml:"runs-on"`
	Permissions yaml.Node `yaml:"permissions"`
	Uses        string    `yaml:"uses"`
	Steps       []wfStep  `yaml:"steps"`
}

type workflow struct {
	On          yaml.Node         `yaml:"on"`
	Permissions yaml.Node         `yaml:"permissions"`
	Jobs        map[string]*wfJob `yaml:"jobs"`
}

// triggers lists a workflow's events whatever form `on:` takes.
func triggers(n yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	case yaml.MappingNode:
		var out []string
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
		return out
	}
	return nil
}

// grantsContentsWrite says whether a permissions node gives contents: write.
func grantsContentsWrite(n yaml.Node) bool { return grantsWrite(n, "contents") }

// grantsWrite says whether a permissions node gives scope: write.
func grantsWrite(n yaml.Node, scope string) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value == "write-all"
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == scope && n.Content[i+1].Value == "write" {
				return true
			}
		}
	}
	return false
}

// pagesScopes are the permissions a GitHub Pages deployment needs.
var pagesScopes = []string{"pages", "id-token"}

func selfHosted(n yaml.Node) bool {
	var labels []string
	switch n.Kind {
	case yaml.ScalarNode:
		labels = []string{n.Value}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			labels = append(labels, c.Value)
		}
	case yaml.MappingNode: // { group: …, labels: … }: a runner group is self-hosted
		return true
	}
	for _, l := range labels {
		// An expression may pick the board; treat it as the board.
		if l == "self-hosted" || strings.Contains(l, "${{") {
			return true
		}
	}
	return false
}

func checkUses(where, uses string) []string {
	if uses == "" || strings.HasPrefix(uses, "./") {
		return nil
	}
	if strings.HasPrefix(uses, "docker://") {
		if !regexp.MustCompile(`@sha256:[0-9a-f]{64}$`).MatchString(uses) {
			return []string{fmt.Sprintf("%s: %s is not pinned by digest", where, uses)}
		}
		return nil
	}
	if !pinnedUses.MatchString(uses) {
		return []string{fmt.Sprintf("%s: uses %s is not pinned to a 40-hex commit SHA", where, uses)}
	}
	return nil
}

func checkWorkflow(b []byte) ([]string, error) {
	var wf workflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		return nil, err
	}
	prTarget := false
	for _, t := range triggers(wf.On) {
		if t == "pull_request_target" {
			prTarget = true
		}
	}
	var bad []string
	for _, scope := range pagesScopes {
		if wf.Permissions.Kind == yaml.MappingNode && grantsWrite(wf.Permissions, scope) {
			bad = append(bad, fmt.Sprintf("workflow permissions grant %s: write to every job (grant it to the deploying job only)", scope))
		}
	}
	ids := make([]string, 0, len(wf.Jobs))
	for id := range wf.Jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		j := wf.Jobs[id]
		bad = append(bad, checkUses("job "+id, j.Uses)...)
		if selfHosted(j.RunsOn) {
			perms := j.Permissions
			if perms.Kind == 0 {
				perms = wf.Permissions
			}
			switch {
			case perms.Kind == 0:
				bad = append(bad, fmt.Sprintf("job %s: runs on the self-hosted board with the default token permissions (set permissions: explicitly)", id))
			case grantsContentsWrite(perms):
				bad = append(bad, fmt.Sprintf("job %s: runs on the self-hosted board with contents: write (only a GitHub-hosted store job may write)", id))
			}
			for _, scope := range pagesScopes {
				if j.Permissions.Kind == yaml.MappingNode && grantsWrite(j.Permissions, scope) {
					bad = append(bad, fmt.Sprintf("job %s: runs on the self-hosted board with %s: write (deploy Pages from a GitHub-hosted job)", id, scope))
				}
			}
		}
		for i, s := range j.Steps {
			where := fmt.Sprintf("job %s step %d (%s)", id, i+1, s.Name+s.Uses)
			bad = append(bad, checkUses(where, s.Uses)...)
			if strings.HasPrefix(s.Uses, "actions/checkout@") {
				if s.With["persist-credentials"] != "false" {
					bad = append(bad, where+": actions/checkout without persist-credentials: false")
				}
				if prTarget {
					if r := s.With["ref"]; prCodeRef.MatchString(r) {
						bad = append(bad, fmt.Sprintf("%s: pull_request_target checks out the pull request (ref: %s)", where, r))
					}
					if r := s.With["repository"]; r != "" && r != "${{ github.repository }}" {
						bad = append(bad, fmt.Sprintf("%s: pull_request_target checks out another repository (%s)", where, r))
					}
				}
			}
			if prTarget && prCodeRef.MatchString(s.Run) {
				bad = append(bad, fmt.Sprintf("%s: a pull_request_target script names the pull request's code (%s)", where, prCodeRef.FindString(s.Run)))
			}
		}
	}
	return bad, nil
}

// TestShippedWorkflowsKeepThePolicy reads every shipped workflow and the composite action.
func TestShippedWorkflowsKeepThePolicy(t *testing.T) {
	files, _ := filepath.Glob("../../.github/workflows/*.yml")
	if len(files) < 3 {
		t.Fatalf("found %d workflows", len(files))
	}
	sawTarget := false
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		bad, err := checkWorkflow(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range bad {
			t.Errorf("%s: %s", f, v)
		}
		sawTarget = sawTarget || strings.Contains(string(b), "\n  pull_request_target:")
	}
	if !sawTarget {
		t.Error("no workflow runs on pull_request_target: the trusted-base mode for public repositories is gone")
	}
	// The composite action's own steps follow the same pinning rule.
	var action struct {
		Runs struct {
			Steps []wfStep `yaml:"steps"`
		} `yaml:"runs"`
	}
	b, err := os.ReadFile("../../.github/actions/tailgate/action.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	for i, s := range action.Runs.Steps {
		for _, v := range checkUses(fmt.Sprintf("action.yml step %d", i+1), s.Uses) {
			t.Error(v)
		}
	}
}

// TestWorkflowPolicyRejects runs the policy on workflows that break it, one rule each: each
// must be refused with the named violation.
func TestWorkflowPolicyRejects(t *testing.T) {
	want := map[string]string{
		"prt-checkout-head.yml":      "pull_request_target checks out the pull request",
		"prt-checkout-refs-pull.yml": "pull_request_target checks out the pull request",
		"prt-checkout-fork.yml":      "checks out another repository",
		"prt-run-pr-script.yml":      "script names the pull request's code",
		"unpinned-tag.yml":           "is not pinned to a 40-hex commit SHA",
		"unpinned-short-sha.yml":     "is not pinned to a 40-hex commit SHA",
		"selfhosted-write.yml":       "with contents: write",
		"selfhosted-write-all.yml":   "with contents: write",
		"selfhosted-default.yml":     "default token permissions",
		"persist-credentials.yml":    "persist-credentials: false",
		"selfhosted-pages.yml":       "board with pages: write",
		"workflow-pages.yml":         "workflow permissions grant pages: write",
	}
	files, _ := filepath.Glob("testdata/workflows/*.yml")
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %d expectations", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			bad, err := checkWorkflow(b)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for %s", name)
			}
			found := false
			for _, v := range bad {
				found = found || strings.Contains(v, w)
			}
			if !found {
				t.Errorf("violations %q: want one with %q", bad, w)
			}
		})
	}
}

// TestWorkflowsUploadOnlyThisJobsResults: a job's artifact holds this job's run folders (the
// action's `results` output), not the work folder, which keeps earlier jobs' runs (other pull
// requests' among them) for ci.keep.
func TestWorkflowsUploadOnlyThisJobsResults(t *testing.T) {
	files, _ := filepath.Glob("../../.github/workflows/*.yml")
	uploads := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf workflow
		if err := yaml.Unmarshal(b, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, j := range wf.Jobs {
			for _, s := range j.Steps {
				path := s.With["path"]
				if !strings.HasPrefix(s.Uses, "actions/upload-artifact@") || !strings.Contains(path, "steps.tailgate.") {
					continue
				}
				uploads++
				if path != "${{ steps.tailgate.outputs.results }}" {
					t.Errorf("%s: job %s uploads %s: want this job's results (${{ steps.tailgate.outputs.results }})", f, id, path)
				}
			}
		}
	}
	if uploads < 3 {
		t.Errorf("%d uploads of tailgate results in the shipped workflows, want one per workflow", uploads)
	}
}
