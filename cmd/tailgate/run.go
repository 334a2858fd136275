package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// Defaults of `tailgate run` flags.
const (
	DefaultRunBackend  = measure.DefaultBackend
	DefaultRunDuration = measure.DefaultDuration
	DefaultRunWarmup   = measure.DefaultWarmup
	DefaultRunProfile  = measure.DefaultProfile
	DefaultRunSeed     = measure.DefaultSeed
)

func init() {
	commands["run"] = command{"measure one suite (or --model/--backend) and write a result directory", runCmd}
}

// runFlags are the flags of `tailgate run` as given.
type runFlags struct {
	config, suite, profile string
	model, backend, ortLib string
	synth, worker          string
	inputs, tags           []string
	seed                   int64
	duration               time.Duration
	iterations             int64
	warmup                 string
	interval               time.Duration
	threads                int
	cpus                   string
	schedText              string
	mlock, spinning, quiet bool
	out                    string
	rate, arrivals         string
	overrun                string
	deadline               time.Duration
	// Set by the flags ci.go adds (addMeasureFlags): load, metrics endpoint, health override.
	stress, metricsAddr string
	allowUnhealthy      bool
	// The A/B mode: arm A's model and threads, the round and the order's seed.
	ab        string
	abThreads int
	round     time.Duration
	orderSeed int64
}

func runCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f runFlags
	fs.StringVar(&f.config, "config", "", "tailgate.yaml to read the suite from (default: ./"+config.DefaultFile+" when --suite is given)")
	fs.StringVar(&f.suite, "suite", "", "suite to run from the configuration (and the suite name recorded)")
	fs.StringVar(&f.profile, "profile", DefaultRunProfile, "profile for per-profile values: pr or nightly")
	fs.StringVar(&f.model, "model", "", "ONNX model file (ort backend)")
	fs.StringVar(&f.backend, "backend", DefaultRunBackend, "backend: ort, synthetic or exec")
	fs.StringVar(&f.worker, "worker", "", "exec backend: the worker's command line, e.g. 'node worker.js model.onnx' (docs/worker-protocol.md)")
	addORTFlag(fs, &f.ortLib)
	fs.StringVar(&f.synth, "synthetic", synthetic.DefaultSpec, "synthetic backend distribution (see docs/formats.md)")
	fs.StringArrayVar(&f.inputs, "input", nil, "model input NAME=DIMS[:FILL], repeatable (DIMS 1x3x96x96 or scalar; FILL random, zeros, const=V, file=PATH, adversarial)")
	fs.Int64Var(&f.seed, "seed", DefaultRunSeed, "seed of random input fills and of the synthetic backend")
	fs.DurationVar(&f.duration, "duration", 0, fmt.Sprintf("how long to time (default %s unless --iterations)", DefaultRunDuration))
	fs.Int64Var(&f.iterations, "iterations", 0, "how many samples to time")
	fs.StringVar(&f.warmup, "warmup", DefaultRunWarmup, "warm-up before timing: a duration (5s) or an iteration count (500)")
	fs.DurationVar(&f.interval, "interval", 0, "interval histogram length (default 1s for pr, 10s for nightly)")
	fs.IntVar(&f.threads, "threads", ortbackend.DefaultThreads, "ONNX Runtime intra-op threads")
	fs.StringVar(&f.cpus, "cpus", "", "CPU list (e.g. 3 or 2-3): the timing thread is pinned to the first, ONNX Runtime's threads-1 workers to the rest")
	fs.StringVar(&f.schedText, "sched", sched.DefaultPolicy, "timing thread scheduling: other, fifo:PRIO or deadline:RUNTIME/DEADLINE/PERIOD")
	fs.BoolVar(&f.mlock, "mlock", false, "lock all memory (mlockall) while timing")
	fs.BoolVar(&f.spinning, "spinning", ortbackend.DefaultSpinning, "let ONNX Runtime's idle intra-op workers spin")
	fs.StringVar(&f.out, "out", "", "result directory to write (must not exist or be empty)")
	fs.StringArrayVar(&f.tags, "tag", nil, "free metadata KEY=VALUE, repeatable")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	addMeasureFlags(fs, &f.stress, &f.metricsAddr, &f.allowUnhealthy)
	fs.StringVar(&f.rate, "rate", "", "open loop: arrival rate N/s (e.g. 30/s); latency counts from each scheduled arrival")
	fs.StringVar(&f.arrivals, "arrivals", harness.ArrivalsFixed, "open loop arrival process: fixed or poisson")
	fs.DurationVar(&f.deadline, "deadline", 0, "open loop: count samples above this latency as deadline misses")
	fs.StringVar(&f.overrun, "overrun", harness.OverrunQueue, "open loop: what happens to arrivals during a running inference: queue or drop")
	fs.StringVar(&f.ab, "ab", "", "A/B mode: time the suite (arm B) interleaved with this model (arm A, the baseline arm) in one process; gate the result with `tailgate compare OUT`")
	fs.IntVar(&f.abThreads, "ab-threads", 0, "A/B mode: arm A's intra-op threads (default: the suite's)")
	fs.DurationVar(&f.round, "round", DefaultABRound, "A/B mode: "+roundUsage)
	fs.Int64Var(&f.orderSeed, "order-seed", 0, "A/B mode: seed of the arms' order per round (default: the suite's seed)")
	if err := fs.Parse(args); err != nil {
		return withCode(exitError, err)
	}
	if fs.NArg() > 0 {
		return withCode(exitError, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	plan, err := runPlan(e, fs, f)
	if err == nil && f.ab != "" {
		var ab *measure.ABPlan
		if ab, err = runABPlan(fs, f, plan); err == nil {
			return measureAB(e, ab, f.ortLib, f.quiet, f.allowUnhealthy)
		}
	}
	if err != nil {
		return withCode(exitError, err)
	}
	return executePlan(e, plan, f)
}

// runABPlan is the A/B plan of `tailgate run --ab MODEL`: the suite's plan is arm B, MODEL arm
// A with the suite's inputs, each timed for the suite's duration in rounds of --round. What an
// A/B run cannot do is refused, every flag at once.
func runABPlan(fs *pflag.FlagSet, f runFlags, p *measure.Plan) (*measure.ABPlan, error) {
	var errs []error
	for _, name := range []string{"iterations", "rate", "arrivals", "overrun", "deadline", "stress", "metrics-addr"} {
		if fs.Changed(name) {
			errs = append(errs, fmt.Errorf("--%s does not apply to an A/B run (--ab)", name))
		}
	}
	if p.Open.Rate > 0 && !fs.Changed("rate") {
		errs = append(errs, fmt.Errorf("--ab: suite %s is open loop (rate %g/s); an A/B run is closed loop", p.Suite, p.Open.Rate))
	}
	if p.Iterations > 0 && p.Duration == 0 && !fs.Changed("iterations") {
		errs = append(errs, fmt.Errorf("--ab: suite %s is bounded by iterations; an A/B run needs a duration to split into rounds", p.Suite))
	}
	if f.abThreads < 0 {
		errs = append(errs, fmt.Errorf("--ab-threads %d is negative", f.abThreads))
	}
	if _, err := os.Stat(f.ab); err != nil {
		errs = append(errs, fmt.Errorf("--ab: arm A's model: %w", err))
	}
	ab, err := measure.ABPlanFrom(p, measure.Arm{Model: f.ab, Threads: f.abThreads}, f.round)
	if err != nil {
		errs = append(errs, fmt.Errorf("--ab: %w", err))
	}
	if ab != nil && fs.Changed("order-seed") {
		ab.OrderSeed = f.orderSeed
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return ab, nil
}

// changed is the flag's value when the command line set it, else nil (the suite's applies).
func changed[T any](fs *pflag.FlagSet, name string, v T) *T {
	if !fs.Changed(name) {
		return nil
	}
	return &v
}

// runOverrides are the flags that were set, as overrides of the suite's settings.
func runOverrides(fs *pflag.FlagSet, f runFlags) measure.Overrides {
	return measure.Overrides{
		Backend: changed(fs, "backend", f.backend), Model: changed(fs, "model", f.model),
		Synthetic: changed(fs, "synthetic", f.synth), Worker: changed(fs, "worker", f.worker), Inputs: changed(fs, "input", f.inputs),
		Seed: changed(fs, "seed", f.seed), Duration: changed(fs, "duration", f.duration),
		Iterations: changed(fs, "iterations", f.iterations), Warmup: changed(fs, "warmup", f.warmup),
		Interval: changed(fs, "interval", f.interval), Threads: changed(fs, "threads", f.threads),
		CPUs: changed(fs, "cpus", f.cpus), Sched: changed(fs, "sched", f.schedText),
		Mlock: changed(fs, "mlock", f.mlock), Spinning: changed(fs, "spinning", f.spinning),
		Rate: changed(fs, "rate", f.rate), Arrivals: changed(fs, "arrivals", f.arrivals),
		Overrun: changed(fs, "overrun", f.overrun), Deadline: changed(fs, "deadline", f.deadline),
		Tags: f.tags,
	}
}

// runPlan loads the configuration (when one is named, or ./tailgate.yaml with --suite) once and
// resolves the plan from its suite and the flags that were set, every problem at once, before
// anything is written.
func runPlan(e *env, fs *pflag.FlagSet, f runFlags) (*measure.Plan, error) {
	req := measure.Request{Name: f.suite, Profile: f.profile, Out: f.out, Overrides: runOverrides(fs, f)}
	req.Online, _ = host.OnlineCPUs("/") // the timing thread is pinned on this host, whatever --root says
	cfgPath := f.config
	if cfgPath == "" && f.suite != "" && f.model == "" && !fs.Changed("backend") {
		if _, err := os.Stat(config.DefaultFile); err == nil {
			cfgPath = config.DefaultFile
		}
	}
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return nil, err
		}
		name := f.suite
		if name == "" {
			if len(cfg.Suites) != 1 {
				return nil, fmt.Errorf("%s has %d suites: choose one with --suite (%s)", cfgPath, len(cfg.Suites), strings.Join(cfg.SuiteNames(), ", "))
			}
			name = cfg.SuiteNames()[0]
		}
		if req.Suite, err = cfg.Suite(name); err != nil {
			return nil, err
		}
		req.ConfigDigest = cfg.Digest
	}
	p, err := measure.Resolve(req)
	var errs []error
	if err != nil {
		errs = append(errs, flagErrors(err))
	}
	if err := measure.CheckOut(outDir(p, f)); err != nil {
		errs = append(errs, fmt.Errorf("--out %w", err))
	}
	return p, errors.Join(errs...)
}

// outDir is where the result goes: the plan's, or the flag's when the plan did not resolve.
func outDir(p *measure.Plan, f runFlags) string {
	if p != nil {
		return p.Out
	}
	return f.out
}

// flagErrors names each setting error by its flag: on the command line, a setting is a flag.
func flagErrors(err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return err
	}
	var out []error
	for _, e := range joined.Unwrap() {
		var se *measure.SettingError
		if errors.As(e, &se) {
			e = fmt.Errorf("--%s: %w", se.Name(), se.Err)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func executePlan(e *env, p *measure.Plan, f runFlags) error {
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return withCode(exitError, fmt.Errorf("--out: %w", err))
	}
	mode := progressMode(e, f.quiet)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m, err := measure.Measure(ctx, p, measure.Options{
		ORT: func() (ortlib.Library, error) { return loadORT(e, f.ortLib) }, EchoWorker: echoWorker(), Stress: f.stress, MetricsAddr: f.metricsAddr,
		AllowUnhealthy: f.allowUnhealthy, Log: e.stderr, Progress: mode, WriteInterrupted: true,
		Git: measure.GitInfo(e.getenv), Tool: toolInfo()})
	if m == nil {
		return withCode(exitError, err)
	}
	if err != nil && !errors.Is(err, measure.ErrInterrupted) {
		return withCode(exitError, fmt.Errorf("%w (partial result of %d samples written to %s)", err, m.Counts.Samples, p.Out))
	}
	s := m.Summary
	fmt.Fprintf(e.stdout, "%s: %d samples in %d intervals  p50 %s  p99 %s  p99.9 %s  max %s",
		m.Suite, s.Count, m.Counts.Intervals, progress.Ns(s.P50), progress.Ns(s.P99), progress.Ns(s.P999), progress.Ns(s.Max))
	if p.Open.Rate > 0 {
		fmt.Fprintf(e.stdout, "  missed %d  dropped %d", m.Counts.Missed, m.Counts.Dropped)
	}
	fmt.Fprintf(e.stdout, "  → %s\n", p.Out)
	if err != nil {
		return withCode(exitInconclusive, fmt.Errorf("run interrupted; partial result written to %s", p.Out))
	}
	return nil
}

// progressMode is how a measuring command shows its progress: a live line on a terminal, one
// line per interval (or round) in a log, nothing with --quiet.
func progressMode(e *env, quiet bool) progress.Mode {
	if quiet {
		return progress.Quiet
	}
	if fd, ok := e.stderr.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(fd.Fd())) {
		return progress.Live
	}
	return progress.Plain
}

// toolInfo is this binary's identity as results record it.
func toolInfo() result.Tool {
	return result.Tool{Name: "tailgate", Version: version, Commit: commit, Go: runtime.Version()}
}
