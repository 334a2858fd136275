package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/host"
)

// Defaults of `tailgate run` flags.
const (
	DefaultRunBackend  = "ort"
	DefaultRunDuration = 10 * time.Second
	DefaultRunWarmup   = "1s"
	DefaultRunProfile  = "pr"
	DefaultRunSeed     = 1
)

func init() {
	commands["run"] = command{"measure one suite (or --model/--backend) and write a result directory", runCmd}
}

// runFlags are the flags of `tailgate run` as given.
type runFlags struct {
	config, suite, profile string
	model, backend, ortLib string
	synth                  string
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
}

// runPlan is everything a run needs, resolved from flags and the configuration.
type runPlan struct {
	suite, profile, configDigest string
	backend, model, synth        string
	inputs                       []inputs.Spec
	seed                         int64
	duration                     time.Duration
	iterations                   int64
	warmupDur                    time.Duration
	warmupN                      int64
	interval                     time.Duration
	threads                      int
	cpus                         []int
	policy                       sched.Policy
	mlock, spinning              bool
	out                          string
	tags                         map[string]string
	open                         harness.OpenLoop
}

func runCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f runFlags
	fs.StringVar(&f.config, "config", "", "tailgate.yaml to read the suite from (default: ./"+config.DefaultFile+" when --suite is given)")
	fs.StringVar(&f.suite, "suite", "", "suite to run from the configuration (and the suite name recorded)")
	fs.StringVar(&f.profile, "profile", DefaultRunProfile, "profile for per-profile values: pr or nightly")
	fs.StringVar(&f.model, "model", "", "ONNX model file (ort backend)")
	fs.StringVar(&f.backend, "backend", DefaultRunBackend, "backend: ort or synthetic")
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
	if err := fs.Parse(args); err != nil {
		return withCode(exitError, err)
	}
	if fs.NArg() > 0 {
		return withCode(exitError, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	plan, err := resolvePlan(e, fs, f)
	if err != nil {
		return withCode(exitError, err)
	}
	return executePlan(e, plan, f)
}

// resolvePlan merges the configuration suite (if any) with the flags (flags that were set
// win) and validates everything, reporting every problem at once.
func resolvePlan(e *env, fs *pflag.FlagSet, f runFlags) (*runPlan, error) {
	var errs []error
	p := &runPlan{profile: f.profile, backend: f.backend, model: f.model, synth: f.synth, seed: f.seed,
		duration: f.duration, iterations: f.iterations, interval: f.interval, threads: f.threads,
		mlock: f.mlock, spinning: f.spinning, out: f.out, suite: f.suite, tags: map[string]string{}}
	if p.profile != "pr" && p.profile != "nightly" {
		errs = append(errs, fmt.Errorf("--profile %q: want pr or nightly", p.profile))
	}
	warmup, cpus, schedText, inputTexts := f.warmup, f.cpus, f.schedText, f.inputs
	rate, deadline, overrun := f.rate, f.deadline, f.overrun

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
		if f.suite == "" {
			if len(cfg.Suites) != 1 {
				return nil, fmt.Errorf("%s has %d suites: choose one with --suite (%s)", cfgPath, len(cfg.Suites), strings.Join(cfg.SuiteNames(), ", "))
			}
			f.suite = cfg.SuiteNames()[0]
		}
		s, err := cfg.Suite(f.suite)
		if err != nil {
			return nil, err
		}
		p.suite, p.configDigest = s.Name, cfg.Digest
		set := func(flag string, apply func()) {
			if !fs.Changed(flag) {
				apply()
			}
		}
		set("backend", func() {
			if s.Backend != "" {
				p.backend = s.Backend
			}
		})
		set("model", func() { p.model = s.Model })
		set("synthetic", func() {
			if s.Synthetic != "" {
				p.synth = s.Synthetic
			}
		})
		set("input", func() { inputTexts = s.InputSpecs() })
		set("seed", func() { p.seed = s.EffectiveSeed(p.seed) })
		set("duration", func() { p.duration = s.Duration.For(p.profile) })
		set("iterations", func() { p.iterations = s.Iterations })
		set("warmup", func() {
			if s.Warmup != "" {
				warmup = s.Warmup
			}
		})
		set("interval", func() { p.interval = s.Interval.For(p.profile) })
		set("threads", func() {
			if s.Threads > 0 {
				p.threads = s.Threads
			}
		})
		set("cpus", func() {
			if len(s.CPUs) > 0 {
				cpus = host.FormatCPUList(s.CPUs)
			}
		})
		set("sched", func() {
			if s.Sched != "" {
				schedText = s.Sched
			}
		})
		set("mlock", func() { p.mlock = s.Mlock })
		set("spinning", func() {
			if s.Spinning != nil {
				p.spinning = *s.Spinning
			}
		})
		for k, v := range s.Tags {
			p.tags[k] = v
		}
		if s.Mode == "open" {
			set("rate", func() { rate = s.Rate })
			set("deadline", func() { deadline = time.Duration(s.Deadline) })
			set("overrun", func() {
				if s.Overrun != "" {
					overrun = s.Overrun
				}
			})
		}
	}

	switch p.backend {
	case "ort":
		if p.model == "" {
			errs = append(errs, errors.New("--model: required with --backend ort"))
		}
	case "synthetic":
		if len(inputTexts) > 0 || p.model != "" {
			errs = append(errs, errors.New("--model and --input do not apply to --backend synthetic"))
		}
	default:
		errs = append(errs, fmt.Errorf("--backend %q: want ort or synthetic", p.backend))
	}
	if p.backend == "synthetic" {
		if _, err := synthetic.Parse(p.synth); err != nil {
			errs = append(errs, err)
		}
	}
	if specs, err := inputs.ParseSpecs(inputTexts); err != nil {
		errs = append(errs, err)
	} else {
		p.inputs = specs
	}
	if p.duration < 0 || p.iterations < 0 {
		errs = append(errs, errors.New("--duration and --iterations must not be negative"))
	}
	if p.duration == 0 && p.iterations == 0 {
		p.duration = DefaultRunDuration
	}
	if d, n, err := config.ParseWarmup(warmup); err != nil {
		errs = append(errs, fmt.Errorf("--warmup: %w", err))
	} else {
		p.warmupDur, p.warmupN = d, n
	}
	if p.interval < 0 {
		errs = append(errs, fmt.Errorf("--interval %s must be positive", p.interval))
	}
	if p.interval == 0 {
		p.interval = config.DefaultInterval.For(p.profile)
	}
	if rate != "" {
		r, err := config.ParseRate(rate)
		if err != nil {
			errs = append(errs, fmt.Errorf("--rate: %w", err))
		} else {
			p.open = harness.OpenLoop{Rate: r, Arrivals: f.arrivals, Seed: p.seed, Deadline: deadline, Overrun: overrun}
			if err := p.open.Validate(); err != nil {
				errs = append(errs, err)
			}
		}
	} else if fs.Changed("deadline") || fs.Changed("overrun") || fs.Changed("arrivals") {
		errs = append(errs, errors.New("--deadline, --overrun and --arrivals need --rate (the open loop)"))
	}
	if p.threads < 1 {
		errs = append(errs, fmt.Errorf("--threads %d: want at least 1", p.threads))
	}
	if cpus != "" {
		list, err := host.ParseCPUList(cpus)
		if err != nil {
			errs = append(errs, fmt.Errorf("--cpus: %w", err))
		} else if n := len(list); n != 1 && n != p.threads {
			errs = append(errs, fmt.Errorf("--cpus %s: give 1 CPU (the timing thread) or --threads=%d CPUs (timing thread, then one per ONNX Runtime worker), not %d", cpus, p.threads, n))
		} else {
			p.cpus = list
		}
	}
	if pol, err := sched.Parse(schedText); err != nil {
		errs = append(errs, err)
	} else {
		p.policy = pol
	}
	for _, t := range f.tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("--tag %q: want KEY=VALUE", t))
			continue
		}
		p.tags[k] = v
	}
	if p.suite == "" {
		if p.backend == "synthetic" {
			p.suite = "synthetic"
		} else {
			p.suite = strings.TrimSuffix(filepath.Base(p.model), filepath.Ext(p.model))
		}
	}
	if p.out == "" {
		p.out = fmt.Sprintf("%s-%s", p.suite, time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := checkOutDir(p.out); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// checkOutDir refuses to write into an existing, non-empty directory: a result is never
// overwritten or mixed with another.
func checkOutDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("--out %s: directory exists and is not empty; refusing to overwrite a result", dir)
	}
	return nil
}

// openedBackend is a harness backend plus what meta.json records about it.
type openedBackend struct {
	harness.Backend
	inputs             []result.InputSpec
	modelSHA           string
	ortVersion, ortSHA string
}

func openBackend(e *env, p *runPlan, ortFlag string) (*openedBackend, error) {
	if p.backend == "synthetic" {
		spec, _ := synthetic.Parse(p.synth)
		return &openedBackend{Backend: synthetic.New(spec, p.seed)}, nil
	}
	lib, err := loadORT(e, ortFlag)
	if err != nil {
		return nil, err
	}
	var workers []int
	if len(p.cpus) > 1 {
		workers = p.cpus[1:]
	}
	b, err := ortbackend.Open(ortbackend.Options{Model: p.model, Inputs: p.inputs, Seed: p.seed,
		Threads: p.threads, WorkerCPUs: workers, Spinning: p.spinning})
	if err != nil {
		return nil, err
	}
	fed := make([]result.InputSpec, 0, len(b.Inputs()))
	for _, in := range b.Inputs() {
		fed = append(fed, result.InputSpec{Name: in.Name, Type: in.Type, Shape: in.Shape, Fill: in.Fill})
	}
	return &openedBackend{Backend: b, inputs: fed, modelSHA: b.ModelSHA256(), ortVersion: lib.Version, ortSHA: lib.SHA256}, nil
}

// logSink adapts result.LogWriter to the harness's Sink.
type logSink struct{ w *result.LogWriter }

func (s logSink) WriteInterval(iv harness.Interval) error {
	return s.w.Write(result.Interval{Tag: iv.Tag, Start: iv.Start, End: iv.End, Hist: iv.Hist})
}

func executePlan(e *env, p *runPlan, f runFlags) error {
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		return withCode(exitError, fmt.Errorf("--out: %w", err))
	}
	live := false
	if fd, ok := e.stderr.(interface{ Fd() uintptr }); ok && !f.quiet {
		live = term.IsTerminal(int(fd.Fd()))
	}
	m, err := measure(e, p, measureOptions{ortLib: f.ortLib, stress: f.stress, metricsAddr: f.metricsAddr,
		allowUnhealthy: f.allowUnhealthy, quiet: f.quiet, live: live, writeInterrupted: true})
	if m == nil {
		return withCode(exitError, err)
	}
	if err != nil && !errors.Is(err, errInterrupted) {
		return withCode(exitError, fmt.Errorf("%w (partial result of %d samples written to %s)", err, m.Counts.Samples, p.out))
	}
	s := m.Summary
	fmt.Fprintf(e.stdout, "%s: %d samples in %d intervals  p50 %s  p99 %s  p99.9 %s  max %s",
		m.Suite, s.Count, m.Counts.Intervals, progress.Ns(s.P50), progress.Ns(s.P99), progress.Ns(s.P999), progress.Ns(s.Max))
	if p.open.Rate > 0 {
		fmt.Fprintf(e.stdout, "  missed %d  dropped %d", m.Counts.Missed, m.Counts.Dropped)
	}
	fmt.Fprintf(e.stdout, "  → %s\n", p.out)
	if err != nil {
		return withCode(exitInconclusive, fmt.Errorf("run interrupted; partial result written to %s", p.out))
	}
	return nil
}

func firstCPU(cpus []int) []int {
	if len(cpus) == 0 {
		return nil
	}
	return cpus[:1]
}

func buildMeta(e *env, p *runPlan, b *openedBackend, fp result.Fingerprint, rep *harness.Report) *result.Meta {
	fp.Backend = p.backend
	fp.ORTVersion, fp.ORTSHA256, fp.ModelSHA256 = b.ortVersion, b.ortSHA, b.modelSHA
	fp.Threads, fp.CPUs, fp.Sched = p.threads, p.cpus, p.policy.String()
	if fp.GoVersion == "" {
		fp.GoVersion = runtime.Version()
	}
	fp.ToolVersion = version
	threads := p.threads
	if p.backend == "synthetic" {
		threads = 1
	}
	m := &result.Meta{
		Schema: result.SchemaVersion, Suite: p.suite, Profile: p.profile, ConfigDigest: p.configDigest,
		Env: fp, Git: gitInfo(e),
		Workload: result.Workload{
			Model: p.model, Backend: p.backend, Inputs: b.inputs, Threads: threads, CPUs: p.cpus,
			Sched: p.policy.String(), Mlock: p.mlock, Mode: "closed", Interval: p.interval, Seed: p.seed,
			RTPacing: rep.RTPacing,
		},
		Start: rep.Start, End: rep.End,
		Counts: result.Counts{Samples: rep.Samples, Intervals: rep.Intervals, Warmup: rep.Warmup, Overflow: rep.Overflow,
			Missed: rep.Missed, Dropped: rep.Dropped},
		Calibration: result.Calibration{
			ClockReadNs: rep.Calibration.ClockReadNs, LoopRecordNs: rep.Calibration.LoopRecordNs,
			TimerResolveNs: rep.Calibration.TimerResolutionNs,
		},
		Health: result.Health{Healthy: true},
		Tool:   result.Tool{Name: "tailgate", Version: version, Commit: commit, Go: runtime.Version()},
	}
	if len(p.tags) > 0 {
		m.Tags = p.tags
	}
	if p.backend == "synthetic" {
		m.Workload.Synth = p.synth
	}
	if p.open.Rate > 0 {
		m.Workload.Mode, m.Workload.Rate, m.Workload.Arrivals = "open", p.open.Rate, p.open.Arrivals
		m.Workload.Deadline, m.Workload.Overrun = p.open.Deadline, p.open.Overrun
	}
	// The summary comes from the log (measure): it holds a resumed run's earlier intervals too.
	if len(rep.Classes) > 1 {
		m.Classes = map[string]result.Summary{}
		for i, c := range rep.Classes {
			m.Classes[c] = result.Summarize(rep.Totals[i])
		}
	}
	// Collections the writer ran itself at interval swaps (to free the log encoder's garbage)
	// are expected; any other cycle means something allocated while timing.
	if unexpected := int64(rep.GCCycles) - int64(rep.ForcedGCs); unexpected > 0 {
		m.Health.Healthy = false
		m.Health.Reasons = append(m.Health.Reasons, fmt.Sprintf("%d unexpected GC cycles ran while timing", unexpected))
	}
	if rep.Overflow > 0 {
		m.Health.Healthy = false
		m.Health.Reasons = append(m.Health.Reasons, fmt.Sprintf("%d samples above the histogram's 1h range", rep.Overflow))
	}
	return m
}

// gitInfo locates the measured code: git in the working directory first, then the GitHub
// Actions variables.
func gitInfo(e *env) result.Git {
	var g result.Git
	gitOut := func(args ...string) string {
		out, err := exec.Command("git", args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	g.Commit = gitOut("rev-parse", "HEAD")
	if g.Commit != "" {
		g.Ref = gitOut("symbolic-ref", "-q", "HEAD")
		g.Repo = gitOut("config", "--get", "remote.origin.url")
	}
	if g.Commit == "" {
		g.Commit = e.getenv("GITHUB_SHA")
	}
	if g.Ref == "" {
		g.Ref = e.getenv("GITHUB_REF")
	}
	if r := e.getenv("GITHUB_REPOSITORY"); r != "" && g.Repo == "" {
		g.Repo = r
	}
	// refs/pull/123/merge is how Actions names a pull request's merge commit.
	if rest, ok := strings.CutPrefix(e.getenv("GITHUB_REF"), "refs/pull/"); ok {
		if n, err := strconv.Atoi(strings.SplitN(rest, "/", 2)[0]); err == nil {
			g.PR = n
		}
	}
	return g
}
