package stats

import (
	"math"
	"sort"
)

// BetweenRunSD estimates σ, the run-to-run standard deviation of a statistic on the log scale,
// from a series of per-run (per-night) values of its logarithm, e.g. ln p99 of each nightly
// run in order. It is robust: the median absolute deviation (MAD) of the successive
// differences, scaled by 1.4826 to a normal SD and divided by √2 because a difference of two
// runs carries two offsets. Successive differences cancel slow level changes, and the MAD about
// their median a steady trend; a step (a real change) gives one outlying difference that the
// median ignores, but removing change points first is the caller's job. NaN and
// infinite values are skipped; fewer than three values give NaN.
func BetweenRunSD(values []float64) float64 {
	var diffs []float64
	prev, have := 0.0, false
	n := 0
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		n++
		if have {
			diffs = append(diffs, v-prev)
		}
		prev, have = v, true
	}
	if n < 3 {
		return math.NaN()
	}
	sort.Float64s(diffs)
	m := median(diffs)
	for i, d := range diffs {
		diffs[i] = math.Abs(d - m)
	}
	sort.Float64s(diffs)
	return median(diffs) * 1.4826 / math.Sqrt2
}

// median of sorted xs.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
