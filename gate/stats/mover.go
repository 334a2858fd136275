package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// oneSided gives one run's log-scale distances from its point estimate down to its lower and
// up to its upper one-sided confidence limit at any level alpha (each limit holds at confidence
// 1−alpha). For a quantile they are Woodruff's limits, the merged histogram's quantiles at
// q ∓ t·se_F, which follow the bend of the log-quantile curve in the tail; for a mean (or the
// Bootstrap method) they are t·se on the log scale. Each distance is floored at the relative
// width of the point's histogram bucket: within one bucket the data cannot tell values apart,
// and a zero width would make any change look certain.
type oneSided struct {
	nu       float64 // degrees of freedom: blocks − 1
	logPoint float64
	floor    float64
	// quantile (Woodruff)
	q, seF float64
	qt     *quantiler
	// mean or bootstrap
	seLog float64
}

// at returns the log distances (down, up) at one-sided level alpha.
func (o *oneSided) at(alpha float64) (down, up float64) {
	t := studentQ(o.nu, 1-alpha)
	if o.qt != nil {
		down = o.logPoint - math.Log(o.qt.at(o.q-t*o.seF))
		up = math.Log(o.qt.at(o.q+t*o.seF)) - o.logPoint
	} else {
		down, up = t*o.seLog, t*o.seLog
	}
	return max(down, o.floor), max(up, o.floor)
}

// quantiler answers quantiles of a merged histogram as Point does, by binary search over the
// cumulative counts of its populated buckets.
type quantiler struct {
	top   []float64 // bucket tops, ascending
	cum   []int64
	total int64
	min   float64
}

func newQuantiler(s *Sample) *quantiler {
	qt := &quantiler{total: s.total, min: float64(s.Min())}
	var c int64
	for idx, n := range s.mergedCounts() {
		if n != 0 {
			c += n
			qt.top = append(qt.top, float64(s.geom.top(int32(idx))))
			qt.cum = append(qt.cum, c)
		}
	}
	return qt
}

// at is the q-quantile with q clamped to [0, 1]; 0 is the minimum.
func (qt *quantiler) at(q float64) float64 {
	q = min(max(q, 0), 1)
	if q == 0 || len(qt.cum) == 0 {
		return qt.min
	}
	rank := percentileRank(q, qt.total)
	return qt.top[sort.Search(len(qt.cum), func(i int) bool { return qt.cum[i] >= rank })]
}

// bucketFloor is the log-scale width of the histogram bucket holding v: the smallest change of
// a quantile the histogram can show.
func (s *Sample) bucketFloor(v float64) float64 {
	if !(v >= 1) {
		return 0
	}
	idx := s.geom.index(int64(v))
	lo := float64(s.geom.lowest(idx))
	return math.Log((lo + float64(s.geom.size(idx))) / lo)
}

// newOneSided prepares the limits of st for run s around point.
func newOneSided(s *Sample, st Stat, point float64, o Options, blockLen int, stream uint64) (*oneSided, *blockSet) {
	o.BlockLen = blockLen
	bs := s.blockSet(blockLen)
	one := &oneSided{nu: float64(max(len(bs.blocks)-1, 1)), logPoint: math.Log(point)}
	if st.Kind == Quantile && o.Method == Woodruff {
		one.q, one.seF, one.qt = st.Q, bs.cdfSE(s, point), newQuantiler(s)
		one.floor = s.bucketFloor(point)
		return one, bs
	}
	reps, _ := replicates(s, st, o, stream)
	one.seLog = logSD(reps)
	return one, bs
}

// mover combines two runs' one-sided limits into limits of θ = ln(cand/base) by the method of
// variance estimates recovery (Zou & Donner 2008; Newcombe's MOVER for a ratio on the log
// scale): the lower limit takes the candidate's lower and the baseline's upper distance, the
// upper limit the other two. The between-run term, the log SD of the ratio of two separate runs
// beyond what their within-run intervals see, adds in quadrature with the normal quantile of
// the same level.
type mover struct {
	theta      float64
	base, cand *oneSided
	between    float64 // log SD of the ratio from run-to-run variation (√2·σ per run)
}

func (m *mover) lower(alpha float64) float64 {
	_, bu := m.base.at(alpha)
	cd, _ := m.cand.at(alpha)
	z := normalQ(1-alpha) * m.between
	return m.theta - math.Sqrt(cd*cd+bu*bu+z*z)
}

func (m *mover) upper(alpha float64) float64 {
	bd, _ := m.base.at(alpha)
	_, cu := m.cand.at(alpha)
	z := normalQ(1-alpha) * m.between
	return m.theta + math.Sqrt(cu*cu+bd*bd+z*z)
}

func normalQ(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// minP is the smallest p-value the inversion resolves; smaller ones are reported as minP.
const minP = 1e-12

// pValue inverts the interval: the one-sided p-value is the level at which the limit reaches no
// change. ok(alpha) reports whether the one-sided limit at level alpha excludes no change; it
// is monotone (a larger alpha gives a tighter limit). The result is below alpha0 exactly when
// ok(alpha0), so the p-value and the interval at alpha0 always agree, and it is NaN when even
// alpha 0.5 (the point estimate with the bucket floor) does not exclude no change.
func pValue(ok func(alpha float64) bool, alpha0 float64) float64 {
	lo, hi := alpha0, 0.5 // invariant: !ok(lo), ok(hi)
	if ok(alpha0) {
		if ok(minP) {
			return minP
		}
		lo, hi = minP, alpha0
	} else if !ok(0.5) {
		return math.NaN()
	}
	for range 40 {
		mid := math.Sqrt(lo * hi) // bisect on the log scale: p-values span many decades
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	// lo never excluded no change: it is at least alpha0 when ok(alpha0) is false and below it
	// otherwise; hi is within a factor 1+1e-9 of it.
	return lo
}

// oneSidedPair returns the p-values of "not slower" and "not faster" from the two inversions of
// the log ratio's one-sided limits lower and upper (a mover's, or a paired interval's). When one
// direction is not resolved even at level 0.5 its p-value is one minus the other's, as a
// symmetric test's would be, and 0.5 when neither is.
func oneSidedPair(lower, upper func(alpha float64) float64, alpha0 float64) (pSlower, pFaster float64) {
	pSlower = pValue(func(a float64) bool { return lower(a) > 0 }, alpha0)
	pFaster = pValue(func(a float64) bool { return upper(a) < 0 }, alpha0)
	switch {
	case math.IsNaN(pSlower) && math.IsNaN(pFaster):
		return 0.5, 0.5
	case math.IsNaN(pSlower):
		pSlower = 1 - pFaster
	case math.IsNaN(pFaster):
		pFaster = 1 - pSlower
	}
	return pSlower, pFaster
}

// CandidateScale returns by how much the candidate's sample count must grow for the ratio's
// interval (at r.Conf) to be at most targetLogWidth wide on the log scale, assuming its
// one-sided distances shrink as 1/√n and the baseline and between-run terms stay. It is
// +Inf when the baseline and between-run terms alone are wider than the target, and 1 when
// the interval is already narrow enough.
func (r Ratio) CandidateScale(targetLogWidth float64) float64 {
	cd, cu := math.Log(r.Cand.Point/r.Cand.Lo), math.Log(r.Cand.Hi/r.Cand.Point)
	bd, bu := math.Log(r.Base.Point/r.Base.Lo), math.Log(r.Base.Hi/r.Base.Point)
	z := normalQ((1+r.Conf)/2) * math.Sqrt2 * r.BetweenRunSD
	width := func(s float64) float64 {
		return math.Sqrt(s*s*cd*cd+bu*bu+z*z) + math.Sqrt(s*s*cu*cu+bd*bd+z*z)
	}
	switch {
	case !(targetLogWidth > 0) || width(0) >= targetLogWidth:
		return math.Inf(1)
	case width(1) <= targetLogWidth:
		return 1
	}
	lo, hi := 0.0, 1.0 // width(lo) < target < width(hi); s = 1/√scale
	for range 60 {
		mid := (lo + hi) / 2
		if width(mid) <= targetLogWidth {
			lo = mid
		} else {
			hi = mid
		}
	}
	return 1 / (lo * lo)
}
