package htmlreport

import (
	"errors"
	"io/fs"
	"slices"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/plot"
)

// Result is one result as the page draws it, small whatever the run's length: its gate.Run
// (meta, block maxima and merged tails, from which the comparison, the percentile curve and
// the pWCET come) and its timeline, per time slot p50, p99 and maximum and the CPU temperature.
// Load computes it streaming the result's files; no interval histogram is kept.
type Result struct {
	Run *gate.Run
	// Slots are the run's time slots in time order, intervals of every tag that share a start
	// merged, as offsets from the first slot's start.
	Slots []plot.IntervalStats
	// Temps are the telemetry's CPU temperatures, each at the end of its slot.
	Temps []plot.Temperature
}

// Load streams the result directory dir: its log through gate.LoadRunEach, each slot's
// figures computed as its lines go by, and its telemetry one line at a time.
func Load(dir string) (*Result, error) {
	var tl timeline
	run, err := gate.LoadRunEach(dir, tl.addBuckets)
	if err != nil {
		return nil, err
	}
	return finish(run, &tl)
}

// LoadStored is Load for a run of a store, streamed through its reader (gate.LoadStoredEach):
// nothing is returned unless the log matched the store's manifest. The caller closes r.
func LoadStored(r *baseline.RunReader) (*Result, error) {
	var tl timeline
	run, err := gate.LoadStoredEach(r, tl.addBuckets)
	if err != nil {
		return nil, err
	}
	return finish(run, &tl)
}

// LoadPair loads the two sides of a report in parallel; without baseDir base is nil. Both
// sides' errors are reported at once, each named "candidate:" or "baseline:".
func LoadPair(baseDir, candDir string) (base, cand *Result, err error) {
	return gate.LoadPairWith(baseDir, candDir, Load)
}

// LoadAB streams an interleaved A/B result (gate.LoadABEach) into its two arms, A (the
// baseline) and B (the candidate), each with its own timeline: a slot per round, on the time
// axis of the whole run, and the telemetry's temperature of each round. A single run is an
// error wrapping gate.ErrDesign.
func LoadAB(dir string) (a, b *Result, err error) {
	var tls [2]timeline
	ra, rb, err := gate.LoadABEach(dir, func(arm int, iv result.IntervalBuckets) error { return tls[arm].addBuckets(iv) })
	if err != nil {
		return nil, nil, err
	}
	origin := time.Time{}
	for i := range tls {
		tls[i].close()
		if o := tls[i].origin(); origin.IsZero() || o.Before(origin) {
			origin = o
		}
	}
	if a, err = place(ra, &tls[0], origin); err != nil {
		return nil, nil, err
	}
	if b, err = place(rb, &tls[1], origin); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// FromResult is Load for a result already in memory: the same figures from its interval
// histograms.
func FromResult(r *result.Result) (*Result, error) {
	run, err := gate.NewRun(r)
	if err != nil {
		return nil, err
	}
	var tl timeline
	for _, iv := range r.Log.Intervals {
		tl.addHist(iv.Start, iv.End, iv.Hist)
	}
	return finish(run, &tl)
}

// finish closes the last slot, places the slots in time and matches the telemetry to them.
func finish(run *gate.Run, tl *timeline) (*Result, error) {
	tl.close()
	return place(run, tl, tl.origin())
}

// place makes the closed slots of tl offsets from origin and matches the telemetry to them.
func place(run *gate.Run, tl *timeline, origin time.Time) (*Result, error) {
	out := &Result{Run: run, Slots: make([]plot.IntervalStats, len(tl.slots))}
	for i, s := range tl.slots {
		out.Slots[i] = plot.IntervalStats{Start: s.start.Sub(origin), End: s.end.Sub(origin), Count: s.count, P50: s.p50, P99: s.p99, Max: s.max}
	}
	// Telemetry lines are matched to slots by index, not by clock: the log's timestamps are
	// relative to a base time kept in whole milliseconds, the telemetry's are wall time. An A/B
	// result's line per round matches each arm's slot of that round.
	err := result.ScanTelemetry(run.Dir, func(t result.Telemetry) error {
		if t.TempC != nil && t.Interval >= 0 && t.Interval < len(out.Slots) {
			out.Temps = append(out.Temps, plot.Temperature{At: out.Slots[t.Interval].End, Celsius: *t.TempC})
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return out, nil
}

// slotStats is one closed time slot.
type slotStats struct {
	start, end           time.Time
	count, p50, p99, max int64
}

// timeline reduces log lines to per-slot figures as they are read. The lines of one slot (one
// per tag, sharing a start) follow each other in a log, and are merged as the report always
// merged them: into a result.NewHistogram(). When every line of a slot has that geometry (any
// log tailgate writes) its counts are merged by bucket index and the quantiles read off the
// populated buckets; otherwise the slot is recorded into a histogram, values and all.
type timeline struct {
	slots []slotStats
	open  bool
	cur   slotStats
	// idx and cnt are the open slot's merged buckets (NewHistogram geometry); hist is set
	// instead once a line of another geometry joined it.
	idx     []int32
	cnt     []int64
	scratch result.Buckets
	hist    *hdrhistogram.Histogram
}

// std is the geometry of result.NewHistogram.
var std = result.Buckets{Lowest: result.LowestNs, Highest: result.HighestNs, SigFigs: result.SigFigs}

// close closes the last slot and puts the slots in time order.
func (tl *timeline) close() {
	tl.flush()
	slices.SortStableFunc(tl.slots, func(a, b slotStats) int { return a.start.Compare(b.start) })
}

// origin is the start of the first slot (the zero time without one).
func (tl *timeline) origin() time.Time {
	if len(tl.slots) == 0 {
		return time.Time{}
	}
	return tl.slots[0].start
}

func (tl *timeline) begin(start, end time.Time) {
	if tl.open && start.Equal(tl.cur.start) {
		if end.After(tl.cur.end) {
			tl.cur.end = end
		}
		return
	}
	tl.flush()
	tl.open, tl.cur = true, slotStats{start: start, end: end}
	tl.idx, tl.cnt = tl.idx[:0], tl.cnt[:0]
	if tl.hist != nil {
		tl.hist.Reset()
	}
}

func (tl *timeline) addBuckets(iv result.IntervalBuckets) error {
	tl.begin(iv.Start, iv.End)
	b := iv.Buckets
	if !tl.slow() && b.Lowest == std.Lowest && b.Highest == std.Highest && b.SigFigs == std.SigFigs {
		tl.mergeIndex(b.Index, b.Count)
		return nil
	}
	h := tl.toHist()
	for k, c := range b.Count {
		_ = h.RecordValues(b.Value(k), c) // as hdrhistogram's Merge: out-of-range counts dropped
	}
	return nil
}

func (tl *timeline) addHist(start, end time.Time, h *hdrhistogram.Histogram) {
	tl.begin(start, end)
	tl.toHist().Merge(h)
}

func (tl *timeline) slow() bool { return tl.hist != nil && tl.hist.TotalCount() > 0 }

// toHist moves the open slot's index counts into a histogram and returns it.
func (tl *timeline) toHist() *hdrhistogram.Histogram {
	if tl.hist == nil {
		tl.hist = result.NewHistogram()
	}
	if len(tl.idx) > 0 {
		b := std
		b.Index, b.Count = tl.idx, tl.cnt
		for k, c := range tl.cnt {
			_ = tl.hist.RecordValues(b.Value(k), c)
		}
		tl.idx, tl.cnt = tl.idx[:0], tl.cnt[:0]
	}
	return tl.hist
}

// mergeIndex adds sorted bucket counts to the open slot's.
func (tl *timeline) mergeIndex(idx []int32, cnt []int64) {
	if len(tl.idx) == 0 {
		tl.idx, tl.cnt = append(tl.idx, idx...), append(tl.cnt, cnt...)
		return
	}
	s := &tl.scratch
	s.Index, s.Count = s.Index[:0], s.Count[:0]
	i, j := 0, 0
	for i < len(tl.idx) || j < len(idx) {
		switch {
		case j == len(idx) || (i < len(tl.idx) && tl.idx[i] < idx[j]):
			s.Index, s.Count = append(s.Index, tl.idx[i]), append(s.Count, tl.cnt[i])
			i++
		case i == len(tl.idx) || idx[j] < tl.idx[i]:
			s.Index, s.Count = append(s.Index, idx[j]), append(s.Count, cnt[j])
			j++
		default:
			s.Index, s.Count = append(s.Index, idx[j]), append(s.Count, tl.cnt[i]+cnt[j])
			i, j = i+1, j+1
		}
	}
	tl.idx, s.Index = s.Index, tl.idx
	tl.cnt, s.Count = s.Count, tl.cnt
}

// flush closes the open slot.
func (tl *timeline) flush() {
	if !tl.open {
		return
	}
	tl.open = false
	s := tl.cur
	if tl.slow() {
		h := tl.toHist()
		s.count, s.p50, s.p99, s.max = h.TotalCount(), h.ValueAtQuantile(50), h.ValueAtQuantile(99), h.Max()
	} else {
		b := std
		b.Index, b.Count = tl.idx, tl.cnt
		for _, c := range tl.cnt {
			b.Total += c
		}
		if b.Total > 0 {
			s.count, s.p50, s.p99, s.max = b.Total, b.ValueAtQuantile(50), b.ValueAtQuantile(99), b.Max()
		}
	}
	tl.slots = append(tl.slots, s)
}
