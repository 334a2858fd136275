package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

// DefaultPublishTimeout bounds a whole publish, retries and rate-limit waits included.
const DefaultPublishTimeout = publish.DefaultTimeout

// DefaultPublishConfig names the PR comment when --config is not given.
const DefaultPublishConfig = "default"

// publishRetry is the retry policy of publish; tests swap its sleeper for one that records.
var publishRetry publish.Retry

func init() {
	commands["publish"] = command{"post a comparison to GitHub: PR comment, commit statuses, check run, job summary", publishCmd}
}

type publishFlags struct {
	input, config, repo, sha, apiURL, policy string
	history                                  string
	runURL, artifactsURL                     string
	pr                                       int
	comment, status, check, dryRun           bool
	timeout                                  time.Duration
}

func publishCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("publish", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate publish [flags] REPORT.json...\n\nREPORT.json is 'tailgate compare --format json' output, one per suite.\nThe token is read from $TAILGATE_GITHUB_TOKEN or $GITHUB_TOKEN only.\n\nflags:")
		fs.PrintDefaults()
	}
	var f publishFlags
	fs.StringVar(&f.input, "input", "", "a publish input JSON (docs/github.md) instead of gate reports")
	fs.StringVar(&f.config, "config", DefaultPublishConfig, "config name: one PR comment per config, found by the marker <!-- tailgate:NAME -->")
	fs.StringVar(&f.repo, "repo", "", "repository owner/name (default $GITHUB_REPOSITORY)")
	fs.IntVar(&f.pr, "pr", 0, "pull request number (default: from the pull_request event in $GITHUB_EVENT_PATH)")
	fs.StringVar(&f.sha, "sha", "", "commit for statuses and check runs (default: the pull request's head, else $GITHUB_SHA)")
	fs.StringVar(&f.apiURL, "api-url", "", "GitHub REST API root (default $GITHUB_API_URL, else "+publish.DefaultAPIURL+")")
	fs.StringVar(&f.runURL, "run-url", "", "link to the CI run (default: the Actions run from $GITHUB_SERVER_URL, $GITHUB_REPOSITORY, $GITHUB_RUN_ID)")
	fs.StringVar(&f.artifactsURL, "artifacts-url", "", "link to the full results (default: the Actions run's artifacts)")
	fs.BoolVar(&f.comment, "comment", publish.DefaultOptions.Comment, "create or update the PR comment")
	fs.BoolVar(&f.status, "status", publish.DefaultOptions.Status, "set a commit status tailgate/<suite> per suite")
	fs.BoolVar(&f.check, "check", publish.DefaultOptions.Check, "create a check run with the report as its summary")
	fs.StringVar(&f.policy, "inconclusive", "", "fail|pass: how an inconclusive suite reads (default: the reports' policy, else fail)")
	fs.DurationVar(&f.timeout, "timeout", DefaultPublishTimeout, "overall deadline for talking to GitHub, retries included")
	fs.StringVar(&f.history, "history", "", "baseline store (as --store) whose nightly history is charted in the comment; empty: no chart")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be sent and written; needs no token, sends and writes nothing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}

	act, err := publish.FromActions(e.getenv)
	if err != nil {
		return withCode(exitError, err)
	}
	in, repPolicy, keys, err := loadPublishInput(f, fs.Args())
	if err != nil {
		return withCode(exitError, err)
	}
	if f.history != "" {
		addHistory(e, f.history, &in, keys)
	}
	policy := publish.DefaultPolicy
	if repPolicy != "" {
		policy = repPolicy
	}
	if f.policy != "" {
		if policy, err = publish.ParsePolicy(f.policy); err != nil {
			return withCode(exitError, fmt.Errorf("--inconclusive: %w", err))
		}
	}
	in.RunURL = cmp.Or(in.RunURL, f.runURL, act.RunURL)
	in.ArtifactsURL = cmp.Or(in.ArtifactsURL, f.artifactsURL, act.ArtifactsURL)
	target, err := resolveTarget(f.repo, f.pr, f.sha, act)
	if err != nil {
		return withCode(exitError, err)
	}
	opts := publish.Options{Comment: f.comment, Status: f.status, Check: f.check, Policy: policy}
	gateCode, err := publish.Deliver(context.Background(), publish.Delivery{Input: in, Target: target, Options: opts,
		Actions: act, Token: publish.Token(e.getenv), APIURL: f.apiURL, Retry: publishRetry, Timeout: f.timeout,
		DryRun: f.dryRun, Stdout: e.stdout, Log: e.stderr, Name: "tailgate publish"})
	if err != nil {
		// A failed publish is an error, and never better than the gate's own verdict.
		return withCode(gate.WorseExit(gateCode, exitError), err)
	}
	what := "published"
	if f.dryRun {
		what = "dry run"
	}
	if gateCode == exitPass {
		return nil
	}
	return withCode(gateCode, fmt.Errorf("gate verdict %s (%s)", in.Verdict(), what))
}

// resolveTarget is publish.ResolveTarget with errors that name the flag.
func resolveTarget(repo string, pr int, sha string, act publish.ActionsEnv) (publish.Target, error) {
	if repo != "" {
		if _, _, err := publish.ParseRepo(repo); err != nil {
			return publish.Target{}, fmt.Errorf("--repo: %w", err)
		}
	}
	if pr < 0 {
		return publish.Target{}, fmt.Errorf("--pr %d: want a pull request number", pr)
	}
	if sha != "" {
		if _, err := publish.ParseSHA(sha); err != nil {
			return publish.Target{}, fmt.Errorf("--sha: %w", err)
		}
	}
	t, err := publish.ResolveTarget(repo, pr, sha, act)
	if err != nil {
		return t, fmt.Errorf("the Actions environment ($GITHUB_REPOSITORY, $GITHUB_SHA, the event payload): %w", err)
	}
	return t, nil
}

// addHistory charts each suite's nightly history from the store named by --history.
func addHistory(e *env, storeFlag string, in *publish.Input, keys map[string]string) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		fmt.Fprintf(e.stderr, "tailgate publish: no history chart: %v\n", err)
		return
	}
	defer st.Close()
	for _, w := range publish.AddHistory(st, in, keys) {
		fmt.Fprintf(e.stderr, "tailgate publish: %s\n", w)
	}
}

// loadPublishInput reads the gate reports of the arguments, or the publish input of --input.
func loadPublishInput(f publishFlags, paths []string) (publish.Input, publish.Policy, map[string]string, error) {
	switch {
	case f.input != "" && len(paths) > 0:
		return publish.Input{}, "", nil, errors.New("--input and report files: give one or the other")
	case f.input != "":
		in, err := publish.ReadInput(f.input, f.config)
		if err != nil {
			return in, "", nil, fmt.Errorf("--input: %w", err)
		}
		return in, "", nil, nil
	case len(paths) == 0:
		return publish.Input{}, "", nil, errors.New("no report: give the JSON reports of 'tailgate compare --format json' (or --input)")
	}
	return publish.InputFromReports(f.config, paths)
}
