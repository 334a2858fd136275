package wcet

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
)

// AllTags selects every tag of a result, merged per time slot.
const AllTags = ""

// BlocksOf returns a result's blocks in time order. With tag set only the intervals of that
// tag count, so a per-class worst case can be asked for. Without it, intervals of every tag that
// share a start time are merged into one block: the worst case a deployment sees is the maximum
// over whatever inputs arrive in that slot, and its per-inference probability is over all of
// them. A tag that does not occur is an error naming the tags that do.
func BlocksOf(r *result.Result, tag string) ([]*hdrhistogram.Histogram, error) {
	if r == nil || r.Log == nil {
		return nil, fmt.Errorf("wcet: no result intervals")
	}
	ivs := r.Log.Intervals
	if tag != AllTags {
		var out []*hdrhistogram.Histogram
		for _, iv := range ivs {
			if iv.Tag == tag {
				out = append(out, iv.Hist)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("result %s: no intervals tagged %q (tags: %s)", r.Dir, tag, tagList(r.Tags()))
		}
		return out, nil
	}
	type slot struct {
		start int64
		h     *hdrhistogram.Histogram
	}
	var slots []*slot
	byStart := map[int64]*slot{}
	for _, iv := range ivs {
		k := iv.Start.UnixMilli()
		s, ok := byStart[k]
		if !ok {
			s = &slot{start: k, h: result.NewHistogram()}
			byStart[k] = s
			slots = append(slots, s)
		}
		s.h.Merge(iv.Hist)
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].start < slots[j].start })
	out := make([]*hdrhistogram.Histogram, len(slots))
	for i, s := range slots {
		out[i] = s.h
	}
	return out, nil
}

func tagList(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(q, ", ")
}

// BlocksOfRun returns a run's Blocks, as recorded while its intervals were added (streamed by
// gate.LoadRun or added from a result in memory), selected and merged per time slot exactly as
// BlocksOf does, so the analysis of either is the same. It always builds the merged histogram
// (the run's per-tag tails merged: no histogram per interval), which the GPD method and the
// extremal index both need.
func BlocksOfRun(run *gate.Run, tag string) (Blocks, error) {
	if run == nil || len(run.Maxima) == 0 {
		return Blocks{}, fmt.Errorf("wcet: no result intervals")
	}
	var b Blocks
	if tag != AllTags {
		ti := slices.Index(run.Tags, tag)
		if ti < 0 {
			tags := slices.Clone(run.Tags)
			sort.Strings(tags)
			return Blocks{}, fmt.Errorf("result %s: no intervals tagged %q (tags: %s)", run.Dir, tag, tagList(tags))
		}
		for _, m := range run.Maxima {
			if m.Tag == int32(ti) {
				b.Count, b.MaxLow, b.Max = append(b.Count, m.Count), append(b.MaxLow, m.MaxLow), append(b.Max, m.Max)
			}
		}
		b.Merged = run.Tail(ti)
		return b, nil
	}
	type slot struct {
		start, n, low, top int64
	}
	var slots []*slot
	byStart := map[int64]*slot{}
	for _, m := range run.Maxima {
		s, ok := byStart[m.StartMs]
		if !ok {
			s = &slot{start: m.StartMs}
			byStart[m.StartMs] = s
			slots = append(slots, s)
		}
		s.n += m.Count
		// The merged slot's maximum is the largest of its intervals' (each the top of its
		// bucket, and the buckets line up); an empty interval has none.
		if m.Count > 0 && m.Max > s.top {
			s.low, s.top = m.MaxLow, m.Max
		}
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].start < slots[j].start })
	b = Blocks{Count: make([]int64, len(slots)), MaxLow: make([]int64, len(slots)), Max: make([]int64, len(slots))}
	for i, s := range slots {
		b.Count[i], b.MaxLow[i], b.Max[i] = s.n, s.low, s.top
	}
	// BlocksOf merges slots into result.NewHistogram()s, so their merge has that geometry.
	b.Merged = run.Merged()
	return b, nil
}

// GateFunc returns the gate's pwcet(P) < D evaluator: it analyses the candidate's intervals
// (every tag merged per time slot) once per run with opts, whatever the rule's probability,
// and answers with the upper confidence bound at the rule's confidence, so a pass means the
// bound holds at that confidence, not just that a point estimate fell below the limit. It reads
// the Maxima and merged tails the run recorded while its intervals were added, so a streamed 48-hour
// run needs no histogram per interval.
// Wire it as gate.Options{PWCET: wcet.GateFunc(wcet.Options{})}.
func GateFunc(opts Options) gate.PWCETFunc { return NewCache(opts).GateFunc() }

// Cache analyses each run once with its options (every tag merged per time slot), for callers
// that need the same analysis twice: the gate's pwcet rules and a report's pWCET figure. It is
// safe for concurrent use.
type Cache struct {
	opts Options
	mu   sync.Mutex
	runs map[*gate.Run]cached
}

type cached struct {
	blocks Blocks
	a      *Analysis
}

// NewCache returns an empty Cache analysing with opts.
func NewCache(opts Options) *Cache { return &Cache{opts: opts, runs: map[*gate.Run]cached{}} }

// Method is the tail model the cache analyses with.
func (c *Cache) Method() Method { return cmp.Or(c.opts.Method, DefaultMethod) }

// Analyze returns run's Blocks (BlocksOfRun, AllTags) and their analysis, computed on the first
// call for run.
func (c *Cache) Analyze(run *gate.Run) (Blocks, *Analysis, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.runs[run]; ok {
		return r.blocks, r.a, nil
	}
	b, err := BlocksOfRun(run, AllTags)
	if err != nil {
		return Blocks{}, nil, err
	}
	a, err := AnalyzeBlocks(b, c.opts)
	if err != nil {
		return Blocks{}, nil, err
	}
	c.runs[run] = cached{b, a}
	return b, a, nil
}

// GateFunc is the gate's pwcet evaluator (see the function GateFunc) over the cache's analyses.
func (c *Cache) GateFunc() gate.PWCETFunc {
	return func(cand *gate.Run, prob, confidence float64) (gate.PWCETEstimate, error) {
		_, a, err := c.Analyze(cand)
		if err != nil {
			return gate.PWCETEstimate{}, err
		}
		v, ok, why := a.Upper(prob, confidence)
		if !ok {
			return gate.PWCETEstimate{Reason: why}, nil
		}
		return gate.PWCETEstimate{Valid: true, BoundNs: v}, nil
	}
}

// AnalyzeDir analyses the result directory dir, streamed (a 48-hour log is analysed from its
// block maxima without a histogram per interval): the intervals tagged tag (AllTags: every
// interval, merged per time slot), with the analysed intervals merged in Blocks.Merged.
func AnalyzeDir(dir, tag string, opts Options) (*gate.Run, Blocks, *Analysis, error) {
	run, err := gate.LoadRun(dir)
	if err != nil {
		return nil, Blocks{}, nil, err
	}
	blocks, err := BlocksOfRun(run, tag)
	if err != nil {
		return run, Blocks{}, nil, err
	}
	a, err := AnalyzeBlocks(blocks, opts)
	return run, blocks, a, err
}
