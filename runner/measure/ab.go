package measure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/runner/childenv"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/stress"
	"github.com/tailgate-ci/tailgate/runner/telemetry"
)

// Defaults of an interleaved A/B plan.
const (
	DefaultABDuration = 30 * time.Second
	DefaultABWarmup   = 2 * time.Second
)

// Arm is what one arm of an A/B plan runs: the settings in which arms may differ.
type Arm struct {
	Model    string
	Inputs   []inputs.Spec
	Threads  int
	GraphOpt ortbackend.GraphOpt
	// OwnInputs is set when the arm's inputs were given for it alone: its fed inputs may then
	// differ from the other arm's.
	OwnInputs bool
	// Worker is the argv of an arm run by an out-of-process worker instead of Model.
	Worker []string
}

// ABPlan is an interleaved A/B measurement: two arms timed in one process on one timing
// thread, in Rounds rounds of Round per arm.
type ABPlan struct {
	Suite, Profile string
	Arms           [2]Arm
	// Seed seeds the input fills, the same for both arms, so they see the same input sequence.
	Seed int64
	// Rounds and Round are the schedule (Round zero: automatic, and Rounds zero: Duration in
	// automatic rounds); Discard the untimed inferences after each switch; OrderSeed the seed of
	// the arms' order per round.
	Rounds    int
	Round     time.Duration
	Duration  time.Duration
	Discard   int
	OrderSeed int64
	// Sessions repeats the whole A/B with the arms opened afresh (0: once).
	Sessions int
	Warmup   time.Duration
	CPUs     []int
	Policy   sched.Policy
	Mlock    bool
	Spinning bool
	Out      string
	Tags     map[string]string
}

// ABSchedule resolves the schedule: per-arm duration d split into rounds of r, or k rounds when
// given (then d, if given too, must equal k·r). With r zero the round is automatic, chosen from
// the arms' latency once they are warm (harness.AutoSchedule): give d or k, not both; it returns
// k, or 0 when d is to be split into automatic rounds. A schedule of fewer than
// harness.MinRounds rounds cannot fit and is an error that says what would.
func ABSchedule(d, r time.Duration, k int) (int, error) {
	if r < 0 {
		return 0, fmt.Errorf("round %s: want a positive duration (or 0: automatic)", r)
	}
	if k < 0 {
		return 0, fmt.Errorf("rounds %d is negative", k)
	}
	if r == 0 {
		return autoSchedule(d, k)
	}
	switch {
	case k > 0 && d > 0 && time.Duration(k)*r != d:
		return 0, fmt.Errorf("rounds %d of %s is %s per arm, not the duration %s: give two of duration, round and rounds", k, r, time.Duration(k)*r, d)
	case k == 0:
		if d <= 0 {
			d = DefaultABDuration
		}
		if d%r != 0 {
			return 0, fmt.Errorf("duration %s is not a whole number of rounds of %s", d, r)
		}
		k = int(d / r)
	}
	if k < harness.MinRounds {
		return 0, fmt.Errorf("the schedule cannot fit: %d rounds of %s per arm; the paired analysis needs at least %d rounds (a duration of at least %s, or a shorter round)",
			k, r, harness.MinRounds, time.Duration(harness.MinRounds)*r)
	}
	if d := time.Duration(k) * r; d > maxABDuration {
		return 0, fmt.Errorf("%d rounds of %s is %s per arm: at most %s", k, r, d, maxABDuration)
	}
	return k, nil
}

// maxABDuration is the longest an arm may be timed: an A/B is a pull request's measurement.
const maxABDuration = 2 * time.Hour

// autoSchedule is ABSchedule's check of a schedule of automatic rounds.
func autoSchedule(d time.Duration, k int) (int, error) {
	switch {
	case k > 0 && d > 0:
		return 0, fmt.Errorf("an automatic round takes a duration or a number of rounds, not both (%d rounds, duration %s): give the round too", k, d)
	case k > 0 && k < harness.MinRounds:
		return 0, fmt.Errorf("the schedule cannot fit: %d rounds; the paired analysis needs at least %d", k, harness.MinRounds)
	case k > 0:
		return k, nil
	case d <= 0:
		d = DefaultABDuration
	}
	if least := harness.MinRounds * harness.MinAutoRound; d < least {
		return 0, fmt.Errorf("the schedule cannot fit: %s per arm holds fewer than %d rounds of at least %s (a duration of at least %s, or a shorter --round)",
			d, harness.MinRounds, harness.MinAutoRound, least)
	}
	if d > maxABDuration {
		return 0, fmt.Errorf("duration %s per arm: at most %s", d, maxABDuration)
	}
	return 0, nil
}

// MeasureAB times p into p.Out (which must exist and be empty): both arms are opened and checked
// against each other, warmed up and interleaved, and all that is repeated p.Sessions times with
// arms opened afresh (new worker processes, new ONNX Runtime sessions), every session's rounds
// going to the one log. A failure names the arm (*harness.ArmError). When an arm fails mid-run,
// the rounds completed so far stay in the log and meta.json is written for them, marked
// unhealthy, and the error is returned with it.
func MeasureAB(ctx context.Context, p *ABPlan, o Options) (*result.Meta, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	var lib ortlib.Library
	if p.Arms[0].Worker == nil || p.Arms[1].Worker == nil {
		if o.ORT == nil {
			return nil, errors.New("an A/B run needs the ONNX Runtime library and no loader was given")
		}
		var err error
		if lib, err = o.ORT(); err != nil {
			return nil, err
		}
	}
	// ci passes its measuring options to every suite; these two are a single run's.
	if o.MetricsAddr != "" {
		fmt.Fprintf(o.Log, "warning: suite %s is measured interleaved: the metrics endpoint serves single runs, not this A/B run\n", p.Suite)
	}
	if o.Stress != "" {
		fmt.Fprintf(o.Log, "warning: suite %s is measured interleaved: the background load (--stress) runs with single runs only\n", p.Suite)
	}
	fp, fpErr := host.Collect(host.Options{CPUs: p.CPUs, ToolVersion: o.Tool.Version})
	if fpErr != nil {
		fmt.Fprintf(o.Log, "warning: %v\n", fpErr)
	}
	lw, tf, err := createFiles(p.Out)
	if err != nil {
		return nil, err
	}
	defer lw.Close()
	defer tf.Close()
	// One telemetry line per round: a board that throttles or drops its clock during an A/B
	// run slows whichever arm it caught, and pairing does not undo a state the other arm
	// never saw, so the run's health is judged as a single run's is.
	smp, err := telemetry.New(telemetry.Options{Root: o.Root, CPUs: p.CPUs, Out: tf})
	if err != nil {
		fmt.Fprintf(o.Log, "warning: telemetry: %v\n", err)
	}
	smp.Start()

	c := watchCancel(ctx)
	defer c.done()
	sessions := max(p.Sessions, 1)
	pr := progress.New(o.Log, o.Progress, 0, 0)
	defer pr.Done()
	var (
		rep    *harness.ABReport
		runErr error
		info   [2]result.Arm
	)
	for s := 0; s < sessions && runErr == nil && (rep == nil || !rep.Stopped); s++ {
		arms, err := openArms(p)
		if err == nil && s == 0 {
			info = armInfo(p, arms)
			err = checkArms(p, arms)
		}
		if err != nil {
			arms.close()
			if rep == nil {
				return nil, err
			}
			runErr = err
			break
		}
		round, rounds, written := p.Round, p.Rounds, 0
		if rep != nil {
			// An automatic round is chosen in the first session and kept for the others.
			round, rounds, written = rep.Round, rep.Planned, rep.Rounds
		}
		sr, err := harness.RunAB(arms[0], arms[1], harness.ABOptions{
			Rounds: rounds, Round: round, Duration: p.Duration, Discard: p.Discard, Seed: p.OrderSeed + int64(s), Warmup: p.Warmup,
			CPUs: firstCPU(p.CPUs), Sched: p.Policy, Mlock: p.Mlock, Sink: lw, Stop: &c.stop,
			OnRound: func(st harness.RoundStats) {
				iv := st.Interval()
				iv.Index += written // numbered on across sessions
				smp.OnInterval(iv)
				pr.Round(progress.Schedule{Sessions: sessions, Rounds: st.Rounds, Round: st.Round}, s, st)
			},
		})
		arms.close()
		runErr = err
		rep = addSession(rep, sr)
	}
	if err := smp.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("telemetry: %w", err))
	}
	if rep == nil {
		return nil, runErr
	}
	if rep.Rounds == 0 {
		return nil, errors.Join(errors.New("no round was completed: there is no result"), runErr)
	}
	m, err := abMeta(p, info, lib, fp, rep, o)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	want := sessions * rep.Planned
	var reasons []string
	if runErr != nil {
		reasons = append(reasons, fmt.Sprintf("stopped after %d of %d rounds: %v", rep.Rounds, want, runErr))
	} else if rep.Stopped {
		reasons = append(reasons, fmt.Sprintf("interrupted (%s) after %d of %d rounds", c.cause(), rep.Rounds, want))
	}
	if sessions > 1 && wholeSessions(rep) == 0 {
		reasons = append(reasons, fmt.Sprintf("session %d was cut short after %d of %d rounds: the rounds are analysed per round, not per session",
			rep.Rounds/rep.Planned+1, rep.Rounds%rep.Planned, rep.Planned))
	}
	for i, n := range rep.Overflow {
		if n > 0 {
			reasons = append(reasons, fmt.Sprintf("arm %s: %d samples above the histogram's range", result.ArmNames[i], n))
		}
	}
	m.Health = telemetry.Apply(m.Health, append(reasons, smp.Reasons()...), o.AllowUnhealthy)
	if err := result.WriteMeta(p.Out, m); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if runErr == nil && rep.Stopped {
		runErr = ErrInterrupted
	}
	return m, runErr
}

// wholeSessions is how many whole sessions rep's rounds are, 0 when the last was cut short (an
// arm failed or a signal stopped it): meta.json's session count must divide the rounds, and a
// session-pair analysis must not rest on a part of one.
func wholeSessions(rep *harness.ABReport) int {
	if rep.Planned == 0 || rep.Rounds%rep.Planned != 0 {
		return 0
	}
	return rep.Rounds / rep.Planned
}

// addSession adds session report s to the run's report so far (nil: none).
func addSession(run, s *harness.ABReport) *harness.ABReport {
	if s == nil {
		return run
	}
	if run == nil {
		return s
	}
	run.Rounds += s.Rounds
	run.Order += s.Order
	for i := range 2 {
		run.Samples[i] += s.Samples[i]
		run.Warmup[i] += s.Warmup[i]
		run.Discarded[i] += s.Discarded[i]
		run.Overflow[i] += s.Overflow[i]
	}
	run.End, run.Stopped = s.End, s.Stopped
	return run
}

// abArms are the two opened arms of one session: each an in-process ONNX Runtime session or a
// worker process.
type abArms [2]harness.Backend

func (a abArms) close() {
	for _, b := range a {
		if c, ok := b.(io.Closer); ok && b != nil {
			c.Close()
		}
	}
}

// openArms opens both arms of p. A worker is started pinned to the timing thread's CPU and
// with its scheduling class, so that the one arm runnable at a time (the other blocks on its
// pipe) runs where an in-process arm would.
func openArms(p *ABPlan) (abArms, error) {
	var arms abArms
	for i, a := range p.Arms {
		var (
			b   harness.Backend
			err error
		)
		if a.Worker != nil {
			b, err = execbackend.Open(execbackend.Options{Command: a.Worker, Env: childenv.Environ(),
				CPUs: firstCPU(p.CPUs), Sched: p.Policy, Seed: p.Seed})
		} else {
			var workers []int
			if t := max(a.Threads, 1); len(p.CPUs) >= t && t > 1 {
				workers = p.CPUs[1:t]
			}
			b, err = ortbackend.Open(ortbackend.Options{Model: a.Model, Inputs: a.Inputs, Seed: p.Seed,
				Threads: a.Threads, WorkerCPUs: workers, Spinning: p.Spinning, GraphOpt: a.GraphOpt})
		}
		if err != nil {
			arms.close()
			return abArms{}, &harness.ArmError{Arm: result.ArmNames[i], Err: err}
		}
		arms[i] = b
	}
	return arms, nil
}

// armInfo is what meta.json records of each arm as opened: the model and session of an
// in-process arm, the command and the handshake's runtime of a worker.
func armInfo(p *ABPlan, arms abArms) [2]result.Arm {
	var info [2]result.Arm
	for i, b := range arms {
		a := p.Arms[i]
		info[i] = result.Arm{Name: result.ArmNames[i], Model: a.Model, Threads: max(a.Threads, 1)}
		switch b := b.(type) {
		case *ortbackend.Backend:
			info[i].ModelSHA256, info[i].Session, info[i].Inputs = b.ModelSHA256(), maps.Clone(b.Settings()), fedSpecs(b)
		case *execbackend.Backend:
			r := b.Ready()
			info[i].Worker, info[i].Runtime, info[i].Version, info[i].Device = strings.Join(a.Worker, " "), r.Runtime, r.Version, r.Device
			info[i].Threads = 1
		}
	}
	return info
}

// checkArms refuses arms that cannot be compared: outputs that differ in name or type (the arms
// must compute the same thing), or, unless an arm was given inputs of its own, fed inputs that
// differ (the arms must see the same input sequence); and arms whose input classes differ, for
// in-process and worker arms alike. A worker's outputs and inputs are otherwise its own, so they
// are not checked.
func checkArms(p *ABPlan, opened abArms) error {
	// Whatever runs an arm, its input classes are what each round times in turn: arms with
	// different classes would pair different workloads.
	if a, b := opened[0].Classes(), opened[1].Classes(); !slices.Equal(a, b) {
		return &harness.ArmError{Arm: "B", Err: fmt.Errorf("input classes differ: arm A runs %s, arm B %s; both arms must time the same classes",
			strings.Join(a, ", "), strings.Join(b, ", "))}
	}
	var arms [2]*ortbackend.Backend
	for i, b := range opened {
		o, ok := b.(*ortbackend.Backend)
		if !ok {
			return nil
		}
		arms[i] = o
	}
	var probs []string
	outs := func(b *ortbackend.Backend) []string {
		var s []string
		for _, o := range b.ModelOutputs() {
			s = append(s, fmt.Sprintf("%s %s", o.Name, o.Type))
		}
		return s
	}
	if a, b := outs(arms[0]), outs(arms[1]); !slices.Equal(a, b) {
		probs = append(probs, fmt.Sprintf("outputs differ: arm A (%s) has %s, arm B (%s) has %s",
			p.Arms[0].Model, strings.Join(a, ", "), p.Arms[1].Model, strings.Join(b, ", ")))
	}
	if !p.Arms[0].OwnInputs && !p.Arms[1].OwnInputs {
		fed := func(b *ortbackend.Backend) []string {
			var s []string
			for _, in := range b.Inputs() {
				s = append(s, fmt.Sprintf("%s %s%v %s", in.Name, in.Type, in.Shape, in.Fill))
			}
			return s
		}
		if a, b := fed(arms[0]), fed(arms[1]); !slices.Equal(a, b) {
			probs = append(probs, fmt.Sprintf("inputs differ, so the arms cannot be fed the same sequence: arm A (%s) is fed %s, arm B (%s) %s (give an arm inputs of its own to compare different inputs)",
				p.Arms[0].Model, strings.Join(a, ", "), p.Arms[1].Model, strings.Join(b, ", ")))
		}
	}
	if len(probs) > 0 {
		return &harness.ArmError{Arm: "B", Err: errors.New(strings.Join(probs, "; "))}
	}
	return nil
}

// abMeta builds meta.json of an A/B run: the environment of the process (its model and runtime
// are arm B's, the candidate), the summary over both arms and one per arm (Classes), and the arms.
func abMeta(p *ABPlan, info [2]result.Arm, lib ortlib.Library, fp result.Fingerprint, rep *harness.ABReport, o Options) (*result.Meta, error) {
	b := info[1]
	// The process's ONNX Runtime (when an arm ran in process) and arm B's worker runtime.
	fp.Backend, fp.ModelSHA256, fp.ORTVersion, fp.ORTSHA256 = "ort", b.ModelSHA256, lib.Version, lib.SHA256
	if b.Worker != "" {
		fp.Backend, fp.Runtime, fp.RuntimeVersion, fp.Device = "exec", b.Runtime, b.Version, b.Device
	}
	fp.Threads, fp.CPUs, fp.Sched = b.Threads, p.CPUs, p.Policy.String()
	fp.ToolVersion = o.Tool.Version
	merged, byTag, err := mergeLog(filepath.Join(p.Out, result.LatencyFile))
	if err != nil {
		return nil, err
	}
	ab := &result.AB{Rounds: rep.Rounds, Round: rep.Round, Discard: p.Discard, Seed: p.OrderSeed, Order: rep.Order}
	if n := wholeSessions(rep); n > 1 {
		ab.Sessions = n
	}
	for i, a := range info {
		a.Samples, a.Warmup, a.Discarded = rep.Samples[i], rep.Warmup[i], rep.Discarded[i]
		ab.Arms = append(ab.Arms, a)
	}
	m := &result.Meta{
		Schema: result.SchemaVersion, Suite: p.Suite, Profile: p.Profile, Env: fp, Git: o.Git,
		Workload: result.Workload{Model: p.Arms[1].Model, Backend: fp.Backend, Inputs: b.Inputs, Threads: fp.Threads,
			CPUs: p.CPUs, Sched: p.Policy.String(), Mlock: p.Mlock, Mode: "ab", Interval: rep.Round, Seed: p.Seed},
		Start: rep.Start, End: rep.End,
		Counts: result.Counts{Samples: merged.TotalCount(), Intervals: 2 * rep.Rounds, Warmup: rep.Warmup[0] + rep.Warmup[1],
			Overflow: rep.Overflow[0] + rep.Overflow[1]},
		Summary: result.Summarize(merged),
		Classes: map[string]result.Summary{},
		Calibration: result.Calibration{ClockReadNs: rep.Calibration.ClockReadNs, LoopRecordNs: rep.Calibration.LoopRecordNs,
			TimerResolveNs: rep.Calibration.TimerResolutionNs},
		Health: result.Health{Healthy: true},
		Tool:   o.Tool,
		AB:     ab,
	}
	for t, h := range byTag {
		m.Classes[t] = result.Summarize(h)
	}
	if len(p.Tags) > 0 {
		m.Tags = p.Tags
	}
	return m, nil
}

func fedSpecs(b *ortbackend.Backend) []result.InputSpec {
	out := make([]result.InputSpec, 0, len(b.Inputs()))
	for _, in := range b.Inputs() {
		out = append(out, result.InputSpec{Name: in.Name, Type: in.Type, Shape: in.Shape, Fill: in.Fill})
	}
	return out
}

// ABRequest is an A/B plan as given (the command line's flags): index 0 is arm A, 1 arm B.
type ABRequest struct {
	Suite, Profile, Out string
	Models              [2]string
	// Workers are each arm's worker command line, given instead of its model.
	Workers  [2]string
	Sessions int
	// Inputs are each arm's --input specs; OwnInputs says they were given for that arm alone.
	Inputs    [2][]string
	OwnInputs [2]bool
	Threads   [2]int
	GraphOpt  [2]string
	Seed      int64
	OrderSeed int64
	// Duration per arm, Round and Rounds: see ABSchedule.
	Duration, Round time.Duration
	Rounds          int
	Discard         int
	Warmup          time.Duration
	CPUs, Sched     string
	Mlock, Spinning bool
	Tags            []string
	// Online are the host's online CPUs (host.OnlineCPUs); nil skips the checks against them.
	Online []int
	// Now stamps the default Out; zero means time.Now.
	Now time.Time
}

// ResolveAB validates an A/B request, every problem at once, each named by its setting (and
// arm), before anything is opened or written.
func ResolveAB(r ABRequest) (*ABPlan, error) {
	p := &ABPlan{Suite: r.Suite, Profile: cmp.Or(r.Profile, DefaultProfile), Seed: r.Seed, OrderSeed: r.OrderSeed,
		Round: r.Round, Discard: r.Discard, Warmup: r.Warmup, Mlock: r.Mlock, Spinning: r.Spinning, Out: r.Out,
		Tags: map[string]string{}}
	var errs []error
	for i := range p.Arms {
		arm := strings.ToLower(result.ArmNames[i])
		a := Arm{Model: r.Models[i], Threads: r.Threads[i], OwnInputs: r.OwnInputs[i]}
		switch w := strings.TrimSpace(r.Workers[i]); {
		case a.Model == "" && w == "":
			errs = append(errs, settingErr("model-"+arm, "required (or worker-%s): what arm %s runs", arm, result.ArmNames[i]))
		case a.Model != "" && w != "":
			errs = append(errs, settingErr("worker-"+arm, "arm %s gets a model or a worker, not both", result.ArmNames[i]))
		case w != "":
			argv, err := stress.Split(w)
			if err != nil {
				errs = append(errs, &SettingError{Setting: "worker-" + arm, Err: err})
			}
			a.Worker = argv
			if len(r.Inputs[i]) > 0 {
				errs = append(errs, settingErr("input-"+arm, "does not apply to arm %s's worker: it prepares its own inputs", result.ArmNames[i]))
			}
		}
		if a.Threads < 1 || a.Threads > ThreadsPerCPU*max(len(r.Online), 1) {
			errs = append(errs, settingErr("threads-"+arm, "%d: want 1 to %d", a.Threads, ThreadsPerCPU*max(len(r.Online), 1)))
		}
		if r.GraphOpt[i] != "" {
			g, err := ortbackend.ParseGraphOpt(r.GraphOpt[i])
			if err != nil {
				errs = append(errs, &SettingError{Setting: "graph-opt-" + arm, Err: err})
			}
			a.GraphOpt = g
		}
		specs, err := inputs.ParseSpecs(r.Inputs[i])
		if err != nil {
			errs = append(errs, &SettingError{Setting: "input-" + arm, Err: err})
		}
		a.Inputs = specs
		p.Arms[i] = a
	}
	k, err := ABSchedule(r.Duration, r.Round, r.Rounds)
	if err != nil {
		errs = append(errs, &SettingError{Setting: "rounds", Err: err})
	}
	p.Rounds, p.Duration = k, cmp.Or(r.Duration, DefaultABDuration)
	if p.Sessions = max(r.Sessions, 1); r.Sessions < 0 || r.Sessions > 100 {
		errs = append(errs, settingErr("sessions", "%d: want 1 to 100", r.Sessions))
	}
	if r.Discard < 0 {
		errs = append(errs, settingErr("discard", "%d is negative", r.Discard))
	}
	if r.Warmup < 0 || r.Warmup > time.Hour {
		errs = append(errs, settingErr("warmup", "%s: want 0 to 1h per arm", r.Warmup))
	}
	if r.CPUs != "" {
		list, err := host.ParseCPUList(r.CPUs)
		if err != nil {
			errs = append(errs, &SettingError{Setting: "cpus", Err: err})
		}
		for _, c := range list {
			if r.Online != nil && !slices.Contains(r.Online, c) {
				errs = append(errs, settingErr("cpus", "CPU %d is not online on this host (online: %s)", c, host.FormatCPUList(r.Online)))
			}
		}
		p.CPUs = list
	}
	if pol, err := sched.Parse(cmp.Or(r.Sched, sched.DefaultPolicy)); err != nil {
		errs = append(errs, &SettingError{Setting: "sched", Err: err})
	} else {
		p.Policy = pol
	}
	for _, tag := range r.Tags {
		k, v, ok := strings.Cut(tag, "=")
		if !ok || k == "" {
			errs = append(errs, valueErr("tag", tag, "want KEY=VALUE"))
			continue
		}
		p.Tags[k] = v
	}
	if p.Suite == "" && p.Arms[1].Model != "" {
		p.Suite = strings.TrimSuffix(filepath.Base(p.Arms[1].Model), filepath.Ext(p.Arms[1].Model))
	} else if w := p.Arms[1].Worker; p.Suite == "" && len(w) > 0 {
		// The last argument names what a worker runs more often than its program does
		// (`node ort_worker.js model.onnx`, `tailgate worker echo`).
		last := filepath.Base(w[len(w)-1])
		p.Suite = strings.TrimSuffix(last, filepath.Ext(last))
	}
	if p.Out == "" {
		now := r.Now
		if now.IsZero() {
			now = time.Now()
		}
		p.Out = fmt.Sprintf("%s-ab-%s", p.Suite, now.UTC().Format("20060102T150405Z"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// ABPlanFrom is the A/B plan of a suite's plan p against arm base: arm B is p's model, inputs and
// threads, arm A base's model and threads (base.Threads 0: p's) with p's inputs; both run p's
// duration in rounds of round (0: automatic), on p's placement, into p.Out.
func ABPlanFrom(p *Plan, base Arm, round time.Duration) (*ABPlan, error) {
	if p.Backend != "ort" {
		return nil, fmt.Errorf("an A/B run needs backend ort, not %s", p.Backend)
	}
	k, err := ABSchedule(p.Duration, round, 0)
	if err != nil {
		return nil, err
	}
	if base.Threads == 0 {
		base.Threads = p.Threads
	}
	base.Inputs = p.Inputs
	return &ABPlan{Suite: p.Suite, Profile: p.Profile, Seed: p.Seed, Rounds: k, Round: round, Duration: cmp.Or(p.Duration, DefaultABDuration),
		Discard: harness.DefaultSwitchDiscard, OrderSeed: p.Seed, Warmup: max(p.WarmupDuration, DefaultABWarmup),
		CPUs: p.CPUs, Policy: p.Policy, Mlock: p.Mlock, Spinning: p.Spinning, Out: p.Out, Tags: p.Tags,
		Arms: [2]Arm{base, {Model: p.Model, Inputs: p.Inputs, Threads: p.Threads}}}, nil
}

// MinWorkerSessions is the fewest sessions an A/B with a worker arm needs for the variation
// between worker processes (memory layout, a runtime's start-up choices) to show: one pair of
// processes is one draw of it, however many rounds it runs.
const MinWorkerSessions = 4
