// Package measure owns one measurement of a suite on the board: a Plan resolved once from a
// configuration suite plus overrides (the command line's flags) and validated completely before
// anything runs, and Measure, which times the plan into a result directory with the host
// fingerprint, telemetry, health, an optional background load and a metrics endpoint.
//
// It does not decide where a run folder lives, resume bookkeeping (runner/ci), compare
// (gate) or store (baseline); it reads no flags and no environment: the caller passes values.
package measure

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/stress"
)

// Defaults of a run's settings, for the values neither the suite nor an override sets; the
// command line binds its flags' defaults to them.
const (
	DefaultBackend  = "ort"
	DefaultDuration = 10 * time.Second
	DefaultWarmup   = "1s"
	DefaultProfile  = "pr"
	DefaultSeed     = 1
)

// Overrides are settings given outside the suite (flags); a nil field is not given, and the
// suite's value (or the default) applies.
type Overrides struct {
	Backend, Model, Synthetic *string
	Worker                    *string
	Inputs                    *[]string
	Seed                      *int64
	Duration                  *time.Duration
	Iterations                *int64
	Warmup                    *string
	Interval                  *time.Duration
	Threads                   *int
	CPUs, Sched               *string
	Mlock, Spinning           *bool
	Rate, Arrivals, Overrun   *string
	Deadline                  *time.Duration
	// Tags are KEY=VALUE pairs added to the suite's tags.
	Tags []string
}

// Request says what to resolve: a configuration suite (nil: none, the overrides say it all),
// the profile whose per-profile values apply, where the result goes, and the overrides.
type Request struct {
	Suite        *config.Suite
	ConfigDigest string
	// Name names the suite when there is no configuration (default: the model's base name,
	// or "synthetic").
	Name    string
	Profile string
	// Out is the result directory (default: NAME-TIMESTAMP in the working directory).
	Out       string
	Overrides Overrides
	// Now stamps the default Out; zero means time.Now.
	Now time.Time
	// Online are the host's online CPUs (host.OnlineCPUs); nil skips the checks against the
	// host: the measured CPUs must be online, and threads at most ThreadsPerCPU per CPU.
	Online []int
}

// ThreadsPerCPU bounds intra-op threads per online CPU: more only time-slice one another, and a
// typo (threads: 100000) would grow memory until the board kills the run.
const ThreadsPerCPU = 4

// Plan is everything a run needs, resolved and validated.
type Plan struct {
	Suite, Profile, ConfigDigest string
	Backend, Model, Synthetic    string
	// Worker is the exec backend's worker argv.
	Worker           []string
	Inputs           []inputs.Spec
	Seed             int64
	Duration         time.Duration
	Iterations       int64
	WarmupDuration   time.Duration
	WarmupIterations int64
	Interval         time.Duration
	Threads          int
	CPUs             []int
	Policy           sched.Policy
	Mlock, Spinning  bool
	Out              string
	Tags             map[string]string
	Open             harness.OpenLoop
}

// SettingError is a problem with one setting; Setting is its name as the configuration spells
// it (model, cpus, sched, …), so the caller can say where the value came from.
type SettingError struct {
	Setting string
	// Value is the offending value as given, when the message needs it.
	Value string
	Err   error
}

func (e *SettingError) Error() string { return e.Name() + ": " + e.Err.Error() }

// Name is the setting and its offending value, as an error message starts.
func (e *SettingError) Name() string {
	if e.Value == "" {
		return e.Setting
	}
	return fmt.Sprintf("%s %q", e.Setting, e.Value)
}
func (e *SettingError) Unwrap() error { return e.Err }

func settingErr(setting string, format string, a ...any) error {
	return &SettingError{Setting: setting, Err: fmt.Errorf(format, a...)}
}

func valueErr(setting, value string, format string, a ...any) error {
	return &SettingError{Setting: setting, Value: value, Err: fmt.Errorf(format, a...)}
}

// pick returns the override when given, else the suite's value when set, else def.
func pick[T comparable](over *T, suite, def T) T {
	var zero T
	switch {
	case over != nil:
		return *over
	case suite != zero:
		return suite
	}
	return def
}

// texts are the settings that are parsed on validation, as merged from overrides, suite and
// defaults.
type texts struct {
	inputs                  []string
	worker                  string
	warmup, cpus, sched     string
	rate, overrun, arrivals string
	deadline                time.Duration
}

// Resolve merges the suite (if any) with the overrides and validates every setting, returning
// every problem at once (as *SettingError values joined) and nothing on disk touched.
func Resolve(r Request) (*Plan, error) {
	s := r.Suite
	if s == nil {
		s = &config.Suite{}
	}
	p, t := merge(r, s)
	errs := slices.Concat(p.checkWorkload(t), p.checkTiming(t, r.Overrides), p.checkPlacement(t), p.checkHost(r.Online))
	if p.Profile != "pr" && p.Profile != "nightly" {
		errs = append(errs, valueErr("profile", p.Profile, "want pr or nightly"))
	}
	for _, tag := range r.Overrides.Tags {
		k, v, ok := strings.Cut(tag, "=")
		if !ok || k == "" {
			errs = append(errs, valueErr("tag", tag, "want KEY=VALUE"))
			continue
		}
		p.Tags[k] = v
	}
	p.name(r)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// merge takes each setting from the overrides, else the suite, else the default.
func merge(r Request, s *config.Suite) (*Plan, texts) {
	o := r.Overrides
	p := &Plan{Profile: pick(nil, r.Profile, DefaultProfile), ConfigDigest: r.ConfigDigest, Tags: maps.Clone(s.Tags)}
	if p.Tags == nil {
		p.Tags = map[string]string{}
	}
	p.Backend = pick(o.Backend, s.Backend, DefaultBackend)
	p.Model = pick(o.Model, s.Model, "")
	p.Synthetic = pick(o.Synthetic, s.Synthetic, synthetic.DefaultSpec)
	p.Seed = *cmp.Or(o.Seed, new(s.EffectiveSeed(DefaultSeed)))
	p.Duration = pick(o.Duration, s.Duration.For(p.Profile), 0)
	p.Iterations = pick(o.Iterations, s.Iterations, 0)
	p.Interval = pick(o.Interval, s.Interval.For(p.Profile), 0)
	p.Threads = pick(o.Threads, s.Threads, ortbackend.DefaultThreads)
	p.Mlock = pick(o.Mlock, s.Mlock, false)
	// A false here is a setting, not an absence: the first one given wins.
	p.Spinning = *cmp.Or(o.Spinning, s.Spinning, new(ortbackend.DefaultSpinning))
	t := texts{inputs: s.InputSpecs(), worker: pick(o.Worker, s.Worker, ""), warmup: pick(o.Warmup, s.Warmup, DefaultWarmup),
		sched: pick(o.Sched, s.Sched, sched.DefaultPolicy), arrivals: pick(o.Arrivals, "", harness.ArrivalsFixed)}
	if o.Inputs != nil {
		t.inputs = *o.Inputs
	}
	if len(s.CPUs) > 0 {
		t.cpus = host.FormatCPUList(s.CPUs)
	}
	t.cpus = pick(o.CPUs, t.cpus, "")
	if s.Mode == "open" {
		t.rate, t.overrun, t.deadline = s.Rate, s.Overrun, time.Duration(s.Deadline)
	}
	t.rate = pick(o.Rate, t.rate, "")
	t.overrun = pick(o.Overrun, t.overrun, harness.OverrunQueue)
	t.deadline = pick(o.Deadline, t.deadline, 0)
	return p, t
}

// checkWorkload validates what is run: the backend, its model or distribution, the inputs.
func (p *Plan) checkWorkload(t texts) []error {
	var errs []error
	switch p.Backend {
	case "ort":
		if p.Model == "" {
			errs = append(errs, settingErr("model", "required with backend ort"))
		}
	case "exec":
		if strings.TrimSpace(t.worker) == "" {
			errs = append(errs, settingErr("worker", "required with backend exec: the worker's command line"))
		} else if argv, err := stress.Split(t.worker); err != nil {
			errs = append(errs, &SettingError{Setting: "worker", Err: err})
		} else {
			p.Worker = argv
		}
		if len(t.inputs) > 0 {
			errs = append(errs, settingErr("input", "does not apply to backend exec: the worker prepares its own inputs"))
		}
	case "synthetic":
		if len(t.inputs) > 0 || p.Model != "" {
			errs = append(errs, settingErr("model", "model and inputs do not apply to backend synthetic"))
		}
		if _, err := synthetic.Parse(p.Synthetic); err != nil {
			errs = append(errs, &SettingError{Setting: "synthetic", Err: err})
		}
	default:
		errs = append(errs, valueErr("backend", p.Backend, "want ort, synthetic or exec"))
	}
	if p.Backend != "exec" && t.worker != "" {
		errs = append(errs, settingErr("worker", "applies to backend exec only"))
	}
	if specs, err := inputs.ParseSpecs(t.inputs); err != nil {
		errs = append(errs, &SettingError{Setting: "input", Err: err})
	} else {
		p.Inputs = specs
	}
	return errs
}

// checkTiming validates how long and how it is timed: duration, iterations, warm-up, interval,
// and the open loop's rate, deadline and overrun.
func (p *Plan) checkTiming(t texts, o Overrides) []error {
	var errs []error
	if p.Duration < 0 || p.Duration > config.MaxDuration {
		errs = append(errs, settingErr("duration", "%s: want a positive duration of at most %s", p.Duration, config.MaxDuration))
	}
	if p.Iterations < 0 {
		errs = append(errs, settingErr("iterations", "%d is negative", p.Iterations))
	}
	if p.Duration == 0 && p.Iterations == 0 {
		p.Duration = DefaultDuration
	}
	if d, n, err := config.ParseWarmup(t.warmup); err != nil {
		errs = append(errs, &SettingError{Setting: "warmup", Err: err})
	} else if d > config.MaxDuration {
		errs = append(errs, settingErr("warmup", "%s: want at most %s", d, config.MaxDuration))
	} else {
		p.WarmupDuration, p.WarmupIterations = d, n
	}
	switch {
	case p.Interval < 0 || (o.Interval != nil && *o.Interval == 0):
		// An explicit 0 is not "the default": a user who typed it meant something else.
		errs = append(errs, settingErr("interval", "%s: want a positive duration", p.Interval))
	case p.Interval == 0:
		p.Interval = config.DefaultInterval.For(p.Profile)
	case p.Interval > config.MaxDuration || (p.Duration > 0 && p.Iterations == 0 && p.Interval > p.Duration):
		errs = append(errs, settingErr("interval", "%s: want at most the run's duration (%s)", p.Interval, p.Duration))
	}
	if t.rate != "" {
		if rps, err := config.ParseRate(t.rate); err != nil {
			errs = append(errs, &SettingError{Setting: "rate", Err: err})
		} else {
			p.Open = harness.OpenLoop{Rate: rps, Arrivals: t.arrivals, Seed: p.Seed, Deadline: t.deadline, Overrun: t.overrun}
			if err := p.Open.Validate(); err != nil {
				errs = append(errs, &SettingError{Setting: "rate", Err: err})
			}
		}
	} else if o.Deadline != nil || o.Overrun != nil || o.Arrivals != nil {
		errs = append(errs, settingErr("rate", "required by deadline, overrun and arrivals (the open loop)"))
	}
	return errs
}

// checkPlacement validates where it runs: threads, CPUs and the scheduling class.
func (p *Plan) checkPlacement(t texts) []error {
	var errs []error
	if p.Threads < 1 || p.Threads > config.MaxThreads {
		// Each thread is an OS thread with its own arena: an unbounded count grows memory
		// until the board kills the run.
		errs = append(errs, settingErr("threads", "%d: want 1 to %d", p.Threads, config.MaxThreads))
	}
	if t.cpus != "" {
		list, err := host.ParseCPUList(t.cpus)
		if err != nil {
			errs = append(errs, &SettingError{Setting: "cpus", Err: err})
		} else if n := len(list); n != 1 && n != p.Threads && p.Backend != "exec" {
			errs = append(errs, settingErr("cpus", "%s: give 1 CPU (the timing thread) or threads=%d CPUs (timing thread, then one per ONNX Runtime worker), not %d", t.cpus, p.Threads, n))
		} else {
			p.CPUs = list
		}
	}
	if pol, err := sched.Parse(t.sched); err != nil {
		errs = append(errs, &SettingError{Setting: "sched", Err: err})
	} else if pol.Kind == sched.Deadline && p.Backend == "exec" {
		errs = append(errs, settingErr("sched", "deadline does not apply to backend exec: a SCHED_DEADLINE thread cannot start the worker; use fifo:PRIO"))
	} else {
		p.Policy = pol
	}
	return errs
}

// checkHost validates the placement against the host's online CPUs, when they are known.
func (p *Plan) checkHost(online []int) []error {
	if online == nil {
		return nil
	}
	var errs []error
	for _, c := range p.CPUs {
		if !slices.Contains(online, c) {
			errs = append(errs, settingErr("cpus", "CPU %d is not online on this host (online: %s)", c, host.FormatCPUList(online)))
		}
	}
	if limit := ThreadsPerCPU * len(online); p.Threads > limit {
		errs = append(errs, settingErr("threads", "%d: more than %d per online CPU (%d here)", p.Threads, ThreadsPerCPU, limit))
	}
	return errs
}

// name sets the suite name (the suite's, the request's, else the model's base name or
// "synthetic") and the result directory (the request's, else NAME-TIMESTAMP).
func (p *Plan) name(r Request) {
	p.Suite = r.Name
	if r.Suite != nil && r.Suite.Name != "" {
		p.Suite = r.Suite.Name
	}
	if p.Suite == "" {
		if p.Backend == "synthetic" || (p.Backend == "exec" && p.Model == "") {
			p.Suite = p.Backend
		} else {
			p.Suite = strings.TrimSuffix(filepath.Base(p.Model), filepath.Ext(p.Model))
		}
	}
	p.Out = r.Out
	if p.Out == "" {
		now := r.Now
		if now.IsZero() {
			now = time.Now()
		}
		p.Out = fmt.Sprintf("%s-%s", p.Suite, now.UTC().Format("20060102T150405Z"))
	}
}
