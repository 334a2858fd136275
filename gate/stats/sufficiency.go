package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// RequiredSamples returns the fewest samples n that certify the q-quantile (0 < q < 1) at
// confidence conf when t of them exceed the claimed value: MLPerf LoadGen's early-stopping
// rule, the smallest n with P(Binomial(n, 1−q) ≤ t) = I_q(n−t, t+1) ≤ 1−conf. With t = 0 it is
// ⌈ln(1−conf)/ln(q)⌉: 459 for p99 at 0.99, 4,603 for p99.9, 46,050 for p99.99. It returns −1
// for q or conf outside (0, 1) or a negative t.
func RequiredSamples(q, conf float64, exceedances int64) int64 {
	if !(q > 0 && q < 1) || !(conf > 0 && conf < 1) || exceedances < 0 {
		return -1
	}
	t := exceedances
	alpha := 1 - conf
	// The tail is decreasing in n: bracket by doubling from the zero-exceedance bound, then
	// search for the first n that satisfies it.
	lo := t + int64(math.Ceil(math.Log(alpha)/math.Log(q)-1e-9))
	ok := func(n int64) bool { return binomTail(n, t, q) <= alpha }
	if ok(lo) {
		return lo
	}
	hi := lo
	for !ok(hi) {
		lo = hi
		hi *= 2
		if hi > 1<<50 {
			return -1
		}
	}
	return lo + int64(sort.Search(int(hi-lo), func(i int) bool { return ok(lo + int64(i) + 1) })) + 1
}

// binomTail is P(Binomial(n, 1−q) ≤ t): the chance of at most t exceedances of the true
// q-quantile among n samples.
func binomTail(n, t int64, q float64) float64 {
	if n <= t {
		return 1
	}
	return mathext.RegIncBeta(float64(n-t), float64(t+1), q)
}

// MaxExceedances returns the most samples, of n, that may lie above a value for that value to
// still certify the q-quantile at confidence conf (the largest t with RequiredSamples(q, conf,
// t) ≤ n), and false when even t = 0 needs more than n samples. The value at rank n−t of the
// sorted samples is then MLPerf's early-stopping bound on the q-quantile.
func MaxExceedances(n int64, q, conf float64) (int64, bool) {
	need := RequiredSamples(q, conf, 0)
	if need < 0 || n < need {
		return 0, false
	}
	alpha := 1 - conf
	// binomTail grows with t, so the admissible t form a prefix [0, t*].
	t := sort.Search(int(n), func(t int) bool { return binomTail(n, int64(t), q) > alpha })
	return int64(t) - 1, true
}

// Sufficient reports whether n samples can carry a claim about the q-quantile at confidence
// conf, and the samples the claim needs (zero exceedances: fewer samples can never carry it).
func Sufficient(n int64, q, conf float64) (ok bool, need int64) {
	need = RequiredSamples(q, conf, 0)
	return need > 0 && n >= need, need
}

// EarlyStopBound returns MLPerf's early-stopping upper bound on the q-quantile of s at
// confidence conf: the value of the sample of rank n−t, where t is MaxExceedances, reported as
// the top of its bucket; ok is false when s has too few samples for any bound.
func EarlyStopBound(s *Sample, q, conf float64) (bound float64, t int64, ok bool) {
	t, ok = MaxExceedances(s.total, q, conf)
	if !ok {
		return math.NaN(), 0, false
	}
	rank := s.total - t
	var c int64
	for idx, n := range s.mergedCounts() {
		c += n
		if c >= rank {
			return float64(s.geom.top(int32(idx))), t, true
		}
	}
	return float64(s.max), t, true
}

// Holm applies Holm's step-down procedure to one-sided p-values at family-wise error rate
// alpha: it returns which hypotheses are rejected (true) so that, across the family of a gate's
// rules, the chance of any false rejection stays at most alpha. NaN p-values are never
// rejected.
func Holm(p []float64, alpha float64) []bool {
	order := make([]int, 0, len(p))
	for i, v := range p {
		if !math.IsNaN(v) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	out := make([]bool, len(p))
	m := len(order)
	for k, i := range order {
		if p[i] > alpha/float64(m-k) {
			break
		}
		out[i] = true
	}
	return out
}

// MissRate returns the share of samples above deadlineNs with its block-bootstrap interval at
// conf. A bucket that straddles the deadline counts as missed: HdrHistogram cannot tell its
// samples apart, and the gate fails closed.
func MissRate(s *Sample, deadlineNs int64, conf float64, o Options) Estimate {
	o = o.withDefaults()
	e := Estimate{Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: s.total, Intervals: s.Intervals()}
	if s.total == 0 {
		return e
	}
	bs := s.blockSet(o.BlockLen)
	e.BlockLen, e.Blocks = bs.blockLen, len(bs.blocks)
	missed := make([]int64, len(bs.blocks))
	var all int64
	for b, blk := range bs.blocks {
		for i, idx := range blk.idx {
			if s.geom.top(idx) > deadlineNs {
				missed[b] += blk.cnt[i]
			}
		}
		all += missed[b]
	}
	e.Point = float64(all) / float64(s.total)
	rng := newRand(o.Seed, 3)
	w := make([]int32, len(bs.blocks))
	reps := make([]float64, o.Resamples)
	for r := range reps {
		bs.draw(rng, w)
		var m, n int64
		for b, k := range w {
			m += int64(k) * missed[b]
			n += int64(k) * bs.blocks[b].total
		}
		reps[r] = float64(m) / float64(n)
	}
	slices.Sort(reps)
	e.Lo, e.Hi = percentile(reps, (1-conf)/2), percentile(reps, (1+conf)/2)
	return e
}

// String formats an estimate for logs and test failures.
func (e Estimate) String() string {
	return fmt.Sprintf("%.6g [%.6g, %.6g] @%.3g (n=%d, %d intervals, %d blocks of %d)",
		e.Point, e.Lo, e.Hi, e.Conf, e.N, e.Intervals, e.Blocks, e.BlockLen)
}
