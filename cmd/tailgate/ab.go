package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// Defaults of `tailgate ab` flags.
const (
	DefaultABDuration = measure.DefaultABDuration
	// DefaultABRound zero chooses the round from the arms' latency (harness.AutoSchedule).
	DefaultABRound   = 0
	DefaultABDiscard = harness.DefaultSwitchDiscard
	DefaultABWarmup  = measure.DefaultABWarmup
)

func init() {
	commands["ab"] = command{"interleaved A/B: time two models or session settings in alternating rounds in one process", abCmd}
}

// abArmFlags are the flags given per arm (--X-a, --X-b) and for both (--X).
type abArmFlags struct {
	model, graphOpt [3]string // both, A, B
	worker          [2]string // A, B
	inputs          [3][]string
	threads         [3]int
}

func abCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("ab", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate ab --model-a A.onnx|--worker-a CMD --model-b B.onnx|--worker-b CMD [flags]\n\nTimes arm A and arm B interleaved: K rounds, each running both arms for --round in a seeded\nrandom order on one timing thread, and writes one result whose latency.hlog tags each arm's\nround A or B. Gate it with `tailgate compare RESULT` (B is the candidate, A the baseline).\nA setting given as --X applies to both arms; --X-a and --X-b to one. An arm given --worker-X is\nan out-of-process worker pinned to the timing thread's CPU; only the arm being driven runs.\n\nflags:")
		fs.PrintDefaults()
	}
	var a abArmFlags
	for i, suffix := range []string{"", "-a", "-b"} {
		which := map[int]string{0: "both arms", 1: "arm A", 2: "arm B"}[i]
		fs.StringVar(&a.model[i], "model"+suffix, "", "ONNX model of "+which)
		fs.StringVar(&a.graphOpt[i], "graph-opt"+suffix, "", "graph optimisation of "+which+": disable, basic, extended or all (default all)")
		fs.StringArrayVar(&a.inputs[i], "input"+suffix, nil, "model input NAME=DIMS[:FILL] of "+which+", repeatable")
		fs.IntVar(&a.threads[i], "threads"+suffix, ortbackend.DefaultThreads, "ONNX Runtime intra-op threads of "+which)
		if i > 0 {
			fs.StringVar(&a.worker[i-1], "worker"+suffix, "", "worker command line run as "+which+" instead of a model (the exec backend's protocol)")
		}
	}
	req := measure.ABRequest{}
	var (
		cpus, schedText, ortLib string
		quiet                   bool
	)
	fs.StringVar(&req.Suite, "suite", "", "suite name recorded (default: arm B's model's base name)")
	fs.StringVar(&req.Out, "out", "", "result directory to write (must not exist or be empty)")
	fs.DurationVar(&req.Duration, "duration", 0, fmt.Sprintf("timed duration per arm, split into rounds (default %s unless --rounds)", DefaultABDuration))
	fs.DurationVar(&req.Round, "round", DefaultABRound, roundUsage)
	fs.IntVar(&req.Rounds, "rounds", 0, "number of rounds K (default --duration / --round)")
	fs.IntVar(&req.Sessions, "sessions", 1, "repeat the whole A/B this many times with fresh worker processes and sessions")
	fs.IntVar(&req.Discard, "discard", DefaultABDiscard, "inferences run untimed after each switch of arm")
	fs.DurationVar(&req.Warmup, "warmup", DefaultABWarmup, "warm-up of each arm before the first round")
	fs.Int64Var(&req.Seed, "seed", measure.DefaultSeed, "seed of the random input fills (the same for both arms)")
	fs.Int64Var(&req.OrderSeed, "order-seed", 1, "seed of the arms' order in each round (recorded in meta.json)")
	fs.StringVar(&cpus, "cpus", "", "CPU list: the timing thread is pinned to the first (both arms)")
	fs.StringVar(&schedText, "sched", sched.DefaultPolicy, "timing thread scheduling: other, fifo:PRIO or deadline:RUNTIME/DEADLINE/PERIOD")
	fs.BoolVar(&req.Mlock, "mlock", false, "lock all memory (mlockall) while timing")
	fs.BoolVar(&req.Spinning, "spinning", ortbackend.DefaultSpinning, "let ONNX Runtime's idle intra-op workers spin")
	fs.StringArrayVar(&req.Tags, "tag", nil, "free metadata KEY=VALUE, repeatable")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	var allowUnhealthy bool
	fs.BoolVar(&allowUnhealthy, "allow-unhealthy", false, "gate the result even when it is marked unhealthy")
	addORTFlag(fs, &ortLib)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	if fs.NArg() > 0 {
		return withCode(exitError, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	for i := range 2 {
		req.Models[i] = pickArm(fs, "model", i, a.model)
		req.GraphOpt[i] = pickArm(fs, "graph-opt", i, a.graphOpt)
		req.Threads[i] = pickArm(fs, "threads", i, a.threads)
		req.Inputs[i] = pickArm(fs, "input", i, a.inputs)
		req.OwnInputs[i] = fs.Changed("input" + []string{"-a", "-b"}[i])
		req.Workers[i] = a.worker[i]
	}
	if (a.worker[0] != "" || a.worker[1] != "") && req.Sessions < measure.MinWorkerSessions {
		fmt.Fprintf(e.stderr, "warning: --sessions %d: at least %d fresh session pairs are needed to see the variation between worker processes\n",
			req.Sessions, measure.MinWorkerSessions)
	}
	if req.Duration == 0 && req.Rounds == 0 {
		req.Duration = DefaultABDuration
	}
	req.CPUs, req.Sched = cpus, schedText
	req.Online, _ = host.OnlineCPUs("/")
	p, err := measure.ResolveAB(req)
	if err == nil {
		err = measure.CheckOut(p.Out)
	}
	if err != nil {
		return withCode(exitError, flagErrors(err))
	}
	return measureAB(e, p, ortLib, quiet, allowUnhealthy)
}

// measureAB times A/B plan p, which `tailgate ab` and `tailgate run --ab` resolve, into p.Out
// and prints each arm's summary and where the result went.
func measureAB(e *env, p *measure.ABPlan, ortLib string, quiet, allowUnhealthy bool) error {
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return withCode(exitError, fmt.Errorf("--out: %w", err))
	}
	o := measure.Options{ORT: func() (ortlib.Library, error) { return loadORT(e, ortLib) }, Log: e.stderr, Progress: progressMode(e, quiet),
		AllowUnhealthy: allowUnhealthy, Git: measure.GitInfo(e.getenv), Tool: toolInfo()}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	m, err := measure.MeasureAB(ctx, p, o)
	if m == nil {
		return withCode(exitError, err)
	}
	for _, arm := range m.AB.Arms {
		s := m.Classes[arm.Name]
		fmt.Fprintf(e.stdout, "arm %s %s: %d samples  p50 %s  p99 %s  max %s\n", arm.Name, cmp.Or(arm.Model, arm.Worker), s.Count,
			progress.Ns(s.P50), progress.Ns(s.P99), progress.Ns(s.Max))
	}
	fmt.Fprintf(e.stdout, "interleaved, %s of %s per arm in %s → %s\n", m.AB.Design(), m.AB.Round, time.Since(start).Round(time.Second), p.Out)
	if h := m.Health; !h.Healthy {
		what := "compare gates it inconclusive"
		if h.Overridden {
			what = "gated anyway (--allow-unhealthy)"
		}
		fmt.Fprintf(e.stderr, "warning: the run is unhealthy (%s): %s\n", strings.Join(h.Reasons, "; "), what)
	}
	if errors.Is(err, measure.ErrInterrupted) {
		return withCode(exitInconclusive, fmt.Errorf("run interrupted; the %d whole rounds are written to %s", m.AB.Rounds, p.Out))
	}
	if err != nil {
		return withCode(exitError, fmt.Errorf("%w (the %d whole rounds before it are written to %s)", err, m.AB.Rounds, p.Out))
	}
	return nil
}

// roundUsage is the --round flag's, in `tailgate ab` and `tailgate run --ab`.
var roundUsage = fmt.Sprintf("how long each arm runs per round (default 0: automatic, the shortest round of at least %s in which the inferences discarded after a switch take at most 1/%d of it)",
	harness.MinAutoRound, harness.SwitchBudget)

// pickArm is arm i's value of a per-arm flag: --NAME-a or --NAME-b when given, else --NAME.
func pickArm[T any](fs *pflag.FlagSet, name string, i int, v [3]T) T {
	if fs.Changed(name + []string{"-a", "-b"}[i]) {
		return v[i+1]
	}
	return v[0]
}
