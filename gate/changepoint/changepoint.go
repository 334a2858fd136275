// Package changepoint finds change points in a series of per-night measurements (a quantile of
// latency per nightly run) with E-Divisive means, the method of Matteson and James (2014) as
// Hunter and Apache Otava apply it to performance history: split where the energy distance
// between the two sides is largest, keep the split only if a seeded permutation test says it
// is significant, repeat on the pieces. A minimum-magnitude rule then drops changes too small
// to matter, which is what lets slow creep show up as a change without flagging noise.
//
// It works on plain float64 series and knows nothing of stores, results or verdicts: the
// caller (baseline history) supplies the numbers and names the commits.
package changepoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Defaults for Options.
const (
	// DefaultAlpha is the significance level of the permutation test.
	DefaultAlpha = 0.01
	// DefaultPermutations is how many permutations estimate a p-value; 199 resolve p down to
	// 1/200 = 0.005, below DefaultAlpha.
	DefaultPermutations = 199
	// DefaultMinSize is the fewest points on either side of a change: a change needs three
	// nights of evidence before it is reported.
	DefaultMinSize = 3
	// DefaultMinShift is the smallest relative change of the segment means that is reported.
	DefaultMinShift = 0.02
	// DefaultMinShiftSD is the smallest change reported, in robust standard deviations.
	DefaultMinShiftSD = 2.5
)

// Options tune Detect. Zero fields take the defaults.
type Options struct {
	Alpha        float64
	Permutations int
	MinSize      int
	MinShift     float64
	// MinShiftSD is the smallest change reported in robust standard deviations of the series
	// about its levels (of its logs, for a positive series); negative turns the rule off.
	MinShiftSD float64
	// Autocorrelated selects the test for autocorrelated nights: prewhiten the (log) series
	// with a fitted AR(1), locate the step by least squares on the innovations and test it by
	// permuting them, then apply MinShiftSD. Off, Detect is E-Divisive with the plain
	// permutation test, which assumes exchangeable nights.
	Autocorrelated bool
	// Seed makes the permutation test reproducible.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Permutations == 0 {
		o.Permutations = DefaultPermutations
	}
	if o.MinSize < 2 {
		o.MinSize = DefaultMinSize
	}
	if o.MinShift == 0 {
		o.MinShift = DefaultMinShift
	}
	if o.MinShiftSD == 0 {
		o.MinShiftSD = DefaultMinShiftSD
	}
	return o
}

// ChangePoint is a change in the series' level.
type ChangePoint struct {
	// Index is the first point after the change: xs[Index-1] is the last of the old level.
	Index int
	// PValue is the permutation test's p-value when the change was found.
	PValue float64
	// Before and After are the means of the segments on either side.
	Before, After float64
	// Shift is (After-Before)/Before.
	Shift float64
}

func (c ChangePoint) String() string {
	return fmt.Sprintf("at %d: %.4g -> %.4g (%+.1f%%, p=%.3f)", c.Index, c.Before, c.After, 100*c.Shift, c.PValue)
}

// Detect returns the change points of xs, in index order.
func Detect(xs []float64, opt Options) ([]ChangePoint, error) {
	opt = opt.withDefaults()
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("changepoint: value %d is %v", i, x)
		}
	}
	if opt.Alpha <= 0 || opt.Alpha >= 1 {
		return nil, fmt.Errorf("changepoint: alpha %v must be in (0, 1)", opt.Alpha)
	}
	if !opt.Autocorrelated {
		return detectExchangeable(xs, opt), nil
	}
	z := logScale(xs)
	rng := rand.New(rand.NewPCG(opt.Seed, 0xc4a9e))
	pvals := map[int]float64{}
	cps := []int{}
	res := make([]float64, len(xs))
	perm := make([]float64, len(xs))
	for {
		bounds := append(append([]int{0}, cps...), len(xs))
		// Prewhiten: fit AR(1) noise about the segments' levels, refitted with the strongest
		// candidate step counted as a level (so a real step does not read as autocorrelation),
		// and test the innovations, exchangeable under the null where nights are not. The
		// innovations are clipped at clipMADs so one wild night is not a change.
		phi := fitPhi(z, cps)
		prewhiten(res, z, bounds, phi)
		for it := 0; it < 3; it++ {
			c, _ := glsBest(res, bounds, phi, opt.MinSize)
			if c <= 0 {
				break
			}
			phi = fitPhi(z, withSplit(cps, c))
			prewhiten(res, z, bounds, phi)
		}
		clip(res, clipMADs*madSD(res))
		best, bestQ := glsBest(res, bounds, phi, opt.MinSize)
		if best < 0 {
			break
		}
		p := permutationP(rng, res, perm, bounds, opt.Permutations, bestQ, func(seg []float64) float64 {
			_, q := glsSplit(seg, phi, opt.MinSize)
			return q
		})
		if p > opt.Alpha {
			break
		}
		pvals[best] = p
		cps = withSplit(cps, best)
	}
	return withMagnitude(xs, z, cps, pvals, opt), nil
}

// detectExchangeable is E-Divisive with the plain permutation test, which assumes exchangeable
// nights.
func detectExchangeable(xs []float64, opt Options) []ChangePoint {
	rng := rand.New(rand.NewPCG(opt.Seed, 0xc4a9e))
	pvals := map[int]float64{}
	cps := []int{}
	w := newWork(len(xs))
	perm := make([]float64, len(xs))
	for {
		bounds := append(append([]int{0}, cps...), len(xs))
		best, bestQ := bestOf(w, xs, bounds, opt.MinSize)
		if best < 0 {
			break
		}
		// Permutation test: shuffle within every current segment (the null: no further change
		// in any of them) and see how often a split at least as strong appears by chance.
		p := permutationP(rng, xs, perm, bounds, opt.Permutations, bestQ, func(seg []float64) float64 {
			_, q := w.bestSplit(seg, opt.MinSize)
			return q
		})
		if p > opt.Alpha {
			break
		}
		pvals[best] = p
		cps = withSplit(cps, best)
	}
	opt.MinShiftSD = -1
	return withMagnitude(xs, xs, cps, pvals, opt)
}

// permutationP is the p-value of the statistic observed on xs by permutation: shuffle xs within
// every segment between bounds (the null: no further change in any of them) into buf, take the
// strongest segment's stat, and count how often it is at least observed.
func permutationP(rng *rand.Rand, xs, buf []float64, bounds []int, permutations int, observed float64, stat func([]float64) float64) float64 {
	exceed := 0
	for r := 0; r < permutations; r++ {
		copy(buf, xs)
		maxQ := 0.0
		for i := 0; i+1 < len(bounds); i++ {
			seg := buf[bounds[i]:bounds[i+1]]
			rng.Shuffle(len(seg), func(a, b int) { seg[a], seg[b] = seg[b], seg[a] })
			if q := stat(seg); q > maxQ {
				maxQ = q
			}
		}
		if maxQ >= observed {
			exceed++
		}
	}
	return float64(exceed+1) / float64(permutations+1)
}

// withSplit returns cps with c added, in order, leaving cps alone.
func withSplit(cps []int, c int) []int {
	out := append(append(make([]int, 0, len(cps)+1), cps...), c)
	sort.Ints(out)
	return out
}

// logScale returns the logs of xs when every value is positive (a latency: its changes are
// relative), else xs.
func logScale(xs []float64) []float64 {
	for _, x := range xs {
		if x <= 0 {
			return xs
		}
	}
	z := make([]float64, len(xs))
	for i, x := range xs {
		z[i] = math.Log(x)
	}
	return z
}

// withMagnitude drops, weakest first, the changes too small to report, merging their segments,
// and describes the rest. A change is too small when the relative shift of the adjacent
// segments' means is below opt.MinShift, or when the shift of their levels in z (the logs of a
// latency) is below opt.MinShiftSD robust standard deviations of the series around its levels.
func withMagnitude(xs, z []float64, cps []int, pvals map[int]float64, opt Options) []ChangePoint {
	minZ := 0.0
	if opt.MinShiftSD > 0 {
		minZ = opt.MinShiftSD * levelSD(z, cps)
	}
	for {
		out := describe(xs, cps, pvals)
		bounds := append(append([]int{0}, cps...), len(xs))
		weakest, weakestZ := -1, 0.0
		for i, c := range out {
			dz := math.Abs(mean(z[c.Index:bounds[i+2]]) - mean(z[bounds[i]:c.Index]))
			if (math.Abs(c.Shift) < opt.MinShift || dz < minZ) && (weakest < 0 || dz < weakestZ) {
				weakest, weakestZ = i, dz
			}
		}
		if weakest < 0 {
			return out
		}
		cps = append(cps[:weakest:weakest], cps[weakest+1:]...)
	}
}

// levelSD is the robust standard deviation (MAD) of z around the medians of its segments split
// at cps: the spread of a night about its level, steps left out.
func levelSD(z []float64, cps []int) float64 {
	bounds := append(append([]int{0}, cps...), len(z))
	dev := make([]float64, 0, len(z))
	for i := 0; i+1 < len(bounds); i++ {
		seg := z[bounds[i]:bounds[i+1]]
		m := median(seg)
		for _, v := range seg {
			dev = append(dev, v-m)
		}
	}
	return madSD(dev)
}

func describe(xs []float64, cps []int, pvals map[int]float64) []ChangePoint {
	bounds := append(append([]int{0}, cps...), len(xs))
	out := make([]ChangePoint, 0, len(cps))
	for i, c := range cps {
		before, after := mean(xs[bounds[i]:c]), mean(xs[c:bounds[i+2]])
		shift := math.Inf(1)
		if before != 0 {
			shift = (after - before) / math.Abs(before)
		}
		out = append(out, ChangePoint{Index: c, PValue: pvals[c], Before: before, After: after, Shift: shift})
	}
	return out
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// work holds the distance matrix buffer, reused across splits and permutations.
type work struct{ d []float64 }

func newWork(n int) *work { return &work{d: make([]float64, n*n)} }

// bestSplit returns the split tau (left = xs[:tau]) maximizing the energy statistic with
// alpha = 1, and the statistic, or tau = 0 when xs is too short to split.
//
//	Q(tau) = m n / (m + n) * ( 2/(m n) sum|x-y| - 1/C(m,2) sum_{i<k}|x_i-x_k| - 1/C(n,2) sum_{j<k}|y_j-y_k| )
//
// Moving one point at a time from the right side to the left updates the three sums in O(n),
// so a whole scan is O(n^2) rather than O(n^3).
func (w *work) bestSplit(xs []float64, minSize int) (int, float64) {
	L := len(xs)
	if L < 2*minSize {
		return 0, 0
	}
	d := w.d[:L*L]
	total := 0.0
	for i := 0; i < L; i++ {
		for j := i + 1; j < L; j++ {
			v := math.Abs(xs[i] - xs[j])
			d[i*L+j], d[j*L+i] = v, v
			total += v
		}
	}
	wl, wr, b := 0.0, total, 0.0
	bestTau, bestQ := 0, math.Inf(-1)
	for tau := 1; tau <= L-minSize; tau++ {
		p := tau - 1
		rowL, rowR := 0.0, 0.0
		for i := 0; i < p; i++ {
			rowL += d[p*L+i]
		}
		for j := p + 1; j < L; j++ {
			rowR += d[p*L+j]
		}
		wl += rowL
		wr -= rowR
		b += rowR - rowL
		if tau < minSize {
			continue
		}
		m, n := float64(tau), float64(L-tau)
		q := m * n / (m + n) * (2*b/(m*n) - wl/(m*(m-1)/2) - wr/(n*(n-1)/2))
		if q > bestQ {
			bestTau, bestQ = tau, q
		}
	}
	return bestTau, bestQ
}

// maxPhi bounds the fitted AR(1) coefficient: near 1 the series is a random walk, which has no
// level to change, and surrogates of it split as strongly as anything observed.
const maxPhi = 0.98

// bestOf returns the strongest split of xs over the segments between bounds (an index into
// xs) and its energy statistic, or -1 when no segment can be split.
func bestOf(w *work, xs []float64, bounds []int, minSize int) (int, float64) {
	best, bestQ := -1, 0.0
	for i := 0; i+1 < len(bounds); i++ {
		tau, q := w.bestSplit(xs[bounds[i]:bounds[i+1]], minSize)
		if tau > 0 && q > bestQ {
			best, bestQ = bounds[i]+tau, q
		}
	}
	return best, bestQ
}

// fitPhi fits the AR(1) coefficient of z's deviations from the means of its segments split at
// cps: a robust lag-1 correlation within segments, corrected for the bias of estimating the
// means, in [0, maxPhi].
func fitPhi(z []float64, cps []int) float64 {
	bounds := append(append([]int{0}, cps...), len(z))
	var a, b []float64 // pairs (dev[t], dev[t−1]) within a segment
	for i := 0; i+1 < len(bounds); i++ {
		seg := z[bounds[i]:bounds[i+1]]
		m := mean(seg)
		for t := 1; t < len(seg); t++ {
			a = append(a, seg[t]-m)
			b = append(b, seg[t-1]-m)
		}
	}
	// Lag-1 least squares on deviations clipped at 3 MAD-sds: one wild night does not set it.
	var phi float64
	{
		c := 3 * madSD(a)
		var ab, bb float64
		for i := range a {
			x, y := math.Max(-c, math.Min(c, a[i])), math.Max(-c, math.Min(c, b[i]))
			ab += x * y
			bb += y * y
		}
		if bb > 0 {
			phi = ab / bb
		}
	}
	// Demeaning k segments of n points biases the lag-1 correlation down by about (1+3·phi)·k/n
	// (Kendall 1954, per segment); add it back.
	phi += (1 + 3*math.Max(phi, 0)) * float64(len(bounds)-1) / float64(len(z))
	return math.Min(math.Max(phi, 0), maxPhi)
}

// prewhiten writes to res the innovations of z's AR(1) deviations from its segments' means:
// within a segment res[t] = dev[t] − phi·dev[t−1], and the segment's first point, which has no
// predecessor, scaled to the innovations' variance, sqrt(1−phi²)·dev[t] (Prais–Winsten).
// A step of d inside a segment becomes a spike of d at its night and a step of (1−phi)·d.
func prewhiten(res, z []float64, bounds []int, phi float64) {
	for i := 0; i+1 < len(bounds); i++ {
		seg := z[bounds[i]:bounds[i+1]]
		m := mean(seg)
		for t, v := range seg {
			if t == 0 {
				res[bounds[i]] = math.Sqrt(1-phi*phi) * (v - m)
			} else {
				res[bounds[i]+t] = (v - m) - phi*(seg[t-1]-m)
			}
		}
	}
}

// madSD is the median absolute deviation from the median, scaled to estimate the standard
// deviation of normal data.
func madSD(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	med := median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	return 1.4826 * median(dev)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// glsBest is bestOf for glsSplit.
func glsBest(res []float64, bounds []int, phi float64, minSize int) (int, float64) {
	best, bestQ := -1, 0.0
	for i := 0; i+1 < len(bounds); i++ {
		tau, q := glsSplit(res[bounds[i]:bounds[i+1]], phi, minSize)
		if tau > 0 && q > bestQ {
			best, bestQ = bounds[i]+tau, q
		}
	}
	return best, bestQ
}

// glsSplit returns the night tau of a segment's strongest step and its statistic: the squared
// least-squares estimate of a step at tau from the segment's prewhitened values r (as
// prewhiten writes them), in units of the innovations' variance times the estimate's.
//
// After prewhitening, the level is the regressor c (sqrt(1−phi²) at the first night, 1−phi
// after) and a step at tau the regressor d (1 at tau, 1−phi after it); with d' the part of d
// orthogonal to c, the statistic is (d'·r)² / (d'·d'), to be divided by the innovations'
// variance, which a permutation of the innovations leaves unchanged.
func glsSplit(r []float64, phi float64, minSize int) (int, float64) {
	L := len(r)
	if L < 2*minSize {
		return 0, 0
	}
	g := 1 - phi
	c0 := math.Sqrt(1 - phi*phi)
	cc := c0*c0 + g*g*float64(L-1)
	cr := c0 * r[0]
	for t := 1; t < L; t++ {
		cr += g * r[t]
	}
	bestTau, bestT := 0, math.Inf(-1)
	suffix := 0.0 // sum of r[t] for t > tau
	for t := minSize; t < L; t++ {
		suffix += r[t]
	}
	for tau := minSize; tau <= L-minSize; tau++ {
		suffix -= r[tau]
		after := float64(L - 1 - tau)
		dr := r[tau] + g*suffix
		cd := g + g*g*after
		dd := 1 + g*g*after
		num := dr - cd*cr/cc
		den := dd - cd*cd/cc
		if den <= 0 {
			continue
		}
		if T := num * num / den; T > bestT {
			bestTau, bestT = tau, T
		}
	}
	return bestTau, bestT
}

// clipMADs is where the innovations are clipped, in robust sds: one wild night, an outlier
// of the p99.9, then weighs no more than a 3-sd innovation.
const clipMADs = 3.0

// clip limits the values of xs to [−c, c] (Huber's ψ), when c > 0.
func clip(xs []float64, c float64) {
	if c <= 0 {
		return
	}
	for i, x := range xs {
		xs[i] = math.Max(-c, math.Min(c, x))
	}
}
