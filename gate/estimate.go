package gate

import (
	"fmt"
	"math"

	"github.com/tailgate-ci/tailgate/baseline/result"

	"github.com/tailgate-ci/tailgate/gate/stats"
)

// This file is the seam to gate/stats: every statistical computation the gate relies on goes
// through these few functions.

// oneSidedAlpha is the level of a one-sided test that agrees with a two-sided interval at conf:
// a ratio interval at 0.99 excludes 1 from below exactly when the p-value of "not slower" is at
// most 0.005.
func oneSidedAlpha(conf float64) float64 { return (1 - conf) / 2 }

func statOf(m Metric) stats.Stat {
	if m.Kind == Mean {
		return stats.Stat{Kind: stats.Mean}
	}
	return stats.Stat{Kind: stats.Quantile, Q: m.Q}
}

func statsOptions(seed uint64) stats.Options {
	o := stats.DefaultOptions
	if seed != 0 {
		o.Seed = seed
	}
	return o
}

// compareRatio bootstraps cand/base of the rule's statistic. Too few blocks for a bootstrap
// interval is an error the caller reports as inconclusive.
// betweenRun is σ, the log SD that separate runs add (Options.BetweenRun, 0 when absent).
func compareRatio(base, cand *Run, m Metric, conf float64, seed uint64, betweenRun float64) (stats.Ratio, error) {
	o := statsOptions(seed)
	o.BetweenRunSD = betweenRun
	r := stats.Compare(base.Sample, cand.Sample, statOf(m), conf, o)
	if math.IsNaN(r.Point) || math.IsNaN(r.Lo) || math.IsNaN(r.PSlower) {
		return r, fmt.Errorf("no ratio for %s: a run is empty or its %s is zero", m, m)
	}
	if err := enoughBlocks("baseline", r.Base); err != nil {
		return r, err
	}
	return r, enoughBlocks("candidate", r.Cand)
}

func enoughBlocks(which string, e stats.Estimate) error {
	if e.Blocks < stats.MinBlocks {
		return fmt.Errorf("the %s has %d intervals in %d bootstrap blocks of %d; an interval needs at least %d blocks (run longer or record shorter intervals)",
			which, e.Intervals, e.Blocks, e.BlockLen, stats.MinBlocks)
	}
	return nil
}

// meanInterval is the block-bootstrap interval of the run's mean at conf, on blocks chosen for
// the series of per-interval means (stats.BlocksFor). A run too short for its autocorrelation
// is an error that says how many intervals it needs.
func meanInterval(run *Run, conf float64, seed uint64) (lo, hi float64, err error) {
	st := stats.Stat{Kind: stats.Mean}
	bc := stats.BlocksFor(run.Sample, st, 0)
	if bc.TooShort() {
		return 0, 0, fmt.Errorf("%s", bc.Reason(run.Sample.Intervals()))
	}
	o := statsOptions(seed)
	o.BlockLen = bc.Len
	e := stats.Interval(run.Sample, st, conf, o)
	if math.IsNaN(e.Lo) {
		return 0, 0, fmt.Errorf("no interval for the mean of an empty run")
	}
	if err := enoughBlocks("candidate", e); err != nil {
		return 0, 0, err
	}
	return e.Lo, e.Hi, nil
}

// quantileBound is the run's q-quantile with one-sided block (Woodruff) bounds at conf.
func quantileBound(r *Run, q, conf float64) stats.TailBound {
	return stats.QuantileBound(r.Sample, q, conf)
}

// missBound is the run's share of samples beyond the deadline with one-sided block bounds at
// conf.
func missBound(r *Run, deadlineNs float64, conf float64) stats.TailBound {
	return stats.MissBound(r.Sample, int64(math.Floor(deadlineNs)), conf)
}

// holm returns which p-values Holm's step-down procedure rejects at family-wise level alpha.
func holm(p []float64, alpha float64) []bool { return stats.Holm(p, alpha) }

// requiredSamples is MLPerf LoadGen's early-stopping count: the samples needed to certify the
// q-quantile at confidence conf when t of them exceed the claimed bound.
func requiredSamples(q, conf float64, t int64) int64 { return stats.RequiredSamples(q, conf, t) }

// quantile is the run's q-quantile as HdrHistogram reports it (the top of its bucket).
func quantile(r *Run, q float64) float64 {
	return stats.Point(r.Sample, stats.Stat{Kind: stats.Quantile, Q: q})
}

// mean is the run's mean, weighing each bucket by its middle as HdrHistogram does.
func mean(r *Run) float64 { return stats.Point(r.Sample, stats.Stat{Kind: stats.Mean}) }

// countAbove counts the run's samples above limit (at or above it when inclusive). A bucket
// counts when its top does: HdrHistogram cannot tell a straddling bucket's samples apart and the
// gate fails closed.
func countAbove(r *Run, limit float64, inclusive bool) int64 {
	d := int64(math.Floor(limit))
	if inclusive {
		d = int64(math.Ceil(limit)) - 1
	}
	n := r.Sample.Count()
	if n == 0 {
		return 0
	}
	// Only the point estimate is used; one resample keeps the bootstrap out of the way.
	e := stats.MissRate(r.Sample, d, 0.5, stats.Options{Resamples: 1, Seed: 1})
	return int64(math.Round(e.Point * float64(n)))
}

// summarize recomputes a result's summary from its Sample (stddev is taken as recorded).
func summarize(s *stats.Sample, stddev float64) result.Summary {
	if s.Count() == 0 {
		return result.Summary{}
	}
	q := func(q float64) int64 { return int64(stats.Point(s, stats.Stat{Kind: stats.Quantile, Q: q})) }
	return result.Summary{
		Count: s.Count(), Min: s.Min(), Mean: stats.Point(s, stats.Stat{Kind: stats.Mean}), StdDev: stddev,
		P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), P9999: q(0.9999), Max: s.Max(),
	}
}
