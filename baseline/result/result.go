// Package result owns tailgate's result format: a directory holding latency.hlog (an
// HdrHistogram V2 interval log in nanoseconds), meta.json and telemetry.jsonl. It reads and
// writes them, strictly, and derives the environment key from the pinned part of the
// fingerprint. It does not measure (harness), store (baseline) or judge (gate).
//
// The format is documented in docs/formats.md; SchemaVersion changes when it does.
package result

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SchemaVersion is the version of meta.json this package writes and the newest it reads.
const SchemaVersion = 1

// File names inside a result directory.
const (
	LatencyFile   = "latency.hlog"
	MetaFile      = "meta.json"
	TelemetryFile = "telemetry.jsonl"
)

// Histogram range and precision used for every recorded latency: 1 ns to 1 hour at 3
// significant digits (0.1 % value resolution).
const (
	LowestNs  = 1
	HighestNs = int64(time.Hour)
	SigFigs   = 3
)

// NewHistogram returns an empty latency histogram with the format's range and precision.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(LowestNs, HighestNs, SigFigs)
}

// Meta is meta.json.
type Meta struct {
	Schema       int               `json:"schema"`
	Suite        string            `json:"suite"`
	Profile      string            `json:"profile,omitempty"`
	ConfigDigest string            `json:"config_digest,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	Env          Fingerprint       `json:"env"`
	Git          Git               `json:"git"`
	Workload     Workload          `json:"workload"`
	Start        time.Time         `json:"start"`
	End          time.Time         `json:"end"`
	Counts       Counts            `json:"counts"`
	Summary      Summary           `json:"summary"`
	// Classes holds a summary per interval-log tag (input class or phase) when there are several.
	Classes map[string]Summary `json:"classes,omitempty"`
	// DeviceTime summarises the device-side durations an out-of-process worker reported
	// (latency.hlog's device-tagged intervals), when it reported any.
	DeviceTime  *Summary    `json:"device_time,omitempty"`
	Calibration Calibration `json:"calibration"`
	Health      Health      `json:"health"`
	Tool        Tool        `json:"tool"`
	// Import is set when `tailgate import` made the result from another tool's data rather
	// than tailgate measuring it.
	Import *Import `json:"import,omitempty"`
	// AB is set for an interleaved A/B run, whose log holds two arms (see AB).
	AB *AB `json:"ab,omitempty"`
}

// Import records where an imported result's latencies came from and how they were read.
type Import struct {
	Format string `json:"format"` // hlog, histogram, lines, csv or jsonl
	File   string `json:"file"`   // the input's base name
	SHA256 string `json:"sha256"` // of the input's bytes
	Unit   string `json:"unit"`   // unit of the input's values: ns, us, ms or s
	// Tag is the interval-log tag that was imported, when the log had tags.
	Tag string `json:"tag,omitempty"`
	// Column is the CSV column or JSON-lines field the values came from.
	Column string `json:"column,omitempty"`
	// Grouping says how a list's values were cut into intervals: "per N values" or
	// "by COLUMN every DURATION".
	Grouping string `json:"grouping,omitempty"`
	// Source is the histogram geometry of an interval log or histogram that differs from
	// tailgate's, re-recorded bucket by bucket at each bucket's highest equivalent value.
	Source string `json:"source_geometry,omitempty"`
}

// Fingerprint describes the host and software a result was measured on. Fields tagged
// pinned:"true" form the environment key: results are only comparable when they agree.
type Fingerprint struct {
	Arch          string            `json:"arch" pinned:"true"`
	OS            string            `json:"os"`
	KernelRelease string            `json:"kernel_release" pinned:"true"`
	KernelVersion string            `json:"kernel_version"`
	PreemptRT     bool              `json:"preempt_rt" pinned:"true"`
	Isolcpus      string            `json:"isolcpus,omitempty"`
	NohzFull      string            `json:"nohz_full,omitempty"`
	RcuNocbs      string            `json:"rcu_nocbs,omitempty"`
	CPUModel      string            `json:"cpu_model" pinned:"true"`
	CPUCount      int               `json:"cpu_count"`
	Board         string            `json:"board,omitempty" pinned:"true"`
	Governors     map[string]string `json:"governors,omitempty"`
	Backend       string            `json:"backend" pinned:"true"`
	ORTVersion    string            `json:"ort_version,omitempty" pinned:"true"`
	ORTSHA256     string            `json:"ort_sha256,omitempty" pinned:"true"`
	// Runtime, RuntimeVersion and Device are what an out-of-process worker named in its
	// handshake (e.g. hailort, 4.20.0, Hailo-10H); empty for the in-process backends.
	Runtime        string `json:"runtime,omitempty" pinned:"true"`
	RuntimeVersion string `json:"runtime_version,omitempty" pinned:"true"`
	Device         string `json:"device,omitempty" pinned:"true"`
	// ModelSHA256 is recorded but not pinned: the model is what a pull request changes and the
	// gate judges, not part of the environment it is judged in.
	ModelSHA256 string `json:"model_sha256,omitempty"`
	Threads     int    `json:"threads" pinned:"true"`
	CPUs        []int  `json:"cpus,omitempty" pinned:"true"`
	Sched       string `json:"sched" pinned:"true"`
	GoVersion   string `json:"go_version"`
	ToolVersion string `json:"tool_version"`
}

// Git locates the code that was measured.
type Git struct {
	Repo   string `json:"repo,omitempty"`
	Commit string `json:"commit,omitempty"`
	Ref    string `json:"ref,omitempty"`
	PR     int    `json:"pr,omitempty"`
}

// Workload says what was run and how.
type Workload struct {
	Model   string `json:"model,omitempty"`
	Backend string `json:"backend"`
	Synth   string `json:"synthetic,omitempty"`
	// Worker is the exec backend's worker command (argv).
	Worker   []string      `json:"worker,omitempty"`
	Inputs   []InputSpec   `json:"inputs,omitempty"`
	Threads  int           `json:"threads"`
	CPUs     []int         `json:"cpus,omitempty"`
	Sched    string        `json:"sched"`
	Mlock    bool          `json:"mlock,omitempty"`
	Mode     string        `json:"mode"` // closed or open
	Rate     float64       `json:"rate_per_s,omitempty"`
	Deadline time.Duration `json:"deadline_ns,omitempty"`
	Overrun  string        `json:"overrun,omitempty"`
	// Arrivals is the open loop's arrival process: "fixed" or "poisson".
	Arrivals string        `json:"arrivals,omitempty"`
	Interval time.Duration `json:"interval_ns"`
	Seed     int64         `json:"seed"`
	// RTPacing records how RT throttling was avoided (e.g. "paced: 50ms sleep per 950ms"), if it was.
	RTPacing string `json:"rt_pacing,omitempty"`
}

// InputSpec records one model input as it was fed.
type InputSpec struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"`
	Shape []int64 `json:"shape"`
	Fill  string  `json:"fill"`
}

// Counts are sample and interval counts of a run.
type Counts struct {
	Samples   int64 `json:"samples"`
	Intervals int   `json:"intervals"`
	Warmup    int64 `json:"warmup"`
	Missed    int64 `json:"missed,omitempty"`  // open loop: completions after the deadline
	Dropped   int64 `json:"dropped,omitempty"` // open loop: arrivals dropped on overrun
	Overflow  int64 `json:"overflow,omitempty"`
}

// Summary holds latency statistics in nanoseconds. Quantiles are HdrHistogram values, which
// are the highest value equivalent to the bucket the quantile falls in.
type Summary struct {
	Count  int64   `json:"count"`
	Min    int64   `json:"min_ns"`
	Mean   float64 `json:"mean_ns"`
	StdDev float64 `json:"stddev_ns"`
	P50    int64   `json:"p50_ns"`
	P90    int64   `json:"p90_ns"`
	P99    int64   `json:"p99_ns"`
	P999   int64   `json:"p99_9_ns"`
	P9999  int64   `json:"p99_99_ns"`
	Max    int64   `json:"max_ns"`
}

// validate reports negative counts: a writer never produces them, so they mean damage or a
// hand edit.
func (c Counts) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{{"samples", c.Samples}, {"intervals", int64(c.Intervals)}, {"warmup", c.Warmup}, {"missed", c.Missed},
		{"dropped", c.Dropped}, {"overflow", c.Overflow}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("counts.%s %d is negative", f.name, f.v))
		}
	}
	return errs
}

// validate reports negative or disordered statistics under the key name.
func (s Summary) validate(name string) []error {
	var errs []error
	if s.Count < 0 || s.Min < 0 || s.Mean < 0 || s.StdDev < 0 || math.IsNaN(s.Mean) || math.IsNaN(s.StdDev) {
		errs = append(errs, fmt.Errorf("%s: negative or NaN count, min, mean or stddev", name))
	}
	if !(s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.P999 && s.P999 <= s.P9999 && s.P9999 <= s.Max) {
		errs = append(errs, fmt.Errorf("%s: min ≤ p50 ≤ … ≤ p99.99 ≤ max does not hold", name))
	}
	return errs
}

// Summarize computes a Summary from a histogram.
func Summarize(h *hdrhistogram.Histogram) Summary {
	if h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.TotalCount(), Min: h.Min(), Mean: h.Mean(), StdDev: h.StdDev(),
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), P9999: h.ValueAtQuantile(99.99), Max: h.Max(),
	}
}

// Jitter is p99/p50, the tail's spread relative to the typical latency (0 when there are no
// samples): a CPU run and an NPU run of one model compare by it where their medians differ.
func (s Summary) Jitter() float64 {
	if s.P50 <= 0 {
		return 0
	}
	return float64(s.P99) / float64(s.P50)
}

// RuntimeLabel names what ran the inference, as reports label a result: the exec worker's
// runtime, version and device (hailort 4.20.0 on HAILO10H), else the in-process backend
// (onnxruntime 1.30.0 on cpu, synthetic).
func (f Fingerprint) RuntimeLabel() string {
	switch {
	case f.Runtime != "":
		return f.Runtime + " " + f.RuntimeVersion + " on " + f.Device
	case f.Backend == "ort" || f.Backend == "" && f.ORTVersion != "":
		return "onnxruntime " + f.ORTVersion + " on cpu"
	}
	return f.Backend
}

// Calibration is the harness's measured cost of itself.
type Calibration struct {
	ClockReadNs    float64 `json:"clock_read_ns"`
	LoopRecordNs   float64 `json:"loop_record_ns"`
	TimerResolveNs float64 `json:"timer_resolution_ns"`
	// TransportP50Ns and TransportP99Ns are an echo worker's round trip over the exec
	// backend's pipes, from the same pinned thread: what the transport adds to every sample.
	TransportP50Ns int64 `json:"transport_p50_ns,omitempty"`
	TransportP99Ns int64 `json:"transport_p99_ns,omitempty"`
}

// Health says whether the run's conditions were fit for a verdict.
type Health struct {
	Healthy bool     `json:"healthy"`
	Reasons []string `json:"reasons,omitempty"`
	// Overridden is set when --allow-unhealthy kept an unhealthy run gateable.
	Overridden bool `json:"overridden,omitempty"`
}

// Tool identifies the tailgate build that wrote the result.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Go      string `json:"go"`
}

// Pinned returns the pinned fingerprint fields as name → value strings (the fields added
// after the first release only when set).
func (f Fingerprint) Pinned() map[string]string {
	b, _ := json.Marshal(f)
	var all map[string]any
	_ = json.Unmarshal(b, &all)
	out := map[string]string{}
	for _, name := range pinnedFields {
		v, ok := all[name]
		if !ok || v == nil {
			if !addedPinned[name] {
				out[name] = ""
			}
			continue
		}
		enc, _ := json.Marshal(v)
		out[name] = string(enc)
	}
	return out
}

// pinnedFields lists the JSON names of the fields tagged pinned:"true", in declaration order.
var pinnedFields = func() []string {
	var out []string
	t := reflect.TypeFor[Fingerprint]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("pinned") == "true" {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}()

// addedPinned are the pinned fields added after the first release: Pinned, and so Key, leave
// them out while they are empty, so the environment keys of results (and baselines) written
// before them, and of every in-process run, did not change.
var addedPinned = map[string]bool{"runtime": true, "runtime_version": true, "device": true}

// Key is the environment key: a short hash of the pinned fields. Results with equal keys were
// measured on the same pinned environment.
func (f Fingerprint) Key() string {
	p := f.Pinned()
	names := make([]string, 0, len(p))
	for n := range p {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%s\n", n, p[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// FieldDiff is one pinned field whose values differ.
type FieldDiff struct {
	Field string `json:"field"`
	A     string `json:"a"`
	B     string `json:"b"`
}

// DiffPinned lists every pinned field that differs between a and b, in a stable order.
func DiffPinned(a, b Fingerprint) []FieldDiff {
	pa, pb := a.Pinned(), b.Pinned()
	var out []FieldDiff
	for _, n := range pinnedFields {
		if pa[n] != pb[n] {
			out = append(out, FieldDiff{Field: n, A: pa[n], B: pb[n]})
		}
	}
	return out
}

// ReadMeta reads and validates dir/meta.json.
func ReadMeta(dir string) (*Meta, error) {
	path := filepath.Join(dir, MetaFile)
	b, err := ReadRegular(path)
	if err != nil {
		return nil, err
	}
	return ParseMeta(path, b)
}

// ParseMeta decodes meta.json bytes; name is used in errors.
func ParseMeta(name string, b []byte) (*Meta, error) {
	var m Meta
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the JSON object", name)
	}
	var errs []error
	if m.Schema < 1 || m.Schema > SchemaVersion {
		errs = append(errs, fmt.Errorf("schema %d not supported (this tailgate reads 1..%d)", m.Schema, SchemaVersion))
	}
	if m.Suite == "" {
		errs = append(errs, fmt.Errorf("suite is empty"))
	}
	errs = append(errs, m.Counts.validate()...)
	errs = append(errs, m.Summary.validate("summary")...)
	for tag, c := range m.Classes {
		errs = append(errs, c.validate("classes."+tag)...)
	}
	if m.DeviceTime != nil {
		errs = append(errs, m.DeviceTime.validate("device_time")...)
	}
	if m.Summary.Count != 0 && m.Summary.Count != m.Counts.Samples {
		errs = append(errs, fmt.Errorf("summary.count %d disagrees with counts.samples %d", m.Summary.Count, m.Counts.Samples))
	}
	if m.AB != nil {
		errs = append(errs, m.AB.validate()...)
	}
	if !m.End.IsZero() && m.End.Before(m.Start) {
		errs = append(errs, fmt.Errorf("end %s is before start %s", m.End, m.Start))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	return &m, nil
}

// WriteMeta writes dir/meta.json atomically.
func WriteMeta(dir string, m *Meta) error {
	if m.Schema == 0 {
		m.Schema = SchemaVersion
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, MetaFile), append(b, '\n'), 0o644)
}
