package ortbackend

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/harness/inputs"
	ort "github.com/yalue/onnxruntime_go"
)

// Defaults of Options, for flag defaults in cmd.
const (
	// DefaultThreads is one intra-op thread: the inference runs on the (pinned) timing thread
	// itself and ONNX Runtime starts no worker threads that could land on a noisy CPU.
	DefaultThreads = 1
	// DefaultSpinning is off: a spinning worker pool burns the CPUs the rest of the board
	// needs and, when those CPUs are shared, steals time from the timing thread. Set it on when
	// the workers have isolated CPUs of their own.
	DefaultSpinning = false
	// DefaultGraphOpt is ONNX Runtime's own default, so timings match production sessions.
	DefaultGraphOpt = GraphOptAll
	// DefaultSets is how many rotating input sets are prepared per random class.
	DefaultSets = inputs.DefaultSets
)

// GraphOpt is an ONNX Runtime graph optimisation level.
type GraphOpt string

// The graph optimisation levels, as --graph-opt spells them.
const (
	GraphOptDisable  GraphOpt = "disable"
	GraphOptBasic    GraphOpt = "basic"
	GraphOptExtended GraphOpt = "extended"
	GraphOptAll      GraphOpt = "all"
)

var graphOptLevels = map[GraphOpt]ort.GraphOptimizationLevel{
	GraphOptDisable:  ort.GraphOptimizationLevelDisableAll,
	GraphOptBasic:    ort.GraphOptimizationLevelEnableBasic,
	GraphOptExtended: ort.GraphOptimizationLevelEnableExtended,
	GraphOptAll:      ort.GraphOptimizationLevelEnableAll,
}

// ParseGraphOpt parses a graph optimisation level name.
func ParseGraphOpt(s string) (GraphOpt, error) {
	if _, ok := graphOptLevels[GraphOpt(s)]; ok {
		return GraphOpt(s), nil
	}
	return "", fmt.Errorf("graph optimisation level %q: want disable, basic, extended or all", s)
}

// Session config keys tailgate sets itself; Options.ConfigEntries may not override them, so
// what meta.json records is what ran.
const (
	keyAffinities     = "session.intra_op_thread_affinities"
	keyIntraSpinning  = "session.intra_op.allow_spinning"
	keyInterSpinning  = "session.inter_op.allow_spinning"
	keyDenormalAsZero = "session.set_denormal_as_zero"
)

// Options configure Open. The zero value of every field but Model is usable.
//
// Execution providers (an NPU, for instance) are not wired yet; they will be another field here
// (a list of provider names and options appended in order), so callers built on this struct
// keep compiling.
type Options struct {
	// Model is the .onnx file.
	Model string
	// Inputs are the --input specs. Inputs of the model without a spec get a random fill if
	// all their dimensions are fixed; a dynamic one without a spec is an error.
	Inputs []inputs.Spec
	// Seed seeds every random fill.
	Seed int64
	// Sets is the number of rotating input sets per random class; 0 means DefaultSets.
	Sets int
	// Threads is ONNX Runtime's intra-op thread count, including the calling thread; 0 means
	// DefaultThreads. Inter-op threads are always 1 and execution is sequential.
	Threads int
	// WorkerCPUs pins ONNX Runtime's intra-op worker threads, one Linux CPU number (0-based,
	// as in /proc/cpuinfo) per worker: Threads-1 entries, or none to leave them unpinned.
	// The calling thread is pinned by the harness, not here.
	WorkerCPUs []int
	// Spinning lets idle intra-op workers spin instead of sleeping (set explicitly either way).
	Spinning bool
	// GraphOpt is the graph optimisation level; empty means DefaultGraphOpt.
	GraphOpt GraphOpt
	// DenormalAsZero asks ONNX Runtime to flush subnormal floats to zero (FTZ/DAZ) on its
	// threads, which removes the subnormal slowdown the adversarial inputs look for.
	DenormalAsZero bool
	// ConfigEntries are extra session config entries (key → value), for knobs tailgate does
	// not model; keys tailgate sets itself are refused.
	ConfigEntries map[string]string
}

// Affinities renders WorkerCPUs in ONNX Runtime's session.intra_op_thread_affinities syntax:
// one entry per worker thread, separated by ';', with 1-based logical processor ids.
func Affinities(cpus []int) string {
	parts := make([]string, len(cpus))
	for i, c := range cpus {
		parts[i] = strconv.Itoa(c + 1)
	}
	return strings.Join(parts, ";")
}

// validate checks the options that need no model, collecting every problem.
func (o *Options) validate() []string {
	var probs []string
	if o.Model == "" {
		probs = append(probs, "no model given")
	}
	if o.Threads < 0 {
		probs = append(probs, fmt.Sprintf("threads %d: want at least 1", o.Threads))
	}
	threads := o.threads()
	if len(o.WorkerCPUs) > 0 && len(o.WorkerCPUs) != threads-1 {
		probs = append(probs, fmt.Sprintf("%d worker CPUs %v for %d intra-op threads: ONNX Runtime needs threads-1 = %d (the calling thread is pinned by the harness)",
			len(o.WorkerCPUs), o.WorkerCPUs, threads, threads-1))
	}
	for _, c := range o.WorkerCPUs {
		if c < 0 {
			probs = append(probs, fmt.Sprintf("worker CPU %d: CPU numbers start at 0", c))
		}
	}
	if o.GraphOpt != "" {
		if _, err := ParseGraphOpt(string(o.GraphOpt)); err != nil {
			probs = append(probs, err.Error())
		}
	}
	for _, k := range slices.Sorted(maps.Keys(o.ConfigEntries)) {
		switch k {
		case keyAffinities, keyIntraSpinning, keyInterSpinning, keyDenormalAsZero:
			probs = append(probs, fmt.Sprintf("session config entry %q is set by tailgate's own options; use them instead", k))
		}
	}
	if o.Sets < 0 {
		probs = append(probs, fmt.Sprintf("%d rotating sets: want at least 1", o.Sets))
	}
	return probs
}

func (o *Options) threads() int {
	if o.Threads == 0 {
		return DefaultThreads
	}
	return o.Threads
}

func (o *Options) graphOpt() GraphOpt {
	if o.GraphOpt == "" {
		return DefaultGraphOpt
	}
	return o.GraphOpt
}

// sessionOptions builds ONNX Runtime's session options. Every timing-relevant knob is set
// explicitly, so a change of ONNX Runtime's defaults cannot change what is measured.
func (o *Options) sessionOptions() (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	spin := "0"
	if o.Spinning {
		spin = "1"
	}
	steps := []step{
		{"intra-op threads", func() error { return so.SetIntraOpNumThreads(o.threads()) }},
		{"inter-op threads", func() error { return so.SetInterOpNumThreads(1) }},
		{"sequential execution", func() error { return so.SetExecutionMode(ort.ExecutionModeSequential) }},
		{"graph optimisation", func() error { return so.SetGraphOptimizationLevel(graphOptLevels[o.graphOpt()]) }},
		{keyIntraSpinning, func() error { return so.AddSessionConfigEntry(keyIntraSpinning, spin) }},
		{keyInterSpinning, func() error { return so.AddSessionConfigEntry(keyInterSpinning, spin) }},
	}
	if len(o.WorkerCPUs) > 0 {
		steps = append(steps, step{keyAffinities, func() error { return so.AddSessionConfigEntry(keyAffinities, Affinities(o.WorkerCPUs)) }})
	}
	entries := maps.Clone(o.ConfigEntries)
	if o.DenormalAsZero {
		if entries == nil {
			entries = map[string]string{}
		}
		entries[keyDenormalAsZero] = "1"
	}
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		steps = append(steps, step{k, func() error { return so.AddSessionConfigEntry(k, entries[k]) }})
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("session option %s: %w", s.what, err)
		}
	}
	return so, nil
}

// Settings describes the session settings as they were applied, for meta.json and logs.
func (o *Options) Settings() map[string]string {
	m := map[string]string{
		"intra_op_num_threads": strconv.Itoa(o.threads()),
		"inter_op_num_threads": "1",
		"execution_mode":       "sequential",
		"graph_optimization":   string(o.graphOpt()),
		keyIntraSpinning:       boolDigit(o.Spinning),
		keyInterSpinning:       boolDigit(o.Spinning),
	}
	if len(o.WorkerCPUs) > 0 {
		m[keyAffinities] = Affinities(o.WorkerCPUs)
	}
	if o.DenormalAsZero {
		m[keyDenormalAsZero] = "1"
	}
	maps.Copy(m, o.ConfigEntries)
	return m
}

// step is one session option to apply, named for the error if ONNX Runtime refuses it.
type step struct {
	what string
	do   func() error
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
