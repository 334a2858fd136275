package stats

import (
	"math"
)

// MinExceedances is how many samples beyond a tail quantile each arm of a paired unit should
// expect: fewer, and a unit's share beyond the quantile is mostly zero or one sample, whose
// spread says little. Rounds are batched until a unit expects this many.
const MinExceedances = 10

// MinSessions is the fewest session pairs a paired comparison with the session as its unit
// (Options.SessionLen) rests on.
const MinSessions = 4

// Pairing is how a paired comparison grouped its rounds: Len consecutive rounds per unit, Units
// units, and why the length is what it is.
type Pairing struct {
	Rounds, Len, Units int
	// TailLen is the length the expected exceedances ask for (MinExceedances), AutoLen the one
	// the autocorrelation of the paired differences asks for (Politis and White).
	TailLen, AutoLen int
	// Sessions is set when each unit is one session (Options.SessionLen).
	Sessions bool
}

// TooShort reports whether the rounds hold fewer than MinBlocks units (MinSessions sessions).
func (p Pairing) TooShort() bool {
	if p.Sessions {
		return p.Units < MinSessions
	}
	return p.Units < MinBlocks
}

// NeedRounds is the number of rounds MinBlocks units of Len take.
func (p Pairing) NeedRounds() int { return MinBlocks * p.Len }

// ComparePaired returns the ratio b/a of st for the two arms of an interleaved A/B run, where
// interval k of each Sample is that arm's round k (so both must hold the same number). Arm A is
// the baseline, B the candidate.
//
// The point is the ratio of the pooled statistics, as Compare's. Its variance comes from the
// pairs: each round's contribution to ln(B̂) − ln(Â) is its linearised influence, for a quantile
// −s·(c_k − q·n_k)/N with c_k the round's samples at or below the pooled quantile and s the
// slope of the log quantile in q (the merged histogram's, over Woodruff's span q ± t·se_F),
// for a mean (S_k − m̂·n_k)/(m̂·N). Whatever moves both arms within a round (drift, a noisy
// neighbour, the thermal state) moves both influences alike and cancels in the difference d_k.
// For a quantile the standard error is the larger of that and a paired bootstrap's (units
// resampled for both arms at once), which follows the quantile where the linearisation does
// not: across the gap between two modes.
// With Options.SessionLen the units are the sessions, whose fresh processes vary in ways no
// round within one session sees. Otherwise rounds are grouped into units of Len consecutive
// rounds when the series of d_k is autocorrelated (Politis and White) or when a tail quantile
// expects fewer than MinExceedances samples beyond it per arm in a round; the variance of the
// sum of the units' d is their spread, and the interval is θ̂ ± t·se on units−1 degrees of
// freedom, at least one histogram bucket wide. No between-run term is added: both arms share the
// run. With fewer than MinBlocks units (MinSessions sessions) the Pairing says TooShort and the
// interval must not be used.
//
// The whole width is carried on the candidate's side (Ratio.Cand.Lo/Hi; the baseline's limits
// are its point): both arms grow together with the rounds, so Ratio.CandidateScale says by how
// much the rounds must grow.
func ComparePaired(a, b *Sample, st Stat, conf float64, o Options) (Ratio, Pairing) {
	o = o.withDefaults()
	r := Ratio{Conf: conf, Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), PSlower: math.NaN(), PFaster: math.NaN()}
	r.Base = Estimate{Point: Point(a, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: a.total, Intervals: a.Intervals()}
	r.Cand = Estimate{Point: Point(b, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: b.total, Intervals: b.Intervals()}
	k := a.Intervals()
	pr := Pairing{Rounds: k, Len: 1}
	if k != b.Intervals() || a.total == 0 || b.total == 0 || st.validate() != nil || !(r.Base.Point > 0) || !(r.Cand.Point > 0) {
		return r, pr
	}
	r.Point = r.Cand.Point / r.Base.Point
	alpha0 := (1 - conf) / 2
	ia, ib := influence(a, st, r.Base.Point, conf), influence(b, st, r.Cand.Point, conf)
	d := make([]float64, k)
	for i := range d {
		d[i] = ib[i] - ia[i]
	}
	pr.AutoLen = politisWhite(d)
	pr.TailLen = 1
	if st.Kind == Quantile {
		per := float64(min(a.total, b.total)) / float64(k) * min(st.Q, 1-st.Q)
		if per > 0 {
			pr.TailLen = int(math.Ceil(MinExceedances/per - 1e-9)) // 1−0.999 is not exactly 0.001
		} else {
			pr.TailLen = k + 1
		}
	}
	if o.BlockLen > 0 {
		pr.AutoLen = o.BlockLen
	}
	pr.Len = max(pr.AutoLen, pr.TailLen, 1)
	if o.SessionLen > 0 {
		pr.Len, pr.Sessions = o.SessionLen, true
	}
	pr.Units = k / pr.Len
	se := unitSE(d, pr.Len)
	if st.Kind == Quantile {
		// The linearisation assumes the log quantile is smooth around the point. A machine
		// that flips between two speed states puts the pooled median in the gap between them,
		// where a small shift of the states' shares moves it far, and the slope across the gap
		// understates that; resampling the units, both arms' together, follows the quantile
		// across it. The larger of the two stands.
		se = max(se, pairedBootSE(a, b, st.Q, pr.Len, o))
	}
	floor := max(a.bucketFloor(r.Base.Point), b.bucketFloor(r.Cand.Point))
	nu := float64(max(pr.Units-1, 1))
	half := func(alpha float64) float64 { return max(studentQ(nu, 1-alpha)*se, floor) }
	theta := math.Log(r.Point)
	h := half(alpha0)
	r.Lo, r.Hi = r.Point*math.Exp(-h), r.Point*math.Exp(h)
	r.Base.Lo, r.Base.Hi = r.Base.Point, r.Base.Point
	r.Cand.Lo, r.Cand.Hi = r.Cand.Point*math.Exp(-h), r.Cand.Point*math.Exp(h)
	for _, e := range []*Estimate{&r.Base, &r.Cand} {
		e.BlockLen, e.Blocks = pr.Len, pr.Units
	}
	r.PSlower, r.PFaster = oneSidedPair(func(al float64) float64 { return theta - half(al) },
		func(al float64) float64 { return theta + half(al) }, alpha0)
	return r, pr
}

// influence returns each interval's contribution to the error of the log of st's pooled
// estimate point, linearised (see ComparePaired): they sum to about zero.
func influence(s *Sample, st Stat, point, conf float64) []float64 {
	n := float64(s.total)
	out := make([]float64, s.Intervals())
	if st.Kind == Mean {
		for i := range out {
			out[i] = (s.sum[i] - point*float64(s.count[i])) / (point * n)
		}
		return out
	}
	below, _, total := s.countsPerInterval(point)
	var ss float64
	for i := range out {
		e := below[i] - st.Q*total[i]
		out[i] = e
		ss += e * e
	}
	k := float64(len(out))
	seF := math.Sqrt(ss*k/max(k-1, 1)) / n
	slope := logQuantileSlope(s, st.Q, max(studentQ(max(k-1, 1), (1+conf)/2)*seF, 1/n))
	for i := range out {
		out[i] *= -slope / n
	}
	return out
}

// logQuantileSlope is d ln Q / dq at q, the secant of the merged histogram's log quantile over
// [q−h, q+h] clipped to [0, 1].
func logQuantileSlope(s *Sample, q, h float64) float64 {
	lo, hi := max(q-h, 0), min(q+h, 1)
	ql, qh := s.quantile(lo), s.quantile(hi)
	if !(ql > 0) || !(hi > lo) {
		return 0
	}
	return math.Log(qh/ql) / (hi - lo)
}

// pairedBootSE is the bootstrap standard error of ln(Q̂_b/Q̂_a) for quantile q, resampling the
// units of l consecutive rounds with replacement, the same units for both arms (which keeps
// the pairing), with the n/(n−1) correction of a spread over n units.
func pairedBootSE(a, b *Sample, q float64, l int, o Options) float64 {
	bsA, bsB := a.blockSet(l), b.blockSet(l)
	n := len(bsA.blocks)
	if n != len(bsB.blocks) || n < 2 {
		return math.Inf(1)
	}
	wa, wb := bsA.window(a, q), bsB.window(b, q)
	rng := newRand(o.Seed, pairedStream)
	w := make([]int32, n)
	ratios := make([]float64, o.Resamples)
	for i := range ratios {
		bsA.draw(rng, w)
		ratios[i] = wb.quantile(b, bsB, w) / wa.quantile(a, bsA, w)
	}
	return logSD(ratios) * math.Sqrt(float64(n)/float64(n-1))
}

// pairedStream is the random stream of the paired bootstrap (Compare's runs use 1 and 2).
const pairedStream = 3

// unitSE is the standard error of the sum of d from the spread of its sums over consecutive
// units of l (a remainder shorter than l joins the last unit).
func unitSE(d []float64, l int) float64 {
	units := len(d) / l
	if units < 2 {
		return math.Inf(1)
	}
	sums := make([]float64, units)
	for i, v := range d {
		sums[min(i/l, units-1)] += v
	}
	var mean float64
	for _, v := range sums {
		mean += v
	}
	mean /= float64(units)
	var ss float64
	for _, v := range sums {
		ss += (v - mean) * (v - mean)
	}
	return math.Sqrt(ss * float64(units) / float64(units-1))
}
