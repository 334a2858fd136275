package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/doctor"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/metrics"
	"github.com/tailgate-ci/tailgate/runner/publish"
	"github.com/tailgate-ci/tailgate/runner/stress"
	"github.com/tailgate-ci/tailgate/runner/telemetry"
)

// Defaults of `tailgate ci` flags.
const (
	// DefaultCIConfirm is how many confirmation reruns a nightly regression gets before it fails.
	DefaultCIConfirm = 1
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
	suites                              []string
	pr, confirm                         int
	allowUnhealthy, dryRun, noPublish   bool
	quiet                               bool
	// check overrides the config's github.check when --check is given.
	check *bool
}

// suiteOutcome is one suite's gate report and what ci did with it.
type suiteOutcome struct {
	name   string
	report *gate.Report
	code   int
	err    error
	notes  []string
}

func ciCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("ci", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate ci --profile pr|nightly [--config tailgate.yaml] [flags]\n\nDoctor and pins (a failed pin stops here, exit 3), then per suite: run (resuming a killed run\nof the same commit), compare with the store's baseline, confirm a nightly regression by\nrerunning, publish, append the nightly history, promote per policy. Exit: the worst suite's.\n\nflags:")
		fs.PrintDefaults()
	}
	var f ciFlags
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
	addORTFlag(fs, &f.ortLib)
	check := fs.Bool("check", false, "also create a check run per config (default: the config's github.check)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	if fs.Changed("check") {
		f.check = check
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if f.profile != "pr" && f.profile != "nightly" {
		errs = append(errs, fmt.Errorf("--profile %q: want pr or nightly", f.profile))
	}
	policy := gate.InconclusivePolicy(f.inconclusive)
	if policy != gate.InconclusiveFail && policy != gate.InconclusivePass {
		errs = append(errs, fmt.Errorf("--inconclusive %q: want fail or pass", f.inconclusive))
	}
	if f.confirm < 0 {
		errs = append(errs, fmt.Errorf("--confirm %d: want 0 or more", f.confirm))
	}
	if f.stress != "" {
		if _, err := stress.Split(f.stress); err != nil {
			errs = append(errs, fmt.Errorf("--stress: %w", err))
		}
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		errs = append(errs, fmt.Errorf("--config: %w", err))
	}
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
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
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
	}

	// Untrusted code must not run on the board: the fork guard comes before anything runs.
	act, err := publish.FromActions(e.getenv)
	if err != nil {
		return withCode(exitError, err)
	}
	if act.Event != nil {
		if err := publish.TrustedPR(act.Event, f.trustedLabel); err != nil {
			return withCode(exitError, err)
		}
	}

	if code, err := ciDoctor(e, f, cfg); err != nil {
		return withCode(code, err)
	}

	spec := baseline.Spec{Kind: cfg.Store.Kind, Path: cfg.Store.Path, Repo: cfg.Store.Repo, Branch: cfg.Store.Branch}
	if f.store != "" {
		if spec, err = baseline.ParseSpec(f.store); err != nil {
			return withCode(exitError, err)
		}
	}
	st, err := openStoreSpec(e, spec)
	if err != nil {
		return withCode(exitError, err)
	}
	defer st.Close()

	var outcomes []suiteOutcome
	for _, name := range names {
		o := ciSuite(e, f, cfg, st, name, policy)
		if o.err != nil {
			fmt.Fprintf(e.stderr, "tailgate ci: %s: %v\n", name, o.err)
		}
		for _, n := range o.notes {
			fmt.Fprintf(e.stderr, "tailgate ci: %s: %s\n", name, n)
		}
		if o.report != nil {
			fmt.Fprintf(e.stdout, "%s: %s (exit %d)\n", name, o.report.Headline, o.code)
		}
		outcomes = append(outcomes, o)
		if errors.Is(o.err, errInterrupted) {
			break
		}
	}

	worst := exitPass
	for _, o := range outcomes {
		worst = publish.Worst(worst, o.code)
	}
	if !f.noPublish {
		if err := ciPublish(e, f, cfg, act, outcomes, policy); err != nil {
			fmt.Fprintf(e.stderr, "tailgate ci: publish: %v\n", err)
			worst = publish.Worst(worst, exitError)
		}
	}
	if worst != exitPass {
		return withCode(worst, fmt.Errorf("%d suite(s), worst exit %d", len(outcomes), worst))
	}
	return nil
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

// ciRerun measures a confirmation run. It is a variable for one reason: a test must be able to
// make the rerun differ from the first run, which on a board is the machine's doing (a cron
// job, a thermal event) and cannot be summoned on demand.
var ciRerun = ciMeasure

// ciDoctor checks the host and the pins. Only failing pins stop the run (exit 3): a host check
// that fails (no PREEMPT_RT, say) makes noisier numbers, which the gate's intervals absorb.
func ciDoctor(e *env, f ciFlags, cfg *config.Config) (int, error) {
	o := doctorOptionsFromConfig(cfg)
	o.Root, o.ToolVersion = f.root, version
	o.ORT = func() (ortlib.Library, error) { return loadORT(e, f.ortLib) }
	rep := doctor.Run(o)
	pass, warn, fail := rep.Counts()
	fmt.Fprintf(e.stderr, "tailgate ci: doctor: %d pass, %d warn, %d fail\n", pass, warn, fail)
	if rep.PinsFailed() {
		_ = renderDoctor(e.stderr, rep)
		return exitIncomparable, errors.New("pins failed: not running (a result here would not be comparable with its baseline)")
	}
	for _, c := range rep.Checks {
		if c.Status == doctor.Fail {
			fmt.Fprintf(e.stderr, "tailgate ci: doctor: FAIL %s: %s\n", c.ID, c.Detail)
		}
	}
	return exitPass, nil
}

var errInterrupted = errors.New("interrupted")

// ciSuite runs, compares, confirms, records and promotes one suite.
func ciSuite(e *env, f ciFlags, cfg *config.Config, st baseline.Store, name string, policy gate.InconclusivePolicy) suiteOutcome {
	out := suiteOutcome{name: name, code: exitError}
	g := gitInfo(e)
	dir := ci.RunDir(f.work, name, f.profile, g.Commit, 0)
	cand, err := ciMeasure(e, f, cfg, name, dir, g)
	if err != nil {
		out.err = err
		if errors.Is(err, errInterrupted) {
			out.code = exitInconclusive
		}
		return out
	}
	base, baseRun, err := ciBaseline(st, cand.Meta)
	if err != nil {
		out.err = err
		return out
	}
	rep, err := ciCompare(cfg, name, base, cand, policy)
	if err != nil {
		out.err = err
		return out
	}

	// A nightly regression is measured again before it fails the night: a one-off (a cron job,
	// a thermal event the telemetry missed) should not page anyone.
	if f.profile == "nightly" && rep.Verdict == gate.VerdictRegression {
		for i := 1; i <= f.confirm; i++ {
			cdir := ci.RunDir(f.work, name, f.profile, g.Commit, i)
			again, err := ciRerun(e, f, cfg, name, cdir, g)
			if err != nil {
				out.err = fmt.Errorf("confirmation run %d: %w", i, err)
				return out
			}
			crep, err := ciCompare(cfg, name, base, again, policy)
			if err != nil {
				out.err = err
				return out
			}
			if crep.Verdict != gate.VerdictRegression {
				out.notes = append(out.notes, fmt.Sprintf("the regression was not confirmed: confirmation run %d says %s (%s)", i, crep.Verdict, crep.Headline))
				crep.Verdict = gate.Worse(crep.Verdict, gate.VerdictInconclusive)
				crep.ExitCode = crep.Verdict.ExitCode(policy)
				crep.Notes = append(crep.Notes, fmt.Sprintf("the first run regressed (%s); confirmation run %d did not", rep.Headline, i))
				if crep.Verdict == gate.VerdictInconclusive {
					// The rerun's own headline would read "pass" beside exit 4 (in the PR comment and
					// the commit status too): say why the suite is inconclusive instead.
					crep.Headline = unconfirmedHeadline(name, rep.Headline, i)
				}
				rep = crep
				break
			}
			out.notes = append(out.notes, fmt.Sprintf("confirmation run %d regressed too: %s", i, crep.Headline))
		}
	}
	out.report, out.code = rep, rep.ExitCode

	// Keep what the store needs: every nightly (its history) and every run that may become
	// the baseline; pull-request runs stay in the work folder (and the job's artifacts).
	m := cand.Meta
	verdict := string(rep.Verdict)
	if base == nil {
		verdict = ""
	}
	promotable, _ := baseline.CheckPolicy(m, base != nil, baseline.Promotion{Verdict: verdict, DefaultBranch: f.defaultBranch})
	if f.profile != "nightly" && promotable == "" {
		if base == nil {
			out.notes = append(out.notes, "no baseline for this suite and environment; this run is not from the default branch, so it does not become one")
		}
		return out
	}
	info, err := st.Add(dir)
	if err != nil {
		out.err = fmt.Errorf("store: %w", err)
		out.code = publish.Worst(out.code, exitError)
		return out
	}
	if f.profile == "nightly" {
		night := string(rep.Verdict)
		if base == nil && promotable != "" {
			// The first night of an environment is compared with nothing: it is the baseline
			// to be, not an incomparable night.
			night = "bootstrap"
		}
		if err := st.Append(baseline.NightlyEntry(m, info.ID, baseRun, night, time.Now())); err != nil {
			out.err = fmt.Errorf("history: %w", err)
			out.code = publish.Worst(out.code, exitError)
		}
	}
	if promotable == "" {
		return out
	}
	h, err := st.Promote(baseline.Promotion{Suite: m.Suite, Key: info.Key, Run: info.ID, Verdict: verdict,
		DefaultBranch: f.defaultBranch, By: "tailgate ci", Time: time.Now()})
	switch {
	case errors.Is(err, baseline.ErrPolicy):
		out.notes = append(out.notes, err.Error())
	case err != nil:
		out.err = fmt.Errorf("promote: %w", err)
		out.code = publish.Worst(out.code, exitError)
	default:
		out.notes = append(out.notes, fmt.Sprintf("run %s is now the baseline (%s)", info.ID, h.Rule))
		if base == nil && rep.Verdict == gate.VerdictIncomparable {
			// The first run of an environment has nothing to be compared with; becoming the
			// baseline is what it was for.
			rep.Headline = "no baseline yet: this run became the baseline"
			rep.Verdict, rep.ExitCode, out.code = gate.VerdictPass, exitPass, exitPass
		}
	}
	return out
}

// unconfirmedHeadline is the headline of a nightly regression that confirmation run i did not
// reproduce, within the gate's headline limit.
func unconfirmedHeadline(suite, first string, i int) string {
	s := fmt.Sprintf("%s inconclusive: confirmation run %d did not reproduce the regression (%s)", suite, i,
		strings.TrimPrefix(first, suite+" "))
	if len(s) <= gate.HeadlineMax {
		return s
	}
	r := []rune(s)
	for len(string(r)) > gate.HeadlineMax-len("…)") {
		r = r[:len(r)-1]
	}
	return string(r) + "…)"
}

// ciBaseline reads the stored baseline of the candidate's suite and environment; none is not an
// error (the comparison says incomparable, and a default-branch run bootstraps it).
func ciBaseline(st baseline.Store, m *result.Meta) (*result.Result, string, error) {
	key := m.Env.Key()
	r, err := st.Baseline(m.Suite, key)
	if errors.Is(err, baseline.ErrNoBaseline) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	p, err := st.Pointer(m.Suite, key)
	if err != nil {
		return nil, "", err
	}
	return r, p.Run, nil
}

func ciCompare(cfg *config.Config, name string, base, cand *result.Result, policy gate.InconclusivePolicy) (*gate.Report, error) {
	srcs, isDefault, err := compareRules(compareFlags{config: cfg.Path, suite: name}, name)
	if err != nil {
		return nil, err
	}
	rules, err := gate.ParseRules(srcs)
	if err != nil {
		return nil, err
	}
	return gate.CompareResults(base, cand, rules, gateOptions(policy, isDefault, false))
}

// ciMeasure measures suite name into dir, resuming a killed run of the same commit, profile
// and configuration, or reuses a finished one.
func ciMeasure(e *env, f ciFlags, cfg *config.Config, name, dir string, g result.Git) (*result.Result, error) {
	rf := runFlags{config: cfg.Path, suite: name, profile: f.profile, backend: DefaultRunBackend, ortLib: f.ortLib,
		warmup: DefaultRunWarmup, seed: DefaultRunSeed, threads: ortbackend.DefaultThreads, schedText: sched.DefaultPolicy,
		synth: synthetic.DefaultSpec, spinning: ortbackend.DefaultSpinning, quiet: f.quiet}
	// No flag is set, so every value comes from the suite (or the run defaults); the out folder
	// is checked below against the checkpoint instead.
	plan, err := resolvePlan(e, pflag.NewFlagSet("ci-run", pflag.ContinueOnError), rf)
	if err != nil {
		return nil, err
	}
	plan.out = dir

	var rec *ci.Recovered
	state, err := ci.ReadState(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			return nil, fmt.Errorf("%s exists without %s: not a tailgate ci run folder; move it away", dir, ci.StateFile)
		}
	case err != nil:
		return nil, err
	default:
		if why := state.Matches(name, f.profile, g.Commit, cfg.Digest); why != "" {
			old := dir + ".stale-" + time.Now().UTC().Format("20060102T150405")
			fmt.Fprintf(e.stderr, "tailgate ci: %s: %s; moved to %s, starting over\n", dir, why, old)
			if err := os.Rename(dir, old); err != nil {
				return nil, err
			}
			state = nil
		} else if state.State == ci.StateMeasured {
			fmt.Fprintf(e.stderr, "tailgate ci: %s: already measured for this commit; reusing it\n", dir)
			return result.Read(dir)
		} else {
			if rec, err = ci.Recover(dir); err != nil {
				return nil, fmt.Errorf("%s: cannot resume: %w", dir, err)
			}
			state.Resumes++
			fmt.Fprintf(e.stderr, "tailgate ci: %s: resuming after %d intervals (%s measured)%s\n", dir, rec.Intervals,
				rec.Elapsed.Round(time.Millisecond), cutNote(rec.Cut))
		}
	}
	if state == nil {
		state = &ci.State{Suite: name, Profile: f.profile, Commit: g.Commit, ConfigDigest: cfg.Digest,
			Duration: plan.duration, State: ci.StateRunning}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := ci.WriteState(dir, state); err != nil {
		return nil, err
	}
	m, err := measure(e, plan, measureOptions{ortLib: f.ortLib, root: f.root, stress: f.stress, metricsAddr: f.metricsAddr,
		allowUnhealthy: f.allowUnhealthy, quiet: f.quiet, resume: rec})
	if err != nil {
		return nil, err
	}
	state.State = ci.StateMeasured
	if err := ci.WriteState(dir, state); err != nil {
		return nil, err
	}
	r, err := result.Read(dir)
	if err != nil {
		return nil, err
	}
	s := m.Summary
	fmt.Fprintf(e.stderr, "tailgate ci: %s: %d samples in %d intervals  p50 %s  p99 %s  max %s  → %s\n", name, s.Count,
		m.Counts.Intervals, progress.Ns(s.P50), progress.Ns(s.P99), progress.Ns(s.Max), dir)
	return r, nil
}

func cutNote(cut []string) string {
	if len(cut) == 0 {
		return ""
	}
	return "; cut " + strings.Join(cut, "; ")
}

// measureOptions are what a measurement adds to a run plan: where host readings come from,
// the background load, the metrics endpoint, the health override, and the run to resume.
type measureOptions struct {
	ortLib, root, stress, metricsAddr string
	allowUnhealthy, quiet, live       bool
	resume                            *ci.Recovered
	// writeInterrupted: a run stopped by SIGINT/SIGTERM writes meta.json marked unhealthy
	// (tailgate run). Without it none is written, so that `ci` resumes the run instead.
	writeInterrupted bool
}

// addMeasureFlags registers the flags run and ci share for what surrounds a measurement.
func addMeasureFlags(fs *pflag.FlagSet, stressCmd, metricsAddr *string, allowUnhealthy *bool) {
	fs.StringVar(stressCmd, "stress", "", `background load started after warm-up and ended with the run (its whole process group), e.g. "stress-ng --cpu 1 --vm 1"`)
	fs.StringVar(metricsAddr, "metrics-addr", "", "serve Prometheus metrics of the run in progress on HOST:PORT (e.g. 127.0.0.1:9464)")
	fs.BoolVar(allowUnhealthy, "allow-unhealthy", false, "gate a run despite throttling, under-voltage or a frequency change (recorded in meta.json as overridden)")
}

// measure times plan into plan.out with telemetry, health, an optional background load and
// metrics endpoint, appending to a recovered run when mo.resume is set. It writes meta.json
// last; an interrupted run writes none, so that it can be resumed.
func measure(e *env, p *runPlan, mo measureOptions) (*result.Meta, error) {
	rec := mo.resume
	if mo.stress != "" {
		if _, err := stress.Split(mo.stress); err != nil {
			return nil, fmt.Errorf("--stress: %w", err)
		}
	}
	b, err := openBackend(e, p, mo.ortLib)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var throttle sched.Throttle
	if p.policy.Kind == sched.FIFO {
		if throttle, err = sched.ReadThrottle("/"); err != nil {
			fmt.Fprintf(e.stderr, "warning: cannot read RT throttling settings (%v); the FIFO loop is not paced\n", err)
		}
	}
	fp, fpErr := host.Collect(host.Options{CPUs: p.cpus, ToolVersion: version})
	if fpErr != nil {
		fmt.Fprintf(e.stderr, "warning: %v\n", fpErr)
	}

	logPath, telPath := filepath.Join(p.out, result.LatencyFile), filepath.Join(p.out, result.TelemetryFile)
	var lw *result.LogWriter
	var tf *os.File
	offset := 0
	if rec != nil {
		offset = rec.Intervals
		if lw, err = result.AppendLog(logPath, rec.LogStart); err != nil {
			return nil, err
		}
		tf, err = os.OpenFile(telPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	} else {
		if lw, err = result.CreateLog(logPath, time.Now()); err != nil {
			return nil, err
		}
		tf, err = os.OpenFile(telPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	defer lw.Close()
	if err != nil {
		return nil, err
	}
	defer tf.Close()

	duration := p.duration
	if rec != nil && duration > 0 {
		duration -= rec.Elapsed
	}

	var x *metrics.Exporter
	if mo.metricsAddr != "" {
		x = metrics.New(metrics.Options{Suite: p.suite, Profile: p.profile, Duration: duration, Iterations: p.iterations})
		srv, err := metrics.Serve(mo.metricsAddr, x)
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		fmt.Fprintf(e.stderr, "tailgate: metrics on %s\n", srv.URL())
	}
	smp, err := telemetry.New(telemetry.Options{Root: mo.root, CPUs: p.cpus, Out: tf,
		OnSample: func(t result.Telemetry) {
			if x != nil {
				x.OnTelemetry(t)
			}
		}})
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: telemetry: %v\n", err)
	}

	mode := progress.Plain
	if mo.quiet {
		mode = progress.Quiet
	} else if mo.live {
		mode = progress.Live
	}
	pr := progress.New(e.stderr, mode, duration, p.iterations)
	var stop atomic.Bool
	var sig atomic.Value
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	quit := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			sig.Store(s.String())
			stop.Store(true)
		case <-quit:
		}
	}()
	defer close(quit)

	var sink harness.Sink = logSink{lw}
	if x != nil {
		sink = x.Sink(sink)
	}
	opts := harness.Options{
		Duration: duration, Iterations: p.iterations, WarmupDuration: p.warmupDur, WarmupIterations: p.warmupN,
		Interval: p.interval, CPUs: firstCPU(p.cpus), Sched: p.policy, Mlock: p.mlock, Throttle: throttle,
		Sink: sink, Stop: &stop, Open: p.open,
		OnInterval: func(st harness.IntervalStats) {
			st.Index += offset
			pr.Interval(st)
			smp.OnInterval(st)
			if x != nil {
				x.OnInterval(st)
			}
		},
	}
	smp.Start()
	var stressProc *stress.Process
	var warm *harness.Report
	if mo.stress != "" {
		// The load starts after warm-up: warm up (and calibrate) in a run of its own, start the
		// load, then time without a second warm-up.
		wo := opts
		wo.Duration, wo.Iterations, wo.Sink, wo.OnInterval = p.warmupDur, p.warmupN, discardSink{}, nil
		wo.WarmupDuration, wo.WarmupIterations = 0, 0
		if wo.Duration == 0 && wo.Iterations == 0 {
			wo.Iterations = 1
		}
		if warm, err = harness.Run(b, wo); err != nil {
			_ = smp.Close()
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		if stressProc, err = stress.Start(mo.stress, stress.Options{}); err != nil {
			_ = smp.Close()
			return nil, err
		}
		defer stressProc.Stop()
		opts.WarmupDuration, opts.WarmupIterations, opts.Calibration = 0, 0, -1
	}
	rep, runErr := harness.Run(b, opts)
	if stressProc != nil {
		if err := stressProc.Stop(); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("--stress: %w", err))
		}
	}
	telErr := smp.Close()
	pr.Done()
	if rep == nil {
		return nil, runErr
	}
	if warm != nil {
		rep.Calibration, rep.Warmup = warm.Calibration, warm.Samples
	}
	interrupted, _ := sig.Load().(string)
	if !rep.Stopped {
		interrupted = ""
	}
	if interrupted != "" && !mo.writeInterrupted {
		return nil, fmt.Errorf("%w by %s: %s keeps the %d intervals measured so far; rerun the same command to resume", errInterrupted, interrupted, p.out, offset+rep.Intervals)
	}
	if telErr != nil {
		runErr = errors.Join(runErr, telErr)
	}

	m := buildMeta(e, p, b, fp, rep)
	// The log holds every interval, the resumed part included: counts and summary come from it.
	log, err := result.ReadLog(filepath.Join(p.out, result.LatencyFile))
	if err != nil {
		return nil, err
	}
	r := &result.Result{Dir: p.out, Meta: m, Log: log}
	merged := r.Merged()
	m.Summary = result.Summarize(merged)
	m.Counts.Samples = merged.TotalCount()
	m.Counts.Intervals = offset + rep.Intervals
	if tags := r.Tags(); len(tags) > 1 {
		m.Classes = map[string]result.Summary{}
		for _, t := range tags {
			m.Classes[t] = result.Summarize(result.Merge(log.Intervals, func(iv result.Interval) bool { return iv.Tag == t }))
		}
	}
	reasons := smp.Reasons()
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	if rec != nil {
		m.Start = rec.Start
		reasons = append(telemetry.FromTelemetry(rec.Telemetry, 0), reasons...)
		m.Tags["resumed"] = fmt.Sprintf("after interval %d (%s measured; %s gap)", rec.Intervals, rec.Elapsed.Round(time.Millisecond),
			rep.Start.Sub(rec.End).Round(time.Second))
	}
	if mo.stress != "" {
		m.Tags["stress"] = mo.stress
	}
	if len(m.Tags) == 0 {
		m.Tags = nil
	}
	if interrupted != "" {
		reasons = append(reasons, fmt.Sprintf("interrupted by %s after %s", interrupted, m.End.Sub(m.Start).Round(time.Millisecond)))
	}
	m.Health = telemetry.Apply(m.Health, reasons, mo.allowUnhealthy)
	if x != nil {
		x.SetHealthy(m.Health.Healthy)
	}
	if err := result.WriteMeta(p.out, m); err != nil {
		return nil, errors.Join(runErr, err)
	}
	// A backend that failed mid-run still leaves its partial result, with the error.
	if runErr != nil {
		return m, runErr
	}
	if interrupted != "" {
		return m, fmt.Errorf("%w by %s", errInterrupted, interrupted)
	}
	return m, nil
}

type discardSink struct{}

func (discardSink) WriteInterval(harness.Interval) error { return nil }

// ciPublish sends one PR comment for the config and a status per suite.
func ciPublish(e *env, f ciFlags, cfg *config.Config, act publish.ActionsEnv, outcomes []suiteOutcome, policy gate.InconclusivePolicy) error {
	name := strings.TrimSuffix(filepath.Base(cfg.Path), filepath.Ext(cfg.Path))
	in := publish.Input{Config: name, RunURL: act.RunURL, ArtifactsURL: act.ArtifactsURL}
	for _, o := range outcomes {
		if o.report != nil {
			in.Suites = append(in.Suites, publish.FromReport(o.report, render.Markdown(o.report, render.MarkdownLimit)))
			continue
		}
		reason := "no result"
		if o.err != nil {
			reason = o.err.Error()
		}
		in.Suites = append(in.Suites, publish.Suite{Name: o.name, Verdict: publish.VerdictError, ExitCode: o.code, Headline: "error: " + oneLineText(reason), Reason: reason})
	}
	sort.SliceStable(in.Suites, func(i, j int) bool { return in.Suites[i].Name < in.Suites[j].Name })
	target, err := publishTarget(publishFlags{repo: f.repo, pr: f.pr, sha: f.sha}, act)
	if err != nil {
		return err
	}
	if target.Owner == "" {
		fmt.Fprintln(e.stderr, "tailgate ci: no repository (--repo or $GITHUB_REPOSITORY): not publishing")
		return nil
	}
	opts := publish.DefaultOptions
	if c := cfg.GitHub.Comment; c != nil {
		opts.Comment = *c
	}
	if s := cfg.GitHub.Status; s != nil {
		opts.Status = *s
	}
	if c := cfg.GitHub.Check; c != nil {
		opts.Check = *c
	}
	if f.check != nil {
		opts.Check = *f.check
	}
	opts.Policy = publish.Policy(policy)
	plan, err := publish.BuildPlan(in, target, opts)
	if err != nil {
		return err
	}
	if f.dryRun {
		plan.Print(e.stdout)
		return nil
	}
	body := publish.RenderComment(in, publish.RenderOptions{SHA: target.SHA})
	outputs := gateOutputs(in, in.CodeWith(opts.Policy), body)
	if err := errors.Join(writeActionsFiles(e, act, body, outputs, publish.Annotations(in))...); err != nil {
		return err
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(e.stderr, "tailgate ci: publish skipped %s\n", s)
	}
	if plan.Comment == nil && len(plan.Statuses) == 0 && len(plan.Checks) == 0 {
		return nil
	}
	return sendPlan(e, publishFlags{apiURL: f.apiURL, timeout: DefaultPublishTimeout}, act, plan)
}

func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
