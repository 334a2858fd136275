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
)

// Options tune Detect. Zero fields take the defaults.
type Options struct {
	Alpha        float64
	Permutations int
	MinSize      int
	MinShift     float64
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
	rng := rand.New(rand.NewPCG(opt.Seed, 0xc4a9e))
	pvals := map[int]float64{}
	cps := []int{}
	w := newWork(len(xs))
	for {
		bounds := append(append([]int{0}, cps...), len(xs))
		best, bestQ := -1, 0.0
		for i := 0; i+1 < len(bounds); i++ {
			tau, q := w.bestSplit(xs[bounds[i]:bounds[i+1]], opt.MinSize)
			if tau > 0 && q > bestQ {
				best, bestQ = bounds[i]+tau, q
			}
		}
		if best < 0 {
			break
		}
		// Permutation test: shuffle within every current segment (the null: no further change
		// in any of them) and see how often a split at least as strong appears by chance.
		perm := make([]float64, len(xs))
		exceed := 0
		for r := 0; r < opt.Permutations; r++ {
			copy(perm, xs)
			maxQ := 0.0
			for i := 0; i+1 < len(bounds); i++ {
				seg := perm[bounds[i]:bounds[i+1]]
				rng.Shuffle(len(seg), func(a, b int) { seg[a], seg[b] = seg[b], seg[a] })
				if _, q := w.bestSplit(seg, opt.MinSize); q > maxQ {
					maxQ = q
				}
			}
			if maxQ >= bestQ {
				exceed++
			}
		}
		p := float64(exceed+1) / float64(opt.Permutations+1)
		if p > opt.Alpha {
			break
		}
		pvals[best] = p
		cps = append(cps, best)
		sort.Ints(cps)
	}
	return withMagnitude(xs, cps, pvals, opt.MinShift), nil
}

// withMagnitude drops, weakest first, the changes whose relative shift between the adjacent
// segments' means is below minShift, merging their segments, and describes the rest.
func withMagnitude(xs []float64, cps []int, pvals map[int]float64, minShift float64) []ChangePoint {
	for {
		out := describe(xs, cps, pvals)
		weakest := -1
		for i, c := range out {
			if math.Abs(c.Shift) < minShift && (weakest < 0 || math.Abs(c.Shift) < math.Abs(out[weakest].Shift)) {
				weakest = i
			}
		}
		if weakest < 0 {
			return out
		}
		cps = append(cps[:weakest:weakest], cps[weakest+1:]...)
	}
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
