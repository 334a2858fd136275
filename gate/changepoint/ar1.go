package changepoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// The default test: nightly quantiles are autocorrelated (the board drifts, a cache warms over
// days), so nights are not exchangeable and a permutation test of the raw series flags the
// drift. Each segment is modelled as its level (or level and step, or level and slope) plus
// AR(1) noise and fitted by conditional least squares, the AR(1) coefficient φ profiled for
// every candidate: ordinary least squares for the mean model, φ from the lag-1 regression of
// its residuals, then generalised least squares of z[t] − φ·z[t−1] on the prewhitened
// regressors. The step is placed where the residual sum of squares (the innovations') is
// least, which is the conditional maximum-likelihood split. Its statistic is the likelihood
// ratio against no step, and its p-value comes from a parametric bootstrap: AR(1) series
// under the no-step fit's φ (bias-corrected), driven by its resampled innovations, each
// refitted from scratch, so the p-value carries the uncertainty of estimating φ from a few
// dozen nights and any heavy tail of the innovations.
//
// A steady climb is also fitted well by a few steps: when a straight line with AR(1) noise
// explains the whole series better than its steps (by BIC), Detect reports no steps, and
// Trends tests for the slope, reported as creep rather than a step.

// model is the mean of a segment: its level, a step at a night, or a straight line.
type model int

const (
	modelLevel model = iota
	modelStep
	modelTrend
)

// arFit is a conditional least-squares fit of a model with AR(1) noise.
type arFit struct {
	rss float64 // sum of squared innovations, over t = 1..L−1
	phi float64
	// b0 and b1 are the model's coefficients: the level, and the step (modelStep) or the slope
	// per night (modelTrend), in the units of z.
	b0, b1 float64
}

// regressor is the model's second regressor at night t.
func regressor(m model, tau, t int) float64 {
	switch m {
	case modelStep:
		if t >= tau {
			return 1
		}
		return 0
	case modelTrend:
		return float64(t)
	}
	return 0
}

// fitAR fits model m (with its step at tau) plus AR(1) noise to z.
func fitAR(z []float64, m model, tau int) arFit { return fitARPhi(z, m, tau, -1) }

// fitARPhi is fitAR with φ given, or estimated when fixed < 0.
func fitARPhi(z []float64, m model, tau int, fixed float64) arFit {
	L := len(z)
	// Ordinary least squares for the mean model.
	var a0, a1 float64 // z ≈ a0 + a1·x
	switch m {
	case modelLevel:
		a0 = mean(z)
	case modelStep:
		m1, m2 := mean(z[:tau]), mean(z[tau:])
		a0, a1 = m1, m2-m1
	case modelTrend:
		tbar := float64(L-1) / 2
		zbar := mean(z)
		var sxy, sxx float64
		for t, v := range z {
			dt := float64(t) - tbar
			sxy += dt * (v - zbar)
			sxx += dt * dt
		}
		a1 = sxy / sxx
		a0 = zbar - a1*tbar
	}
	// φ from the lag-1 regression of the residuals.
	var num, den float64
	prev := z[0] - a0 - a1*regressor(m, tau, 0)
	for t := 1; t < L; t++ {
		r := z[t] - a0 - a1*regressor(m, tau, t)
		num += r * prev
		den += prev * prev
		prev = r
	}
	phi := 0.0
	if fixed >= 0 {
		phi = fixed
	} else if den > 0 {
		phi = math.Min(math.Max(num/den, 0), maxPhi)
	}
	// Generalised least squares on the prewhitened values y[t] = z[t] − φ·z[t−1], t ≥ 1: the
	// level's regressor is 1−φ, the other x[t] − φ·x[t−1].
	g := 1 - phi
	var syy, sy1, syx, s11, s1x, sxx float64
	for t := 1; t < L; t++ {
		y := z[t] - phi*z[t-1]
		x := regressor(m, tau, t) - phi*regressor(m, tau, t-1)
		syy += y * y
		sy1 += y * g
		syx += y * x
		s11 += g * g
		s1x += g * x
		sxx += x * x
	}
	f := arFit{phi: phi}
	if m == modelLevel {
		f.b0 = sy1 / s11
		f.rss = syy - f.b0*sy1
	} else {
		det := s11*sxx - s1x*s1x
		if det <= 1e-12*s11*sxx {
			f.b0 = sy1 / s11
			f.rss = syy - f.b0*sy1
		} else {
			f.b0 = (sxx*sy1 - s1x*syx) / det
			f.b1 = (s11*syx - s1x*sy1) / det
			f.rss = syy - f.b0*sy1 - f.b1*syx
		}
	}
	f.rss = math.Max(f.rss, 0)
	return f
}

// stepScan returns the segment's best step (the split with the least innovations' sum of
// squares) and its two likelihood ratios against no step: lr[0] against a level with its own
// φ, lr[1] against a level under the step fit's φ. The first is nearly pivotal when φ is near
// 1, where a level free to take φ near 1 explains much of a step as persistence; the second is
// the stronger test when φ is moderate. tau is 0 and the ratios 0 when the segment is too short
// to split.
func stepScan(z []float64, minSize int) (tau int, lr [2]float64, step arFit) {
	L := len(z)
	if L < 2*minSize {
		return 0, lr, step
	}
	step.rss = math.Inf(1)
	for c := minSize; c <= L-minSize; c++ {
		if f := fitAR(z, modelStep, c); f.rss < step.rss {
			tau, step = c, f
		}
	}
	lr[0] = likelihoodRatio(L, fitAR(z, modelLevel, 0).rss, step.rss)
	lr[1] = likelihoodRatio(L, fitARPhi(z, modelLevel, 0, step.phi).rss, step.rss)
	return tau, lr, step
}

// likelihoodRatio is the Gaussian likelihood ratio of a fit with residual sum of squares rss1
// against one with rss0, over the L−1 innovations of a segment of L nights.
func likelihoodRatio(L int, rss0, rss1 float64) float64 {
	if rss1 <= 0 {
		if rss0 <= 0 {
			return 0
		}
		return math.Inf(1)
	}
	return float64(L-1) * math.Log(rss0/rss1)
}

// trendLR is the likelihood ratio of a straight line against the level, both with AR(1) noise.
func trendLR(z []float64) (lr float64, trend, null arFit) {
	null, trend = fitAR(z, modelLevel, 0), fitAR(z, modelTrend, 0)
	return likelihoodRatio(len(z), null.rss, trend.rss), trend, null
}

// bootstrapP is the parametric bootstrap p-value of statistics observed on the segment z:
// series of AR(1) noise about a level, driven by the innovations of the alternative's fit f
// (a step at tau, or with tau 0 a line), centred and resampled, with its φ corrected for the
// bias of a lag-1 estimate (phi, which the caller estimates). Each series is
// handed to stat. With one statistic the p-value is the share of the series (the observed one
// counted) whose statistic is at least the observed one; with two it is the same share for
// the smaller of each series' two p-values (min-p, Westfall and Young 1993), so the test is
// as strong as the better of the two for this segment and still exact under the bootstrap.
//
// The alternative's φ, not the level-only fit's: a real step or drift reads as persistence
// in a fit without it, and a φ pushed towards 1 makes surrogates that wander as far as any
// step, so the test would lose the changes it is there to find.
func bootstrapP(rng *rand.Rand, z []float64, tau int, f arFit, phi float64, replicates int, observed []float64, stat func([]float64) []float64) float64 {
	L := len(z)
	m := modelStep
	if tau == 0 {
		m = modelTrend
	}
	// The fit's innovations, centred.
	inn := make([]float64, 0, L-1)
	for t := 1; t < L; t++ {
		inn = append(inn, (z[t]-f.b0-f.b1*regressor(m, tau, t))-f.phi*(z[t-1]-f.b0-f.b1*regressor(m, tau, t-1)))
	}
	mi := mean(inn)
	for i := range inn {
		inn[i] -= mi
	}
	start := 1 / math.Sqrt(1-phi*phi) // a stationary first night
	u := make([]float64, L)
	k := len(observed)
	// pool[j] holds statistic j of the observed series (index 0) and of each replicate.
	pool := make([][]float64, k)
	for j := range pool {
		pool[j] = append(make([]float64, 0, replicates+1), observed[j])
	}
	for r := 0; r < replicates; r++ {
		u[0] = start * inn[rng.IntN(len(inn))]
		for t := 1; t < L; t++ {
			u[t] = phi*u[t-1] + inn[rng.IntN(len(inn))]
		}
		for j, v := range stat(u) {
			pool[j] = append(pool[j], v)
		}
	}
	n := replicates + 1
	// minP[i] is the least over the statistics of series i's p-value within the pool.
	minP := make([]int, n)
	for i := range minP {
		minP[i] = n + 1
	}
	for j := range pool {
		sorted := append([]float64(nil), pool[j]...)
		sort.Float64s(sorted)
		for i, v := range pool[j] {
			// How many of the pool are at least v.
			atLeast := n - sort.SearchFloat64s(sorted, v)
			minP[i] = min(minP[i], atLeast)
		}
	}
	count := 0
	for _, q := range minP {
		if q <= minP[0] {
			count++
		}
	}
	return float64(count) / float64(n)
}

// segmentTest is the step test of one segment.
type segmentTest struct {
	tau int // night of the step within the segment, 0 for none
	lr  float64
	p   float64
}

// testSegment tests the segment z[a:b] of the series z, split at cps, for a step.
func testSegment(rng *rand.Rand, z []float64, a, b int, cps []int, opt Options) segmentTest {
	seg := z[a:b]
	tau, lr, step := stepScan(seg, opt.MinSize)
	if tau == 0 {
		return segmentTest{p: 1}
	}
	// The surrogates' φ is the whole series', about all its levels with this step added: a
	// segment of a few dozen nights alone would understate it, and make the test of a piece
	// after the first split anti-conservative.
	//
	// A second step in the segment, not yet split off, also reads as persistence; so φ is the
	// lesser of the estimates with this step and with the segment's best pair of steps (by
	// least squares), each corrected for the levels it fitted.
	phi := pooledPhi(z, withSplit(cps, a+tau))
	if c1, c2 := bestPair(seg, opt.MinSize); c1 > 0 {
		phi = math.Min(phi, pooledPhi(z, withSplit(withSplit(cps, a+c1), a+c2)))
	}
	p := bootstrapP(rng, seg, tau, step, phi, opt.Permutations, lr[:], func(u []float64) []float64 {
		_, l, _ := stepScan(u, opt.MinSize)
		return l[:]
	})
	return segmentTest{tau: tau, lr: lr[0], p: p}
}

// detectAR is binary segmentation with the AR(1) step test: split the segment with the most
// significant step while its p-value is at most opt.Alpha, then apply the magnitude rules.
func detectAR(xs []float64, opt Options) []ChangePoint {
	z := centred(logScale(xs))
	pvals := map[int]float64{}
	cps := []int{}
	tested := map[[2]int]segmentTest{}
	for {
		bounds := append(append([]int{0}, cps...), len(xs))
		best, bestTest := -1, segmentTest{p: 2}
		for i := 0; i+1 < len(bounds); i++ {
			a, b := bounds[i], bounds[i+1]
			st, ok := tested[[2]int{a, b}]
			if !ok {
				// Each segment's test has its own stream, so a segment's p-value does not depend
				// on the order the others were tested in.
				rng := rand.New(rand.NewPCG(opt.Seed, uint64(a)<<32|uint64(b)))
				st = testSegment(rng, z, a, b, cps, opt)
				tested[[2]int{a, b}] = st
			}
			if st.tau > 0 && (st.p < bestTest.p || (st.p == bestTest.p && st.lr > bestTest.lr)) {
				best, bestTest = a+st.tau, st
			}
		}
		if best < 0 || bestTest.p > opt.Alpha {
			break
		}
		pvals[best] = bestTest.p
		cps = withSplit(cps, best)
	}
	out := withMagnitude(xs, z, cps, pvals, opt, fittedLevels(xs, z))
	if len(out) > 0 {
		kept := make([]int, len(out))
		for i, c := range out {
			kept[i] = c.Index
		}
		if lineBeatsSteps(z, kept) {
			return nil
		}
	}
	return out
}

// lineBeatsSteps reports whether a straight line with AR(1) noise explains z better than its
// levels between the changes cps, by the Bayesian information criterion of the two conditional
// least-squares fits: a line has 3 parameters (level, slope, φ), k steps 2k+2 (their levels,
// nights and φ).
func lineBeatsSteps(z []float64, cps []int) bool {
	n := float64(len(z) - 1)
	bic := func(rss float64, params int) float64 {
		return n*math.Log(math.Max(rss, 1e-300)/n) + float64(params)*math.Log(n)
	}
	return bic(fitAR(z, modelTrend, 0).rss, 3) < bic(levelsRSS(z, cps), 2*len(cps)+2)
}

// levelsRSS is the innovations' sum of squares of z about the means of its segments split at
// cps, with AR(1) noise whose φ is the lag-1 coefficient of the deviations.
func levelsRSS(z []float64, cps []int) float64 {
	bounds := append(append([]int{0}, cps...), len(z))
	r := make([]float64, len(z))
	for i := 0; i+1 < len(bounds); i++ {
		seg := z[bounds[i]:bounds[i+1]]
		m := mean(seg)
		for t, v := range seg {
			r[bounds[i]+t] = v - m
		}
	}
	var num, den float64
	for t := 1; t < len(r); t++ {
		num += r[t] * r[t-1]
		den += r[t-1] * r[t-1]
	}
	phi := 0.0
	if den > 0 {
		phi = math.Min(math.Max(num/den, 0), maxPhi)
	}
	rss := 0.0
	for t := 1; t < len(r); t++ {
		e := r[t] - phi*r[t-1]
		rss += e * e
	}
	return rss
}

// fittedLevels is the levelsFunc of the AR(1) test: the step between two segments as fitted
// with AR(1) noise. With φ near 1 the means of the segments wander with the noise; the fit
// reads the step mostly from its night, where the noise has not had time to move.
func fittedLevels(xs, z []float64) levelsFunc {
	logged := true
	for _, x := range xs {
		logged = logged && x > 0
	}
	mu := mean(logScale(xs))
	level := func(v float64) float64 {
		if logged {
			return math.Exp(v + mu)
		}
		return v + mu
	}
	return func(a, c, b int) (float64, float64, float64) {
		f := fitAR(z[a:b], modelStep, c-a)
		return level(f.b0), level(f.b0 + f.b1), f.b1
	}
}

// pooledPhi estimates the AR(1) coefficient of z about the means of its segments split at cps:
// the lag-1 least-squares coefficient of the deviations within segments, corrected for the
// bias of estimating k means from n nights, about (1+3φ)·k/n (Kendall 1954), in [0, maxPhi].
func pooledPhi(z []float64, cps []int) float64 {
	bounds := append(append([]int{0}, cps...), len(z))
	var num, den float64
	for i := 0; i+1 < len(bounds); i++ {
		seg := z[bounds[i]:bounds[i+1]]
		m := mean(seg)
		for t := 1; t < len(seg); t++ {
			num += (seg[t] - m) * (seg[t-1] - m)
			den += (seg[t-1] - m) * (seg[t-1] - m)
		}
	}
	phi := 0.0
	if den > 0 {
		phi = math.Max(num/den, 0)
	}
	phi += (1 + 3*phi) * float64(len(bounds)-1) / float64(len(z))
	return math.Min(math.Max(phi, 0), maxPhi)
}

// bestPair returns the two splits 0 < c1 < c2 < len(z) that leave the least sum of squares
// about the three segments' means, each at least minSize long, or 0, 0 when there is no room.
func bestPair(z []float64, minSize int) (c1, c2 int) {
	L := len(z)
	if L < 3*minSize {
		return 0, 0
	}
	s1 := make([]float64, L+1) // prefix sums of z and z²
	s2 := make([]float64, L+1)
	for i, v := range z {
		s1[i+1] = s1[i] + v
		s2[i+1] = s2[i] + v*v
	}
	sse := func(a, b int) float64 {
		d := s1[b] - s1[a]
		return s2[b] - s2[a] - d*d/float64(b-a)
	}
	best := math.Inf(1)
	for i := minSize; i <= L-2*minSize; i++ {
		left := sse(0, i)
		for j := i + minSize; j <= L-minSize; j++ {
			if v := left + sse(i, j) + sse(j, L); v < best {
				best, c1, c2 = v, i, j
			}
		}
	}
	return c1, c2
}

// centred returns z less its mean, which the fits' sums of squares need to stay accurate.
func centred(z []float64) []float64 {
	m := mean(z)
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = v - m
	}
	return out
}

// Trend is slow creep: a steady drift of the level over a stretch of nights between change
// points, each night within noise of the one before but the stretch adding up.
type Trend struct {
	// Start and End bound the stretch: nights Start..End−1.
	Start, End int
	// PValue is the bootstrap p-value of the slope.
	PValue float64
	// From and To are the fitted levels at nights Start and End−1, in the series' units.
	From, To float64
	// Shift is (To−From)/From.
	Shift float64
}

func (tr Trend) String() string {
	return fmt.Sprintf("nights %d..%d: %.4g -> %.4g (%+.1f%%, p=%.3f)", tr.Start, tr.End-1, tr.From, tr.To, 100*tr.Shift, tr.PValue)
}

// MinTrendNights is the fewest nights over which Trends tests a slope.
const MinTrendNights = 10

// Trends tests each stretch of xs between its change points cps (as Detect returns them) of at
// least MinTrendNights nights for a straight-line drift with AR(1) noise: the likelihood ratio
// of the line against the level, its p-value by the parametric bootstrap of Detect. A drift is
// reported when p <= opt.Alpha and it moved the level by at least opt.MinShift and by
// opt.MinShiftSD robust sds of the nights about the line.
func Trends(xs []float64, cps []ChangePoint, opt Options) ([]Trend, error) {
	opt = opt.withDefaults()
	if err := check(xs, opt); err != nil {
		return nil, err
	}
	logged := true
	for _, x := range xs {
		logged = logged && x > 0
	}
	zl := logScale(xs)
	mu := mean(zl)
	z := centred(zl)
	level := func(v float64) float64 {
		if logged {
			return math.Exp(v + mu)
		}
		return v + mu
	}
	bounds := []int{0}
	for _, c := range cps {
		bounds = append(bounds, c.Index)
	}
	bounds = append(bounds, len(xs))
	var out []Trend
	for i := 0; i+1 < len(bounds); i++ {
		a, b := bounds[i], bounds[i+1]
		if b-a < MinTrendNights {
			continue
		}
		seg := z[a:b]
		lr, trend, _ := trendLR(seg)
		L := float64(b - a)
		from, to := trend.b0, trend.b0+trend.b1*(L-1)
		res := make([]float64, len(seg))
		for t, v := range seg {
			res[t] = v - trend.b0 - trend.b1*float64(t)
		}
		tr := Trend{Start: a, End: b, From: level(from), To: level(to)}
		tr.Shift = (tr.To - tr.From) / math.Abs(tr.From)
		if math.Abs(tr.Shift) < opt.MinShift || (opt.MinShiftSD > 0 && math.Abs(to-from) < opt.MinShiftSD*madSD(res)) {
			continue
		}
		rng := rand.New(rand.NewPCG(opt.Seed, 0x7e2d<<32|uint64(a)<<16|uint64(b)))
		phi := math.Min(trend.phi+(1+3*trend.phi)*2/L, maxPhi)
		tr.PValue = bootstrapP(rng, seg, 0, trend, phi, opt.Permutations, []float64{lr}, func(u []float64) []float64 {
			l, _, _ := trendLR(u)
			return []float64{l}
		})
		if tr.PValue <= opt.Alpha {
			out = append(out, tr)
		}
	}
	return out, nil
}
