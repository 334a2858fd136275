package wcet

import (
	"fmt"
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

// GateFunc returns the gate's pwcet(P) < D evaluator: it analyses the candidate's intervals
// (every tag merged per time slot) once per run with opts, whatever the rule's probability,
// and answers with the upper confidence bound at the rule's confidence, so a pass means the
// bound holds at that confidence, not just that a point estimate fell below the limit.
// Wire it as gate.Options{PWCET: wcet.GateFunc(wcet.Options{})}.
func GateFunc(opts Options) gate.PWCETFunc {
	var mu sync.Mutex
	cache := map[*gate.Run]*Analysis{}
	return func(cand *gate.Run, prob, confidence float64) (gate.PWCETEstimate, error) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := cache[cand]
		if !ok {
			if cand == nil || cand.Result == nil {
				return gate.PWCETEstimate{}, fmt.Errorf("the candidate's intervals were not read into memory")
			}
			ivs, err := BlocksOf(cand.Result, AllTags)
			if err != nil {
				return gate.PWCETEstimate{}, err
			}
			if a, err = Analyze(ivs, opts); err != nil {
				return gate.PWCETEstimate{}, err
			}
			cache[cand] = a
		}
		v, ok, why := a.Upper(prob, confidence)
		if !ok {
			return gate.PWCETEstimate{Reason: why}, nil
		}
		return gate.PWCETEstimate{Valid: true, BoundNs: v}, nil
	}
}
