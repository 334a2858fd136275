package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

// DefaultPublishTimeout bounds a whole publish, retries and rate-limit waits included.
const DefaultPublishTimeout = 2 * time.Minute

// DefaultPublishConfig names the PR comment when --config is not given.
const DefaultPublishConfig = "default"

// publishRetry is the retry policy of publish; tests swap its sleeper for one that records.
var publishRetry publish.Retry

// Token variables, in the order they are read: a token meant for tailgate wins over the job's.
var tokenVars = []string{"TAILGATE_GITHUB_TOKEN", "GITHUB_TOKEN"}

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
	if f.runURL == "" {
		f.runURL = act.RunURL
	}
	if f.artifactsURL == "" {
		f.artifactsURL = act.ArtifactsURL
	}
	if in.RunURL == "" {
		in.RunURL = f.runURL
	}
	if in.ArtifactsURL == "" {
		in.ArtifactsURL = f.artifactsURL
	}
	target, err := publishTarget(f, act)
	if err != nil {
		return withCode(exitError, err)
	}
	opts := publish.Options{Comment: f.comment, Status: f.status, Check: f.check, Policy: policy}
	plan, err := publish.BuildPlan(in, target, opts)
	if err != nil {
		return withCode(exitError, err)
	}
	gateCode := in.CodeWith(policy)
	body := publish.RenderComment(in, publish.RenderOptions{SHA: target.SHA})
	outputs := gateOutputs(in, gateCode, body)
	annotations := publish.Annotations(in)

	if f.dryRun {
		if err := dryRunPublish(e, act, plan, outputs, annotations); err != nil {
			return withCode(exitError, err)
		}
		return gateResult(gateCode, in, "dry run")
	}

	// The runner's files come first: they need no network, and a failing GitHub must not
	// also cost the job summary.
	errs := writeActionsFiles(e, act, body, outputs, annotations)
	if plan.Comment != nil || len(plan.Statuses) > 0 || len(plan.Checks) > 0 {
		if err := sendPlan(e, f, act, plan); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(e.stderr, "tailgate publish: skipped %s\n", s)
	}
	if err := errors.Join(errs...); err != nil {
		// A failed publish is an error, and never better than the gate's own verdict.
		return withCode(publish.Worst(gateCode, exitError), err)
	}
	return gateResult(gateCode, in, "published")
}

// gateOutputs are the step outputs of a publish: the verdict, the exit code and the report.
func gateOutputs(in publish.Input, code int, body string) []publish.Output {
	return []publish.Output{
		{Name: "verdict", Value: in.Verdict()},
		{Name: "exit-code", Value: fmt.Sprint(code)},
		{Name: "report", Value: body},
	}
}

// writeActionsFiles writes what the Actions runner reads: the annotations (on stdout, inside
// Actions only), the job summary and the step outputs. It returns every error.
func writeActionsFiles(e *env, act publish.ActionsEnv, body string, outputs []publish.Output, annotations []string) []error {
	var errs []error
	if act.InActions {
		for _, a := range annotations {
			fmt.Fprintln(e.stdout, a)
		}
	}
	if act.StepSummary != "" {
		if err := publish.AppendStepSummary(act.StepSummary, body); err != nil {
			errs = append(errs, fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err))
		}
	}
	if act.Output != "" {
		if err := publish.WriteOutputs(act.Output, outputs, nil); err != nil {
			errs = append(errs, fmt.Errorf("$GITHUB_OUTPUT: %w", err))
		}
	}
	return errs
}

// gateResult carries the gate's verdict out as the exit code once publishing is done.
func gateResult(code int, in publish.Input, what string) error {
	if code == exitPass {
		return nil
	}
	return withCode(code, fmt.Errorf("gate verdict %s (%s)", in.Verdict(), what))
}

func sendPlan(e *env, f publishFlags, act publish.ActionsEnv, plan publish.Plan) error {
	token := ""
	for _, v := range tokenVars {
		if token = strings.TrimSpace(e.getenv(v)); token != "" {
			break
		}
	}
	if token == "" {
		return fmt.Errorf("no GitHub token: set $%s (in Actions: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}), or use --dry-run", strings.Join(tokenVars, " or $"))
	}
	api := f.apiURL
	if api == "" {
		api = act.APIURL
	}
	client, err := publish.NewClient(publish.ClientOptions{APIURL: api, Token: token, Retry: publishRetry})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	res, err := client.Execute(ctx, plan, time.Now())
	if res.Comment != nil {
		verb := "updated"
		if res.Comment.Created {
			verb = "created"
		}
		fmt.Fprintf(e.stderr, "tailgate publish: %s comment %s\n", verb, res.Comment.URL)
	}
	if res.Statuses > 0 || res.Checks > 0 {
		fmt.Fprintf(e.stderr, "tailgate publish: %d commit statuses, %d check runs on %s\n", res.Statuses, res.Checks, plan.Target.SHA)
	}
	return err
}

// dryRunPublish prints the plan, the outputs and the annotations. In Actions the output is
// fenced with stop-commands, so that report text cannot act as a workflow command.
func dryRunPublish(e *env, act publish.ActionsEnv, plan publish.Plan, outputs []publish.Output, annotations []string) error {
	if act.InActions {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		fence := hex.EncodeToString(b)
		fmt.Fprintf(e.stdout, "::stop-commands::%s\n", fence)
		defer fmt.Fprintf(e.stdout, "::%s::\n", fence)
	}
	plan.Print(e.stdout)
	for _, a := range annotations {
		fmt.Fprintf(e.stdout, "annotation %s\n", a)
	}
	for _, o := range outputs {
		if o.Name != "report" {
			fmt.Fprintf(e.stdout, "output %s=%s\n", o.Name, o.Value)
		}
	}
	fmt.Fprintln(e.stdout, "output report=(the comment body above)")
	return nil
}

// publishTarget takes the repository, pull request and commit from the flags, else from Actions.
func publishTarget(f publishFlags, act publish.ActionsEnv) (publish.Target, error) {
	var t publish.Target
	repo := f.repo
	if repo == "" {
		repo = act.Repository
	}
	if repo != "" {
		o, r, err := publish.ParseRepo(repo)
		if err != nil {
			return t, fmt.Errorf("--repo: %w", err)
		}
		t.Owner, t.Repo = o, r
	}
	t.PR, t.SHA = f.pr, f.sha
	if ev := act.Event; ev != nil && ev.PR > 0 {
		if t.PR == 0 {
			t.PR = ev.PR
		}
		if t.SHA == "" {
			// Actions checks out a merge commit for pull requests; statuses belong on the head.
			t.SHA = ev.HeadSHA
		}
	}
	if t.SHA == "" {
		t.SHA = act.SHA
	}
	if t.PR < 0 {
		return t, fmt.Errorf("--pr %d: want a pull request number", t.PR)
	}
	return t, nil
}

// addHistory charts each suite's nightly history from the store. The chart is context, not
// verdict: a store that cannot be read costs the chart and a warning, not the publish.
func addHistory(e *env, storeFlag string, in *publish.Input, keys map[string]string) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		fmt.Fprintf(e.stderr, "tailgate publish: no history chart: %v\n", err)
		return
	}
	defer st.Close()
	for i, s := range in.Suites {
		key := keys[s.Name]
		if key == "" {
			continue
		}
		h, err := st.History(s.Name, key)
		if err != nil {
			fmt.Fprintf(e.stderr, "tailgate publish: no history chart for %s: %v\n", s.Name, err)
			continue
		}
		in.Suites[i].History = publish.HistoryPoints(h.Nightly())
	}
}

// loadPublishInput reads gate reports (or one publish input) and reports every unreadable file
// at once. It returns the reports' inconclusive policy when they agree on one, and each suite's
// environment key.
func loadPublishInput(f publishFlags, paths []string) (publish.Input, publish.Policy, map[string]string, error) {
	if f.input != "" {
		if len(paths) > 0 {
			return publish.Input{}, "", nil, fmt.Errorf("--input and report files: give one or the other")
		}
		b, err := os.ReadFile(f.input)
		if err != nil {
			return publish.Input{}, "", nil, fmt.Errorf("--input: %w", err)
		}
		var in publish.Input
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return publish.Input{}, "", nil, fmt.Errorf("--input %s: %w", f.input, err)
		}
		if in.Config == "" {
			in.Config = f.config
		}
		return in, "", nil, in.Validate()
	}
	if len(paths) == 0 {
		return publish.Input{}, "", nil, fmt.Errorf("no report: give the JSON reports of 'tailgate compare --format json' (or --input)")
	}
	in := publish.Input{Config: f.config}
	var errs []error
	policies := map[gate.InconclusivePolicy]bool{}
	keys := map[string]string{}
	for _, p := range paths {
		rep, err := publish.ReadReport(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		policies[rep.Policy] = true
		keys[rep.Suite] = rep.Pins.CandidateKey
		in.Suites = append(in.Suites, publish.FromReport(rep, render.Markdown(rep, render.MarkdownLimit)))
	}
	if err := errors.Join(errs...); err != nil {
		return in, "", nil, err
	}
	var policy publish.Policy
	if len(policies) == 1 {
		for p := range policies {
			policy, _ = publish.ParsePolicy(string(p))
		}
	}
	return in, policy, keys, in.Validate()
}
