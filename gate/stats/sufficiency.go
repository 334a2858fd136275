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

// TailBound is the evidence about a claim on the tail of one run, "the q-quantile is below L"
// or "the share of samples beyond a deadline is below L": the point estimate and one-sided
// bounds at Conf that rest on blocks of intervals, so that they hold for autocorrelated runs.
//
// Lo and Hi are one-sided, each at Conf (not a two-sided interval at Conf): the true value is at
// most Hi with confidence Conf, and at least Lo with confidence Conf. They are NaN when the run
// is too short for its autocorrelation (Blocks.TooShort) or empty.
type TailBound struct {
	Point, Lo, Hi, Conf float64
	N                   int64 // samples
	Intervals           int
	Blocks              BlockChoice
	// Share is the share of samples the bound is about (at or below the quantile's point
	// estimate; beyond the deadline), and SE its standard error: the block one, floored at the
	// binomial one.
	Share, SE float64
	// VIF is the variance inflation of Share: its block variance over the binomial variance
	// Share·(1−Share)/N, at least 1 (1 when Share is 0 or 1, where neither says anything). A
	// sample count derived for independent samples (MLPerf's) needs VIF times as many.
	VIF float64
}

// QuantileBound returns the q-quantile of s with Woodruff's one-sided bounds at conf over blocks:
// the share F of samples at or below the point estimate is a ratio of block sums with standard
// error se (the block one, at least the binomial one), and the bounds are the merged histogram's
// quantiles at q ∓ t·se, Student's t on blocks−1 degrees of freedom at conf (one-sided). Hi is
// the top of its bucket and Lo the bottom of its bucket, so the bounds are never closer than the
// point's own bucket: a quantile inside one bucket does not get zero width. The block length is
// chosen (ChooseBlocks) for the series of per-interval shares at or below the point estimate.
func QuantileBound(s *Sample, q, conf float64) TailBound {
	b := TailBound{Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: s.total, Intervals: s.Intervals(), VIF: 1}
	if s.total == 0 || !(q > 0 && q < 1) {
		return b
	}
	b.Point = Point(s, Stat{Kind: Quantile, Q: q})
	below, _, total := s.countsPerInterval(b.Point)
	b.fill(below, total)
	if b.Blocks.TooShort() {
		return b
	}
	t := studentQ(float64(b.Blocks.Blocks-1), conf)
	b.Hi = s.quantile(q + t*b.SE)
	lo := s.quantile(q - t*b.SE)
	b.Lo = float64(s.geom.lowest(s.geom.index(int64(lo))))
	return b
}

// MissBound returns the share of samples of s beyond deadlineNs with one-sided bounds at conf
// over blocks (Student's t on blocks−1 degrees of freedom, the block standard error floored at
// the binomial one). A bucket that straddles the deadline counts as missed for the point and
// the upper bound, and as met for the lower bound: HdrHistogram cannot tell its samples apart,
// and each bound errs on its own safe side. The block length is chosen for the series of
// per-interval miss shares.
func MissBound(s *Sample, deadlineNs int64, conf float64) TailBound {
	b := TailBound{Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: s.total, Intervals: s.Intervals(), VIF: 1}
	if s.total == 0 {
		return b
	}
	below, above, total := s.countsPerInterval(float64(deadlineNs))
	missed := make([]float64, len(total))
	var strict float64
	for i := range total {
		missed[i] = total[i] - below[i]
		strict += above[i]
	}
	b.fill(missed, total)
	b.Point = b.Share
	if b.Blocks.TooShort() {
		return b
	}
	t := studentQ(float64(b.Blocks.Blocks-1), conf)
	b.Hi = min(b.Share+t*b.SE, 1)
	b.Lo = max(strict/float64(s.total)-t*b.SE, 0)
	return b
}

// fill sets the block choice, share, standard error and variance inflation of the share Σa/Σn.
func (b *TailBound) fill(a, n []float64) {
	b.Blocks = ChooseBlocks(a, n)
	var sa float64
	for _, v := range a {
		sa += v
	}
	N := float64(b.N)
	b.Share = sa / N
	// Too short: the variance still comes from the blocks the autocorrelation needs (fewer than
	// MinBlocks, so noisy), for a plan to scale by; no bound rests on it.
	vb, _ := ratioVar(a, n, b.Blocks.Len)
	vbin := b.Share * (1 - b.Share) / N
	if vbin > 0 {
		b.VIF = max(vb/vbin, 1)
	}
	b.SE = math.Sqrt(max(vb, vbin))
}

// NeedSamples is the samples a claim about the q-quantile at confidence conf needs when t of the
// run's samples exceed the claimed value and the run shows variance inflation vif: MLPerf's
// early-stopping count (RequiredSamples) in effective samples, scaled back to samples. n
// autocorrelated samples carry the information of n/vif independent ones (Kish's effective
// sample size), and their t exceedances count as t/vif (rounded up, the safe side), so the need
// is vif·RequiredSamples(q, conf, ⌈t/vif⌉); with t = 0 it is RequiredSamples × vif. vif below 1
// counts as 1 (independence is the most a run is credited with). It returns −1 when no count
// certifies the claim.
func NeedSamples(q, conf float64, t int64, vif float64) int64 {
	vif = max(vif, 1)
	if math.IsNaN(vif) || math.IsInf(vif, 0) {
		return -1
	}
	need := RequiredSamples(q, conf, int64(math.Ceil(float64(t)/vif)))
	if need < 0 {
		return need
	}
	return int64(math.Ceil(float64(need) * vif))
}

// Plan is what a claim about the q-quantile at confidence conf needs, scaled by what a pilot
// run shows.
type Plan struct {
	// MLPerf is the early-stopping count for independent samples (RequiredSamples).
	MLPerf int64
	// VIF is the pilot's variance inflation of the share of samples beyond its q-quantile, and
	// Exceedances the samples beyond that quantile it rests on: with a handful, VIF is rough.
	VIF         float64
	Exceedances int64
	// Samples is what the claim needs in the pilot's conditions (NeedSamples).
	Samples int64
	// BlockLen is the block length the pilot's autocorrelation needs (BlockChoice.Needed) and
	// Intervals the fewest intervals a run needs to hold MinBlocks of them.
	BlockLen, Intervals int
}

// PlanFromPilot returns the plan for a claim about the q-quantile at conf with t exceedances,
// from a pilot run: MLPerf's count, scaled by the variance inflation of the pilot's tail, and the
// intervals its autocorrelation needs. ok is false when the pilot is empty or the claim has no
// count.
func PlanFromPilot(pilot *Sample, q, conf float64, t int64) (p Plan, ok bool) {
	p.MLPerf = RequiredSamples(q, conf, t)
	if p.MLPerf < 0 || pilot.total == 0 {
		return p, false
	}
	b := QuantileBound(pilot, q, conf)
	p.VIF = b.VIF
	p.Exceedances = int64(math.Round((1 - b.Share) * float64(b.N)))
	p.Samples = NeedSamples(q, conf, t, p.VIF)
	p.BlockLen, p.Intervals = b.Blocks.Needed, MinBlocks*b.Blocks.Needed
	return p, true
}
