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
	// DefaultReplicates is how many bootstrap series the default (AR(1)) test draws: its
	// min-p combination of two statistics needs 399 to resolve p below DefaultAlpha.
	DefaultReplicates = 399
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
	// Exchangeable selects E-Divisive means with the plain permutation test (the method of
	// Hunter and Apache Otava), which assumes exchangeable nights: on autocorrelated nights it
	// reports spurious changes. Off (the default), Detect fits AR(1) noise (see ar1.go).
	Exchangeable bool
	// Seed makes the permutation test reproducible.
	Seed uint64
}

func (o Options) withDefaults() Options {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.Permutations == 0 {
		o.Permutations = DefaultReplicates
		if o.Exchangeable {
			o.Permutations = DefaultPermutations
		}
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
	// Before and After are the levels on either side: with the default test, as fitted with
	// AR(1) noise (a step of the logs, for a positive series); with Exchangeable, the means of
	// the segments.
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
	if err := check(xs, opt); err != nil {
		return nil, err
	}
	if opt.Exchangeable {
		return detectExchangeable(xs, opt), nil
	}
	return detectAR(xs, opt), nil
}

// check rejects a series Detect and Trends cannot analyse, and options out of range.
func check(xs []float64, opt Options) error {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("changepoint: value %d is %v", i, x)
		}
	}
	if opt.Alpha <= 0 || opt.Alpha >= 1 {
		return fmt.Errorf("changepoint: alpha %v must be in (0, 1)", opt.Alpha)
	}
	return nil
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
	return withMagnitude(xs, xs, cps, pvals, opt, segmentMeans(xs, xs))
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

// levelsFunc gives the levels either side of a change at c between the changes (or ends) a and
// b: before and after in the series' units, and the shift between them in z.
type levelsFunc func(a, c, b int) (before, after, dz float64)

// segmentMeans is the levelsFunc of E-Divisive: the means of the adjacent segments.
func segmentMeans(xs, z []float64) levelsFunc {
	return func(a, c, b int) (float64, float64, float64) {
		return mean(xs[a:c]), mean(xs[c:b]), mean(z[c:b]) - mean(z[a:c])
	}
}

// withMagnitude drops, weakest first, the changes too small to report, merging their segments,
// and describes the rest with levels. A change is too small when the relative shift of its
// levels is below opt.MinShift, or when their shift in z (the logs of a latency) is below
// opt.MinShiftSD robust standard deviations of the series around its levels.
func withMagnitude(xs, z []float64, cps []int, pvals map[int]float64, opt Options, levels levelsFunc) []ChangePoint {
	if len(cps) == 0 {
		return nil
	}
	minZ := 0.0
	if opt.MinShiftSD > 0 {
		minZ = opt.MinShiftSD * levelSD(z, cps)
	}
	for {
		out, dzs := describe(xs, cps, pvals, levels)
		weakest, weakestZ := -1, 0.0
		for i, c := range out {
			dz := math.Abs(dzs[i])
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

func describe(xs []float64, cps []int, pvals map[int]float64, levels levelsFunc) ([]ChangePoint, []float64) {
	bounds := append(append([]int{0}, cps...), len(xs))
	out := make([]ChangePoint, 0, len(cps))
	dzs := make([]float64, 0, len(cps))
	for i, c := range cps {
		before, after, dz := levels(bounds[i], c, bounds[i+2])
		shift := math.Inf(1)
		if before != 0 {
			shift = (after - before) / math.Abs(before)
		}
		out = append(out, ChangePoint{Index: c, PValue: pvals[c], Before: before, After: after, Shift: shift})
		dzs = append(dzs, dz)
	}
	return out, dzs
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
