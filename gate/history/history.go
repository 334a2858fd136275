// Package history finds what changed in a suite's nightly history: the change points of each
// tracked quantile (found by gate/changepoint), grouped into the nights where the level moved,
// and slow creep, a quantile that moved several times, always the same way.
//
// It reads nights as plain values (Night), not the store's history entries: the caller
// (`tailgate baseline history`, the report's trend figure) converts them. WriteText prints the
// nights and what changed as `tailgate baseline history` shows them.
package history

import (
	"cmp"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/gate/changepoint"
)

// DefaultSeed seeds the change points' permutation test when the caller has no seed of its own,
// so that `baseline history` and the report's trend figure find the same changes.
const DefaultSeed = 1

// Night is one nightly run as the analysis reads it.
type Night struct {
	Time   time.Time
	Commit string
	// P50, P99 and P999 are the night's quantiles in nanoseconds.
	P50, P99, P999 int64
	// Gated holds the other quantiles the suite's rules gate, by rule name (p90), in ns.
	Gated map[string]int64
	// Verdict is the night's comparison against its baseline ("" when none); the analysis
	// ignores it, WriteText shows it.
	Verdict string
}

// Metric is one per-night quantile the history holds: its name as rules spell it and how to
// read it from a night.
type Metric struct {
	Name string
	Get  func(Night) int64
}

// Metrics are the per-night quantiles every night holds, in the order a night's changes are listed.
var Metrics = []Metric{
	{"p50", func(n Night) int64 { return n.P50 }},
	{"p99", func(n Night) int64 { return n.P99 }},
	{"p99.9", func(n Night) int64 { return n.P999 }},
}

// MetricsOf returns the quantiles analysed over nights: Metrics, then each quantile the newest
// night's rules gated (Night.Gated) in ascending order. A gated quantile is analysed over the
// nights that hold it (metricSeries), as a rule may be added to a suite at any night.
func MetricsOf(nights []Night) []Metric {
	out := slices.Clone(Metrics)
	if len(nights) == 0 {
		return out
	}
	names := slices.Collect(maps.Keys(nights[len(nights)-1].Gated))
	pct := func(name string) float64 { v, _ := strconv.ParseFloat(strings.TrimPrefix(name, "p"), 64); return v }
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(pct(a), pct(b)) })
	for _, name := range names {
		out = append(out, Metric{name, func(n Night) int64 { return n.Gated[name] }})
	}
	return out
}

// metricSeries is metric m over the nights that hold it, and the night of each value: every
// night holds the summary's quantiles; a gated quantile is missing before its rule was added,
// and on a night whose rule could not estimate it.
func metricSeries(nights []Night, m Metric) (xs []float64, at []int) {
	summary := slices.ContainsFunc(Metrics, func(f Metric) bool { return f.Name == m.Name })
	for i, n := range nights {
		if v := m.Get(n); v > 0 || summary {
			xs = append(xs, float64(v))
			at = append(at, i)
		}
	}
	return xs, at
}

// Change is one change point of one metric, placed on the nights.
type Change struct {
	Metric string  `json:"metric"`
	Night  int     `json:"night"` // index of the first night at the new level
	Shift  float64 `json:"shift"`
	PValue float64 `json:"p_value"`
	Before float64 `json:"before_ns"`
	After  float64 `json:"after_ns"`
}

// Changes finds the change points of each metric (MetricsOf: p50, p99, p99.9 and the gated
// quantiles) over nights, metric by metric, and returns them in night order; a night's changes
// keep the metrics' order.
func Changes(nights []Night, opt changepoint.Options) ([]Change, error) {
	var changes []Change
	for _, m := range MetricsOf(nights) {
		xs, at := metricSeries(nights, m)
		cps, err := changepoint.Detect(xs, opt)
		if err != nil {
			return nil, err
		}
		for _, c := range cps {
			changes = append(changes, Change{Metric: m.Name, Night: at[c.Index], Shift: c.Shift, PValue: c.PValue, Before: c.Before, After: c.After})
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Night < changes[j].Night })
	return changes, nil
}

// Step is a night where at least one metric moved: the commits that moved it are between night
// Night-1 (the last good night) and night Night (the first bad one).
type Step struct {
	Night   int
	Changes []Change
}

// Steps groups changes by night, in the order each night first appears in changes.
func Steps(changes []Change) []Step {
	var steps []Step
	at := map[int]int{}
	for _, c := range changes {
		i, ok := at[c.Night]
		if !ok {
			i = len(steps)
			at[c.Night] = i
			steps = append(steps, Step{Night: c.Night})
		}
		steps[i].Changes = append(steps[i].Changes, c)
	}
	return steps
}

// Creep is slow creep: a metric that drifted steadily over a stretch of nights with no single
// night to blame (a slope that changepoint.Trends finds significant between the metric's change
// points), or that moved at several change points, always the same way. Each night or step is
// small; together they are what no single night-to-baseline comparison flags.
type Creep struct {
	Metric string `json:"metric"`
	// Moves is how many change points the metric has when it crept by steps; 0 for a drift.
	Moves int `json:"moves"`
	// Start and End are the first and last night of the drift, or the nights of the first and
	// last move.
	Start int `json:"start"`
	End   int `json:"end"`
	// PValue is the drift's p-value; 0 for creep by steps.
	PValue float64 `json:"p_value,omitempty"`
	// Faster is set when the metric went down.
	Faster bool `json:"faster,omitempty"`
	// From is the level before the creep and To the level after it, in ns.
	From float64 `json:"from_ns"`
	To   float64 `json:"to_ns"`
}

// Shift is the relative change from the first level to the last: 0.12 is +12 %.
func (c Creep) Shift() float64 { return (c.To - c.From) / c.From }

// Creeps returns the slow creep of each metric over nights (in the metrics' order, a metric's
// in night order) given the changes Changes found with the same options: the drifts
// changepoint.Trends finds between the metric's change points, or, when it has none, the
// metric's moves when there are several and all go the same way.
func Creeps(nights []Night, changes []Change, opt changepoint.Options) ([]Creep, error) {
	var out []Creep
	for _, m := range MetricsOf(nights) {
		xs, at := metricSeries(nights, m)
		var cs []Change
		var cps []changepoint.ChangePoint
		for _, c := range changes {
			if c.Metric == m.Name {
				cs = append(cs, c)
				cps = append(cps, changepoint.ChangePoint{Index: slices.Index(at, c.Night)})
			}
		}
		trends, err := changepoint.Trends(xs, cps, opt)
		if err != nil {
			return nil, err
		}
		for _, t := range trends {
			out = append(out, Creep{Metric: m.Name, Start: at[t.Start], End: at[t.End-1], PValue: t.PValue, Faster: t.To < t.From, From: t.From, To: t.To})
		}
		if len(trends) > 0 {
			continue
		}
		if c, ok := creptBySteps(m.Name, cs); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// creptBySteps reports a metric's changes cs as creep when there are several, all the same way.
func creptBySteps(metric string, cs []Change) (Creep, bool) {
	if len(cs) < 2 {
		return Creep{}, false
	}
	up, down := 0, 0
	for _, c := range cs {
		if c.Shift > 0 {
			up++
		} else {
			down++
		}
	}
	if up > 0 && down > 0 {
		return Creep{}, false
	}
	return Creep{Metric: metric, Moves: len(cs), Start: cs[0].Night, End: cs[len(cs)-1].Night, Faster: down > 0, From: cs[0].Before, To: cs[len(cs)-1].After}, true
}
