package prdata

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/runner/config"
)

// Plan lists what a trusted configuration takes from a pull request: the model of each named
// suite whose path lies inside the repository, and the extra paths of ci.pr_data (input files,
// a model's external data). notes say which models stay the board's (an absolute path, or one
// outside the repository). Paths are relative to the repository root, where the workflow runs
// tailgate.
func Plan(cfg *config.Config, names []string) (paths, notes []string) {
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	for _, n := range names {
		s := cfg.Suites[n]
		if s == nil || s.Model == "" {
			continue
		}
		if _, err := CleanPath(s.Model); err != nil {
			notes = append(notes, "suite "+n+": model "+s.Model+" is not a repository path; the board's file is measured, not the pull request's")
			continue
		}
		add(s.Model)
	}
	for _, p := range cfg.CI.PRData {
		add(p)
	}
	sort.Strings(paths)
	return paths, notes
}

// Apply points the named suites of cfg at the fetched files (Fetch's result): each model, and
// each input filled from a file (fill: file=PATH) listed in ci.pr_data. Doctor's model pins
// then check the pull request's models, and the run measures them.
func Apply(cfg *config.Config, names []string, fetched map[string]string) {
	byClean := map[string]string{}
	for orig, file := range fetched {
		if c, err := CleanPath(orig); err == nil {
			byClean[c] = file
		}
	}
	lookup := func(p string) (string, bool) {
		if f, ok := fetched[p]; ok {
			return f, true
		}
		c, err := CleanPath(p)
		if err != nil {
			return "", false
		}
		f, ok := byClean[c]
		return f, ok
	}
	for _, n := range names {
		s := cfg.Suites[n]
		if s == nil {
			continue
		}
		if f, ok := lookup(s.Model); ok && s.Model != "" {
			s.Model = f
		}
		for k, in := range s.Inputs {
			p, ok := strings.CutPrefix(in.Fill, "file=")
			if !ok {
				continue
			}
			if f, ok := lookup(p); ok {
				in.Fill = "file=" + f
				s.Inputs[k] = in
			}
		}
	}
}

// Request is one pull request's data step: whose commit, from where, into which work folder,
// for which suites of cfg.
type Request struct {
	Config *config.Config
	Names  []string
	// SHA is the pull request's head commit; Checkout the commit the job checked out (the
	// base branch's: it must not be the head).
	SHA      string
	Checkout result.Git
	// PR and HeadSHA come from the Actions event when there is one: SHA must be its head.
	PR      int
	HeadSHA string
	Remote  string
	// Work is the run's work folder; the files go to Work/pr-data.
	Work     string
	MaxBytes int64
}

// Prepare fetches the files cfg takes from the pull request into the work folder and points cfg
// at them. It returns the commit the run is of (the pull request's, never a branch's, so the
// run is never promoted) and notes for the log.
func Prepare(ctx context.Context, r Request) (result.Git, []string, error) {
	if err := CheckSHA(r.SHA); err != nil {
		return r.Checkout, nil, err
	}
	if r.Checkout.Commit == r.SHA {
		return r.Checkout, nil, errors.New("the checkout is the pull request's head commit; under pull_request_target check out the base branch (docs/github.md)")
	}
	g := result.Git{Commit: r.SHA, Repo: r.Checkout.Repo}
	if r.PR > 0 {
		if r.HeadSHA != r.SHA {
			return r.Checkout, nil, fmt.Errorf("%s is not the head %s of pull request #%d", r.SHA, r.HeadSHA, r.PR)
		}
		g.PR, g.Ref = r.PR, fmt.Sprintf("refs/pull/%d/head", r.PR)
	}
	if r.Remote == "" {
		return r.Checkout, nil, errors.New("no repository to fetch from")
	}
	paths, notes := Plan(r.Config, r.Names)
	if len(paths) == 0 {
		return g, append(notes, "the configuration takes nothing from the pull request"), nil
	}
	dest := filepath.Join(r.Work, "pr-data")
	if err := os.RemoveAll(dest); err != nil {
		return r.Checkout, notes, err
	}
	fetched, err := Fetch(ctx, Options{Remote: r.Remote, SHA: r.SHA, Ref: g.Ref, Paths: paths, Dest: dest, MaxBytes: r.MaxBytes})
	if err != nil {
		return r.Checkout, notes, err
	}
	Apply(r.Config, r.Names, fetched)
	return g, append(notes, fmt.Sprintf("%d file(s) of %s from %s into %s", len(fetched), r.SHA[:12], r.Remote, dest)), nil
}
