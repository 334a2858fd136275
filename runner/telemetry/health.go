package telemetry

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/runner/host"
)

// This file is the one set of health rules. Per telemetry line (rules.line): throttle bits set
// now, throttle bits that newly occurred since the run started, a measured CPU's frequency
// moving beyond tolerance from its reference, GC cycles. The Sampler runs them on each line it
// takes, live; FromTelemetry runs them on the lines of telemetry.jsonl (a resumed run's first
// part). Per run, HarnessReasons judges the harness's own counters. Apply folds reasons into
// meta.json's health.

// rules holds the per-line rules' state: the references lines are judged against and the
// reasons found so far, each once. Judging a line allocates nothing unless it finds a new
// reason or a CPU not seen before, so the Sampler runs it while the GC is off.
type rules struct {
	tolerance float64
	freq0     map[string]int64 // per CPU key: its frequency when the run started, else its first reading
	cpus      []string         // freq0's keys, sorted, so reasons come in one order live and on replay
	thr0      host.Throttled   // the throttle word when the run started, else its first reading
	thrOK     bool
	seen      map[noteKey]bool
	reasons   []string
}

// noteKey names a health reason, so repeating it costs a map lookup and no formatting.
type noteKey struct {
	kind string
	cpu  string
	bits uint64
}

// newRules returns the rules with a frequency tolerance (DefaultFreqTolerance when not
// positive) and no references yet.
func newRules(tolerance float64) *rules {
	if tolerance <= 0 {
		tolerance = DefaultFreqTolerance
	}
	return &rules{tolerance: tolerance, freq0: map[string]int64{}, seen: map[noteKey]bool{}}
}

// first marks a reason seen and reports whether it is new, so a six-hour throttled night
// yields one reason, not two thousand, and formats it once.
func (r *rules) first(k noteKey) bool {
	if r.seen[k] {
		return false
	}
	r.seen[k] = true
	return true
}

func (r *rules) note(k noteKey, reason string) {
	if r.first(k) {
		r.reasons = append(r.reasons, reason)
	}
}

// startFreq sets a CPU's reference frequency from a reading taken before the first interval
// (the Sampler's; on replay the first line's reading is the reference).
func (r *rules) startFreq(cpu string, khz int64) {
	if _, ok := r.freq0[cpu]; !ok {
		r.cpus = append(r.cpus, "")
		i, _ := slices.BinarySearch(r.cpus[:len(r.cpus)-1], cpu)
		copy(r.cpus[i+1:], r.cpus[i:])
		r.cpus[i] = strings.Clone(cpu)
	}
	r.freq0[strings.Clone(cpu)] = khz
}

// startThrottle sets the reference throttle word from a reading taken before the first
// interval; bits set now at that point are a reason of their own.
func (r *rules) startThrottle(w host.Throttled) {
	r.thr0, r.thrOK = w, true
	if now := w & host.NowMask; now != 0 {
		r.note(noteKey{kind: "throttle-start"}, fmt.Sprintf("throttle word %s when the run started (%s)", w, strings.Join(now.Reasons(), ", ")))
	}
}

// line judges one telemetry line. t may be a line the Sampler lends (its strings are copied
// into any reason, never kept).
func (r *rules) line(t *result.Telemetry) {
	if t.Throttled != nil {
		w := host.Throttled(*t.Throttled)
		if !r.thrOK {
			r.thr0, r.thrOK = w, true
		}
		if now := w & host.NowMask; now != 0 && r.first(noteKey{kind: "throttle-now", bits: uint64(now)}) {
			r.reasons = append(r.reasons, fmt.Sprintf("throttle word %s at interval %d (%s): %s", w, t.Interval, t.Time, strings.Join(now.Reasons(), ", ")))
		}
		if fresh := (w &^ r.thr0) & host.OccurredMask; fresh != 0 && r.first(noteKey{kind: "throttle-occurred", bits: uint64(fresh)}) {
			r.reasons = append(r.reasons, fmt.Sprintf("throttle word %s at interval %d (%s): %s since the run started", w, t.Interval, t.Time, strings.Join(fresh.Reasons(), ", ")))
		}
	}
	for c, f := range t.FreqKHz {
		if _, ok := r.freq0[c]; !ok {
			r.startFreq(c, f) // a CPU's first reading is its reference
		}
	}
	for _, c := range r.cpus {
		f, ok := t.FreqKHz[c]
		f0 := r.freq0[c]
		if !ok || f0 <= 0 {
			continue
		}
		if math.Abs(float64(f-f0))/float64(f0) > r.tolerance && r.first(noteKey{kind: "freq", cpu: c}) {
			r.reasons = append(r.reasons, fmt.Sprintf("cpu%s frequency changed %d→%d MHz at interval %d (%s)", c, f0/1000, f/1000, t.Interval, t.Time))
		}
	}
	if t.GCCycles > 0 && r.first(noteKey{kind: "gc"}) {
		r.reasons = append(r.reasons, fmt.Sprintf("%d GC cycle(s) while timing, first at interval %d", t.GCCycles, t.Interval))
	}
}

// FromTelemetry re-derives health reasons from telemetry lines already written (a resumed
// run's first part) with the rules the Sampler applies live, each line's readings judged
// against the first line's (frequency tolerance DefaultFreqTolerance when not positive).
func FromTelemetry(lines []result.Telemetry, tolerance float64) []string {
	j := NewJudge(tolerance)
	for i := range lines {
		j.Line(&lines[i])
	}
	return j.Reasons()
}

// Judge is FromTelemetry one line at a time, for a reader that streams telemetry.jsonl and
// keeps no line: a 48-hour run's first part holds a line per interval.
type Judge struct{ r *rules }

// NewJudge returns a Judge with the frequency tolerance (DefaultFreqTolerance when not positive).
func NewJudge(tolerance float64) *Judge { return &Judge{r: newRules(tolerance)} }

// Line judges one telemetry line against the first one's readings.
func (j *Judge) Line(t *result.Telemetry) { j.r.line(t) }

// Reasons returns the health reasons found so far, each once.
func (j *Judge) Reasons() []string { return j.r.reasons }

// HarnessReasons judges the harness's own counters for the run it timed: GC cycles beyond the
// collections the writer forced at interval swaps (Report.ForcedGCs, expected) mean something
// allocated while timing, and samples above result.HighestNs were clipped to it. None: healthy.
func HarnessReasons(rep *harness.Report) []string {
	var out []string
	if unexpected := int64(rep.GCCycles) - int64(rep.ForcedGCs); unexpected > 0 {
		out = append(out, fmt.Sprintf("%d unexpected GC cycles ran while timing", unexpected))
	}
	if rep.Overflow > 0 {
		out = append(out, fmt.Sprintf("%d samples above the histogram's %gh range", rep.Overflow, time.Duration(result.HighestNs).Hours()))
	}
	return out
}

// Apply folds health reasons into h: any reason makes the run unhealthy; with allowUnhealthy
// the run stays gateable and the override is recorded (Overridden).
func Apply(h result.Health, reasons []string, allowUnhealthy bool) result.Health {
	for _, r := range reasons {
		if !slices.Contains(h.Reasons, r) {
			h.Reasons = append(h.Reasons, r)
		}
	}
	if len(h.Reasons) > 0 {
		h.Healthy = false
	}
	if !h.Healthy && allowUnhealthy {
		h.Overridden = true
	}
	return h
}
