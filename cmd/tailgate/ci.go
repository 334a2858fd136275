package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/doctor"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/measure"
	"github.com/tailgate-ci/tailgate/runner/prdata"
	"github.com/tailgate-ci/tailgate/runner/publish"
	"github.com/tailgate-ci/tailgate/runner/stress"
)

// Defaults of `tailgate ci` flags.
const (
	DefaultCIConfirm = ci.DefaultConfirm
	DefaultCIProfile = "pr"
)

func init() {
	commands["ci"] = command{"the runner step: doctor and pins, run each suite (resumable), compare, confirm, publish, history, promote", ciCmd}
}

type ciFlags struct {
	profile, config, work, store, root  string
	stress, metricsAddr, trustedLabel   string
	inconclusive, defaultBranch, ortLib string
	repo, sha, apiURL                   string
	prData, prDataRemote                string
	prDataMaxMiB                        int
	mergeBase                           string
	suites                              []string
	pr, confirm                         int
	allowUnhealthy, dryRun, noPublish   bool
	quiet                               bool
	// check overrides the config's github.check when --check is given.
	check *bool
}

func newCIFlagSet(e *env, f *ciFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("ci", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate ci --profile pr|nightly [--config tailgate.yaml] [flags]\n\nDoctor and pins (a failed pin stops here, exit 3), then per suite: run (resuming a killed run\nof the same commit), compare with the store's baseline, confirm a nightly regression by\nrerunning, publish, append the nightly history, promote per policy. Exit: the worst suite's.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.profile, "profile", DefaultCIProfile, "pr or nightly: the suites' per-profile duration and interval")
	fs.StringVar(&f.config, "config", config.DefaultFile, "tailgate.yaml")
	fs.StringArrayVar(&f.suites, "suite", nil, "run only this suite (repeatable; default all)")
	fs.StringVar(&f.work, "work", ci.DefaultWorkDir, "folder for run results and their checkpoints (a killed run resumes from here)")
	fs.StringVar(&f.store, "store", "", "store override: a folder, fs:PATH or git:URL#BRANCH (default: the config's store:)")
	fs.StringVar(&f.root, "root", host.DefaultRoot, "read /proc and /sys below DIR for doctor and telemetry")
	addMeasureFlags(fs, &f.stress, &f.metricsAddr, &f.allowUnhealthy)
	fs.IntVar(&f.confirm, "confirm", DefaultCIConfirm, "confirmation reruns of a nightly regression before it fails (0: none; overrides the config's ci.confirm)")
	fs.StringVar(&f.trustedLabel, "trusted-label", publish.DefaultTrustedLabel, "label a maintainer applies to let a fork's pull request run on this board (overrides ci.trusted_label)")
	fs.StringVar(&f.inconclusive, "inconclusive", string(gate.DefaultInconclusive), "fail|pass: exit code policy for an inconclusive suite")
	fs.StringVar(&f.defaultBranch, "default-branch", baseline.DefaultBranch, "branch whose passing runs are promoted to baseline (overrides ci.default_branch)")
	fs.StringVar(&f.repo, "repo", "", "repository owner/name to publish to (default $GITHUB_REPOSITORY)")
	fs.IntVar(&f.pr, "pr", 0, "pull request to comment on (default: from the Actions event)")
	fs.StringVar(&f.sha, "sha", "", "commit for statuses (default: the pull request head, else $GITHUB_SHA)")
	fs.StringVar(&f.apiURL, "api-url", "", "GitHub REST API root (default $GITHUB_API_URL)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what would be published instead of sending it (no token needed)")
	fs.BoolVar(&f.noPublish, "no-publish", false, "do not publish to GitHub")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.StringVar(&f.prData, "pr-data", "", "trusted-base pull-request mode (pull_request_target): take the suites' models and ci.pr_data files from this pull request commit (40 hex digits), fetched by SHA, never checked out")
	fs.StringVar(&f.prDataRemote, "pr-data-remote", "", "repository to fetch --pr-data from (default $GITHUB_SERVER_URL/$GITHUB_REPOSITORY.git)")
	fs.IntVar(&f.prDataMaxMiB, "pr-data-max-mib", int(prdata.DefaultMaxBytes>>20), "cap on each --pr-data file in MiB (overrides ci.pr_data_max_mib)")
	fs.StringVar(&f.mergeBase, "merge-base", "", "pr profile: the merge base to measure changed models against, interleaved (default: git merge-base HEAD origin/$GITHUB_BASE_REF in a pull request; \"none\": always the stored baseline)")
	addORTFlag(fs, &f.ortLib)
	fs.Bool("check", false, "also create a check run per config (default: the config's github.check)")
	return fs
}

// ciJob is a validated `tailgate ci`: the flags, the configuration loaded once, the suites to
// run and their plans.
type ciJob struct {
	f        ciFlags
	cfg      *config.Config
	names    []string
	policy   gate.InconclusivePolicy
	measurer *ci.SuiteMeasurer
	// git is the commit measured: the checkout's, or the pull request's under --pr-data.
	git result.Git
}

func ciCmd(e *env, args []string) error {
	var f ciFlags
	fs := newCIFlagSet(e, &f)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	job, err := ciValidate(e, fs, f)
	if err != nil {
		return withCode(exitError, err)
	}
	// Untrusted code must not run on the board: the fork guard comes before anything runs.
	act, err := publish.FromActions(e.getenv)
	if err != nil {
		return withCode(exitError, err)
	}
	// Under --pr-data on pull_request_target nothing of the pull request runs: the workflow,
	// config and binary are the base branch's and the PR supplies data only (runner/prdata).
	if act.Event != nil && !(job.f.prData != "" && act.EventName == "pull_request_target") {
		if err := publish.TrustedPR(act.Event, job.f.trustedLabel); err != nil {
			return withCode(exitError, err)
		}
	}
	if code, err := ciDoctor(e, job.f, job.cfg); err != nil {
		return withCode(code, err)
	}
	return ciRun(e, job, act)
}

// ciValidate checks every flag and every suite's plan, all problems at once, before doctor and
// before anything is measured: a bad rule in a nightly suite costs milliseconds, not a night.
func ciValidate(e *env, fs *pflag.FlagSet, f ciFlags) (*ciJob, error) {
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if f.profile != "pr" && f.profile != "nightly" {
		errs = append(errs, fmt.Errorf("--profile %q: want pr or nightly", f.profile))
	}
	policy, err := parsePolicy(f.inconclusive)
	errs = append(errs, err)
	if f.confirm < 0 {
		errs = append(errs, fmt.Errorf("--confirm %d: want 0 or more", f.confirm))
	}
	if f.sha != "" {
		if _, err := publish.ParseSHA(f.sha); err != nil {
			errs = append(errs, fmt.Errorf("--sha: %w", err))
		}
	}
	if f.stress != "" {
		if _, err := stress.Split(f.stress); err != nil {
			errs = append(errs, fmt.Errorf("--stress: %w", err))
		}
	}
	if fs.Changed("check") {
		v, _ := fs.GetBool("check")
		f.check = &v
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		errs = append(errs, fmt.Errorf("--config: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ciFromConfig(fs, &f, cfg.CI)
	names := f.suites
	if len(names) == 0 {
		names = cfg.SuiteNames()
	}
	for _, n := range names {
		if _, err := cfg.Suite(n); err != nil {
			errs = append(errs, fmt.Errorf("--suite: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	git := measure.GitInfo(e.getenv)
	if f.prData != "" {
		if git, err = ciPRData(e, fs, f, cfg, names, git); err != nil {
			return nil, err
		}
	}
	mode := progress.Plain
	if f.quiet {
		mode = progress.Quiet
	}
	online, _ := host.OnlineCPUs("/") // the timing thread is pinned on this host, whatever --root says
	m, err := ci.NewSuiteMeasurer(cfg, names, measure.Request{Profile: f.profile, Online: online}, measure.Options{
		ORT: func() (ortlib.Library, error) { return loadORT(e, f.ortLib) }, EchoWorker: echoWorker(), Root: f.root, Stress: f.stress,
		MetricsAddr: f.metricsAddr, AllowUnhealthy: f.allowUnhealthy, Log: e.stderr, Progress: mode,
		Git: git, Tool: toolInfo(),
	})
	if err != nil {
		return nil, err
	}
	return &ciJob{f: f, cfg: cfg, names: names, policy: policy, measurer: m, git: git}, nil
}

// ciRun opens the store, runs the pipeline per suite and publishes the outcomes.
func ciRun(e *env, job *ciJob, act publish.ActionsEnv) error {
	f, cfg := job.f, job.cfg
	spec := baseline.Spec{Kind: cfg.Store.Kind, Path: cfg.Store.Path, Repo: cfg.Store.Repo, Branch: cfg.Store.Branch}
	var err error
	if f.store != "" {
		if spec, err = baseline.ParseSpec(f.store); err != nil {
			return withCode(exitError, fmt.Errorf("--store: %w", err))
		}
	}
	st, err := openStoreSpec(e, spec)
	if err != nil {
		return withCode(exitError, err)
	}
	defer st.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	p := &ci.Pipeline{Config: cfg, Profile: f.profile, Work: f.work, Store: st, Measurer: job.measurer,
		Confirm: f.confirm, DefaultBranch: f.defaultBranch, Git: job.git, Job: actionsJob(e),
		Gate: gateOptions(job.policy, false, false), Log: e.stderr, MergeBase: ciMergeBase(e, f)}
	outcomes, worst := p.RunAll(ctx, job.names, func(o ci.Outcome) {
		if o.Err != nil {
			fmt.Fprintf(e.stderr, "tailgate ci: %s: %v\n", o.Suite, o.Err)
		}
		for _, n := range o.Notes {
			fmt.Fprintf(e.stderr, "tailgate ci: %s: %s\n", o.Suite, n)
		}
		if o.Report != nil {
			fmt.Fprintf(e.stdout, "%s: %s (exit %d)\n", o.Suite, o.Report.Headline, o.Code)
		}
	})
	removed, keep, err := p.Prune(cfg.CI.Keep)
	if err != nil {
		fmt.Fprintf(e.stderr, "tailgate ci: %v\n", err)
	}
	if len(removed) > 0 {
		fmt.Fprintf(e.stderr, "tailgate ci: removed %d old run folder(s) from %s (ci.keep: %d)\n", len(removed), f.work, keep)
	}
	if act.Output != "" {
		if err := publish.WriteOutputs(act.Output, []publish.Output{ci.ResultsOutput(p.Used())}, nil); err != nil {
			fmt.Fprintf(e.stderr, "tailgate ci: $GITHUB_OUTPUT: %v\n", err)
			worst = gate.WorseExit(worst, exitError)
		}
	}
	if !f.noPublish {
		if err := ciPublish(e, job, st, act, outcomes); err != nil {
			fmt.Fprintf(e.stderr, "tailgate ci: publish: %v\n", err)
			worst = gate.WorseExit(worst, exitError)
		}
	}
	if worst != exitPass {
		return withCode(worst, fmt.Errorf("%d suite(s), worst exit %d", len(outcomes), worst))
	}
	return nil
}

// ciPRData is the data step of the trusted-base pull-request mode: it fetches the files the
// configuration takes from the pull request (runner/prdata) into the work folder, points cfg
// at them, and returns the commit the run is of (the pull request's, never a branch's, so it
// is never promoted).
func ciPRData(e *env, fs *pflag.FlagSet, f ciFlags, cfg *config.Config, names []string, checkout result.Git) (result.Git, error) {
	if f.profile != "pr" {
		return checkout, fmt.Errorf("--pr-data with --profile %s: pull request data is for pr runs", f.profile)
	}
	maxMiB := f.prDataMaxMiB
	if cfg.CI.PRDataMaxMiB > 0 && !fs.Changed("pr-data-max-mib") {
		maxMiB = cfg.CI.PRDataMaxMiB
	}
	if maxMiB <= 0 {
		return checkout, fmt.Errorf("--pr-data-max-mib %d: want 1 or more", maxMiB)
	}
	act, err := publish.FromActions(e.getenv)
	if err != nil {
		return checkout, err
	}
	r := prdata.Request{Config: cfg, Names: names, SHA: f.prData, Checkout: checkout, Remote: f.prDataRemote,
		Work: f.work, MaxBytes: int64(maxMiB) << 20}
	if ev := act.Event; ev != nil {
		r.PR, r.HeadSHA = ev.PR, ev.HeadSHA
	}
	if r.Remote == "" && e.getenv("GITHUB_SERVER_URL") != "" && e.getenv("GITHUB_REPOSITORY") != "" {
		r.Remote = e.getenv("GITHUB_SERVER_URL") + "/" + e.getenv("GITHUB_REPOSITORY") + ".git"
	}
	g, notes, err := prdata.Prepare(context.Background(), r)
	for _, n := range notes {
		fmt.Fprintf(e.stderr, "tailgate ci: pr-data: %s\n", n)
	}
	if err != nil {
		return checkout, fmt.Errorf("--pr-data: %w", err)
	}
	return g, nil
}

// actionsJob names this CI job: the Actions run id and attempt, empty outside Actions.
func actionsJob(e *env) string {
	id := e.getenv("GITHUB_RUN_ID")
	if id == "" {
		return ""
	}
	return id + "." + e.getenv("GITHUB_RUN_ATTEMPT")
}

// ciFromConfig fills the flags the command line did not set from the config's ci: section.
func ciFromConfig(fs *pflag.FlagSet, f *ciFlags, c config.CI) {
	if c.Confirm != nil && !fs.Changed("confirm") {
		f.confirm = *c.Confirm
	}
	if c.DefaultBranch != "" && !fs.Changed("default-branch") {
		f.defaultBranch = c.DefaultBranch
	}
	if c.TrustedLabel != "" && !fs.Changed("trusted-label") {
		f.trustedLabel = c.TrustedLabel
	}
}

// ciDoctor checks the host and the pins. Only failing pins stop the run (exit 3): a host check
// that fails (no PREEMPT_RT, say) makes noisier numbers, which the gate's intervals absorb.
func ciDoctor(e *env, f ciFlags, cfg *config.Config) (int, error) {
	o := doctor.OptionsFromConfig(cfg)
	o.Root, o.ToolVersion = f.root, version
	o.ORT = func() (ortlib.Library, error) { return loadORT(e, f.ortLib) }
	rep := doctor.Run(o)
	pass, warn, fail := rep.Counts()
	fmt.Fprintf(e.stderr, "tailgate ci: doctor: %d pass, %d warn, %d fail\n", pass, warn, fail)
	if rep.PinsFailed() {
		_ = doctor.WriteTable(e.stderr, rep)
		return exitIncomparable, errors.New("pins failed: not running (a result here would not be comparable with its baseline)")
	}
	for _, c := range rep.Checks {
		if c.Status == doctor.Fail {
			fmt.Fprintf(e.stderr, "tailgate ci: doctor: FAIL %s: %s\n", c.ID, c.Detail)
		}
	}
	return exitPass, nil
}

// addMeasureFlags registers the flags run and ci share for what surrounds a measurement.
func addMeasureFlags(fs *pflag.FlagSet, stressCmd, metricsAddr *string, allowUnhealthy *bool) {
	fs.StringVar(stressCmd, "stress", "", `background load started after warm-up and ended with the run (its whole process group), e.g. "stress-ng --cpu 1 --vm 1"`)
	fs.StringVar(metricsAddr, "metrics-addr", "", "serve Prometheus metrics of the run in progress on HOST:PORT (e.g. 127.0.0.1:9464)")
	fs.BoolVar(allowUnhealthy, "allow-unhealthy", false, "gate a run despite throttling, under-voltage or a frequency change (recorded in meta.json as overridden)")
}

// ciPublish sends one PR comment for the config (with each suite's nightly history) and a
// status per suite, through the same path as `tailgate publish`.
func ciPublish(e *env, job *ciJob, st baseline.Store, act publish.ActionsEnv, outcomes []ci.Outcome) error {
	f, cfg := job.f, job.cfg
	in, keys := ci.PublishInput(cfg, outcomes, act)
	for _, w := range publish.AddHistory(st, &in, keys) {
		fmt.Fprintf(e.stderr, "tailgate ci: %s\n", w)
	}
	publish.AddSiteLinks(&in, cfg.GitHub.SiteURL, keys)
	target, err := resolveTarget(f.repo, f.pr, f.sha, act)
	if err != nil {
		return err
	}
	if target.Owner == "" {
		fmt.Fprintln(e.stderr, "tailgate ci: no repository (--repo or $GITHUB_REPOSITORY): not publishing")
		return nil
	}
	opts := ci.PublishOptions(cfg.GitHub, f.check, job.policy)
	_, err = publish.Deliver(context.Background(), publish.Delivery{Input: in, Target: target, Options: opts, Actions: act,
		Token: publish.Token(e.getenv), APIURL: f.apiURL, Retry: publishRetry, DryRun: f.dryRun,
		Stdout: e.stdout, Log: e.stderr, Name: "tailgate ci: publish"})
	return err
}
