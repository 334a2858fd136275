package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// block is consecutive intervals merged: its populated buckets in index order.
type block struct {
	idx   []int32
	cnt   []int64
	total int64
	sum   float64
}

// blockSet is a Sample cut into non-overlapping blocks of blockLen intervals (the last may be
// shorter).
type blockSet struct {
	blockLen int
	blocks   []block
}

// blockSet returns the sample's blocks for length l (0: chosen from the data), cached.
func (s *Sample) blockSet(l int) *blockSet {
	if l <= 0 {
		l = AutoBlockLen(s)
	}
	l = min(max(l, 1), max(s.Intervals(), 1))
	s.mu.Lock()
	defer s.mu.Unlock()
	if bs, ok := s.blocks[l]; ok {
		return bs
	}
	n := s.Intervals()
	bs := &blockSet{blockLen: l}
	dense := make([]int64, s.geom.countsLen)
	// The merged counts come with the first block set: one decoding pass serves both.
	merged := s.merged
	if merged == nil {
		merged = make([]int64, s.geom.countsLen)
	}
	for start := 0; start < n; start += l {
		end := min(start+l, n)
		lo, hi := int32(math.MaxInt32), int32(-1)
		var b block
		for i := start; i < end; i++ {
			// forEach, unrolled: this loop touches every stored bucket of the run.
			d := s.interval(i)
			var idx int32
			first := true
			for len(d) > 0 {
				var delta int32
				var c int64
				delta, c, d = nextEntry(d)
				idx += delta
				dense[idx] += c
				if first {
					lo, first = min(lo, idx), false
				}
			}
			if !first {
				hi = max(hi, idx)
			}
			b.total += s.count[i]
			b.sum += s.sum[i]
		}
		for idx := lo; idx <= hi; idx++ {
			if c := dense[idx]; c != 0 {
				b.idx = append(b.idx, idx)
				b.cnt = append(b.cnt, c)
				dense[idx] = 0
				if s.merged == nil {
					merged[idx] += c
				}
			}
		}
		bs.blocks = append(bs.blocks, b)
	}
	s.merged = merged
	if s.blocks == nil {
		s.blocks = map[int]*blockSet{}
	}
	s.blocks[l] = bs
	return bs
}

// draw fills w with the multiplicities of len(w) blocks drawn uniformly with replacement.
func (bs *blockSet) draw(rng *rand.Rand, w []int32) {
	clear(w)
	n := len(w)
	for range n {
		w[rng.IntN(n)]++
	}
}

func (bs *blockSet) meanOf(w []int32) float64 {
	var sum float64
	var n int64
	for b, k := range w {
		if k != 0 {
			sum += float64(k) * bs.blocks[b].sum
			n += int64(k) * bs.blocks[b].total
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// qwindow holds, for one quantile, every block's cumulative counts at the populated buckets of
// a window of bucket indices that holds the quantile of any resample. cum is grid-major
// (cum[j*nb+b]) so that a probe of grid point j reads one contiguous row.
type qwindow struct {
	q     float64
	grid  []int32 // bucket indices, ascending
	below []int64 // per block: samples in buckets before grid[0]
	cum   []int64 // per grid point and block: samples in buckets ≤ grid[j]
	nb    int
}

// window builds the qwindow of quantile q. For each block b with n_b samples it takes the
// bucket of rank max(1, ⌈q·n_b⌉−1) as a lower and of rank min(n_b, ⌊q·n_b⌋+2) as an upper
// candidate: for any multiplicities w the resample's rank round(q·Σw·n) lies between Σw times
// the lower ranks and Σw times the upper ones, so its bucket lies between the smallest lower and
// the largest upper candidate. quantile still checks, and falls back to an exact merge.
func (bs *blockSet) window(s *Sample, q float64) *qwindow {
	lo, hi := int32(math.MaxInt32), int32(-1)
	for _, b := range bs.blocks {
		if b.total == 0 {
			continue
		}
		qn := q * float64(b.total)
		rl := max(int64(math.Ceil(qn))-1, 1)
		rh := min(int64(math.Floor(qn))+2, b.total)
		lo = min(lo, b.bucketAtRank(rl))
		hi = max(hi, b.bucketAtRank(rh))
	}
	w := &qwindow{q: q, nb: len(bs.blocks)}
	if hi < lo {
		return w
	}
	merged := s.mergedCounts()
	for idx := lo; idx <= hi; idx++ {
		if merged[idx] != 0 {
			w.grid = append(w.grid, idx)
		}
	}
	nb, ng := len(bs.blocks), len(w.grid)
	w.below = make([]int64, nb)
	w.cum = make([]int64, ng*nb)
	for b, blk := range bs.blocks {
		var c int64
		j := 0
		for i, idx := range blk.idx {
			if idx > hi {
				break
			}
			if idx < lo {
				c += blk.cnt[i]
				w.below[b] = c
				continue
			}
			// Every populated bucket of a block inside the window is a grid point.
			for w.grid[j] < idx {
				w.cum[j*nb+b] = c
				j++
			}
			c += blk.cnt[i]
			w.cum[j*nb+b] = c
			j++
		}
		for ; j < ng; j++ {
			w.cum[j*nb+b] = c
		}
	}
	return w
}

// cdfSE returns the standard error of the share of samples at or below x, estimated from the
// spread of its block sums (a ratio estimator over independent blocks, with the B/(B−1)
// correction).
func (bs *blockSet) cdfSE(s *Sample, x float64) float64 {
	var n, e int64
	below := make([]int64, len(bs.blocks))
	for b, blk := range bs.blocks {
		for i, idx := range blk.idx {
			if float64(s.geom.top(idx)) > x {
				break
			}
			below[b] += blk.cnt[i]
		}
		n += blk.total
		e += below[b]
	}
	nb := float64(len(bs.blocks))
	if n == 0 || nb < 2 {
		return 0
	}
	f := float64(e) / float64(n)
	var ss float64
	for b, blk := range bs.blocks {
		d := float64(below[b]) - f*float64(blk.total)
		ss += d * d
	}
	return math.Sqrt(ss*nb/(nb-1)) / float64(n)
}

// bucketAtRank returns the index of the bucket holding the rank-th smallest sample.
func (b *block) bucketAtRank(rank int64) int32 {
	var c int64
	for i, n := range b.cnt {
		c += n
		if c >= rank {
			return b.idx[i]
		}
	}
	return b.idx[len(b.idx)-1]
}

// quantile returns the quantile of the resample with block multiplicities w.
func (w *qwindow) quantile(s *Sample, bs *blockSet, mult []int32) float64 {
	var n int64
	for b, k := range mult {
		n += int64(k) * bs.blocks[b].total
	}
	if n == 0 {
		return math.NaN()
	}
	rank := percentileRank(w.q, n)
	ng := len(w.grid)
	row := func(j int) int64 {
		r := w.cum[j*w.nb : (j+1)*w.nb]
		var c int64
		for b, k := range mult {
			c += int64(k) * r[b]
		}
		return c
	}
	var below int64
	for b, k := range mult {
		below += int64(k) * w.below[b]
	}
	if ng == 0 || below >= rank || row(ng-1) < rank {
		return w.exact(s, bs, mult, rank)
	}
	j := sort.Search(ng, func(j int) bool { return row(j) >= rank })
	return float64(s.geom.top(w.grid[j]))
}

// exact merges the resample's blocks and finds the bucket of rank. It is the safety net for a
// resample outside the window, which the window's construction rules out.
func (w *qwindow) exact(s *Sample, bs *blockSet, mult []int32, rank int64) float64 {
	s.mu.Lock()
	s.fallbck++
	s.mu.Unlock()
	dense := make([]int64, s.geom.countsLen)
	for b, k := range mult {
		if k == 0 {
			continue
		}
		blk := bs.blocks[b]
		for i, idx := range blk.idx {
			dense[idx] += int64(k) * blk.cnt[i]
		}
	}
	var c int64
	for idx, n := range dense {
		c += n
		if c >= rank {
			return float64(s.geom.top(int32(idx)))
		}
	}
	return float64(s.max)
}

// AutoBlockLen chooses the block length, in intervals, from the data: the larger of Politis and
// White's automatic block length for the series of per-interval medians and of per-interval
// 99th percentiles, and ⌈n^(2/3)⌉, at most n/MinBlocks.
//
// The floor is deliberately conservative. Drift that is small next to the noise of one interval
// but persists over many (thermal drift) hides from an autocorrelation estimate and still
// dominates the variance of a whole run, and adjacent blocks then correlate, which makes the
// blocks' spread too small. In calibration, a drifting process gated over 200 intervals alarmed
// on 3 % of A/A pairs with a √n floor (blocks of 15) and on none with blocks of 25. With
// n^(2/3) the blocks outgrow any fixed correlation time while their number (n^(1/3), 26 for a
// 48-hour nightly of 17,280 intervals) still gives t enough degrees of freedom.
func AutoBlockLen(s *Sample) int {
	n := s.Intervals()
	l := max(politisWhite(s.p50), politisWhite(s.p99), int(math.Ceil(math.Pow(float64(n), 2.0/3))))
	if maxL := n / MinBlocks; l > maxL {
		l = maxL
	}
	return max(l, 1)
}

// politisWhite returns the optimal block length for a circular/moving-block bootstrap of the
// mean of x (Politis & White 2004, with Patton, Politis & White's 2009 correction), rounded up.
func politisWhite(x []float64) int {
	n := len(x)
	if n < 8 {
		return 1
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	kn := max(5, int(math.Ceil(math.Sqrt(math.Log10(float64(n))))))
	mmax := int(math.Ceil(math.Sqrt(float64(n)))) + kn
	if mmax > n-1 {
		mmax = n - 1
	}
	acov := make([]float64, mmax+1)
	for k := 0; k <= mmax; k++ {
		var c float64
		for i := 0; i+k < n; i++ {
			c += (x[i] - mean) * (x[i+k] - mean)
		}
		acov[k] = c / float64(n)
	}
	if acov[0] <= 0 {
		return 1
	}
	crit := 2 * math.Sqrt(math.Log10(float64(n))/float64(n))
	mhat := -1
	for m := 1; m+kn <= mmax; m++ {
		ok := true
		for k := 1; k <= kn; k++ {
			if math.Abs(acov[m+k]/acov[0]) >= crit {
				ok = false
				break
			}
		}
		if ok {
			mhat = m
			break
		}
	}
	if mhat < 0 {
		mhat = mmax
	}
	M := min(2*mhat, mmax)
	var g, d float64
	for k := -M; k <= M; k++ {
		lam := flatTop(float64(k) / float64(M))
		r := acov[abs(k)]
		g += lam * float64(abs(k)) * r
		d += lam * r
	}
	// d is the flat-top estimate of the long-run variance (2π times the spectral density at
	// zero). When it is no larger than the lag-0 variance the series is, on balance, not
	// positively correlated: blocks of one interval then over- rather than underestimate the
	// variance of a mean, so they are safe. Politis and White's length for such a series is
	// driven by noise in g and d (a white series of 60 points can get 59), never by persistence.
	dcb := 4.0 / 3.0 * d * d
	if dcb <= 0 || g == 0 || d <= acov[0] {
		return 1
	}
	b := math.Pow(2*g*g/dcb, 1.0/3) * math.Pow(float64(n), 1.0/3)
	if math.IsNaN(b) || b < 1 {
		return 1
	}
	// Patton, Politis and White's cap: at most min(3√n, n/3).
	return min(int(math.Ceil(b)), int(math.Ceil(min(3*math.Sqrt(float64(n)), float64(n)/3))))
}

func flatTop(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t <= 0.5:
		return 1
	case t <= 1:
		return 2 * (1 - t)
	}
	return 0
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// StabilityGrowth is how much the block variance of a statistic may grow when its block length
// doubles before the doubled length is used: blocks long enough for the autocorrelation give
// (nearly) the same variance at L and 2L, because the covariance between neighbouring blocks,
// which doubling adds, is then negligible; a ratio V(2L)/V(L) above 1.5 says neighbouring blocks
// correlate by about 0.5, which Politis and White's estimate missed (typically drift slower than
// its lag window sees).
const StabilityGrowth = 1.5

// BlockChoice is the block length a statistic's interval rests on and how it was chosen.
type BlockChoice struct {
	// Len is the block length used, in intervals: Needed, or more when the run allows (see
	// ChooseBlocks).
	Len int
	// Needed is the length the autocorrelation of the statistic's per-interval series needs:
	// Politis and White's, doubled when the stability check asks for it.
	Needed int
	// Doubled is set when the stability check doubled Politis and White's length.
	Doubled bool
	// Blocks is the number of blocks of Len in the run (the last may be shorter).
	Blocks int
	// NeedIntervals is set (MinBlocks × Needed) when the run has fewer intervals: it is too short
	// for its autocorrelation and no interval or bound may rest on its blocks.
	NeedIntervals int
}

// TooShort reports whether the run is too short for its autocorrelation.
func (c BlockChoice) TooShort() bool { return c.NeedIntervals > 0 }

// Reason says why a run is too short, for a verdict's reason ("" when it is not).
func (c BlockChoice) Reason(intervals int) string {
	if !c.TooShort() {
		return ""
	}
	return fmt.Sprintf("run too short for its autocorrelation: need ≥ %d intervals (%d blocks of %d), has %d",
		c.NeedIntervals, MinBlocks, c.Needed, intervals)
}

// ChooseBlocks chooses the block length for a share estimated as Σa/Σn over intervals (a[i] the
// samples of interval i that count, n[i] all its samples; for a mean, a[i] is the interval's sum):
//
//  1. Politis and White's automatic length for the series of per-interval shares a[i]/n[i]:
//     the tested statistic's own series, not a proxy's;
//  2. the stability check: when the block variance of the share at twice that length exceeds
//     StabilityGrowth times the variance at that length, twice the length (once);
//  3. when the run holds fewer than MinBlocks blocks of the result, it is too short for its
//     autocorrelation: NeedIntervals says how many intervals it would take;
//  4. otherwise the length used is the larger of that and ⌈n^(2/3)⌉, at most n/MinBlocks: drift
//     that is small next to one interval's noise but persists hides from an autocorrelation
//     estimate, and longer blocks, where the run can afford them, keep it inside a block (see
//     AutoBlockLen). This floor never makes a run too short; step 3 alone does.
func ChooseBlocks(a, n []float64) BlockChoice {
	nIv := len(n)
	if nIv == 0 {
		return BlockChoice{Len: 1, Needed: 1, NeedIntervals: MinBlocks}
	}
	var sa, sn float64
	for i := range n {
		sa += a[i]
		sn += n[i]
	}
	f := 0.0
	if sn > 0 {
		f = sa / sn
	}
	series := make([]float64, nIv)
	for i := range n {
		series[i] = f // an empty interval carries no information about the share
		if n[i] > 0 {
			series[i] = a[i] / n[i]
		}
	}
	c := BlockChoice{Needed: max(politisWhite(series), 1)}
	if nIv >= MinBlocks*c.Needed {
		v1, _ := ratioVar(a, n, c.Needed)
		v2, _ := ratioVar(a, n, 2*c.Needed)
		if v2 > StabilityGrowth*v1 {
			c.Needed *= 2
			c.Doubled = true
		}
	}
	if nIv < MinBlocks*c.Needed {
		c.Len, c.NeedIntervals = c.Needed, MinBlocks*c.Needed
	} else {
		floor := min(int(math.Ceil(math.Pow(float64(nIv), 2.0/3))), nIv/MinBlocks)
		c.Len = max(c.Needed, floor)
	}
	c.Blocks = (nIv + c.Len - 1) / c.Len
	return c
}

// ratioVar returns the variance of the share Σa/Σn estimated from blocks of l intervals (a
// ratio estimator over independent blocks, with the B/(B−1) correction), and the number of
// blocks. It is 0 with fewer than two blocks.
func ratioVar(a, n []float64, l int) (v float64, blocks int) {
	l = max(l, 1)
	var sa, sn float64
	for i := range n {
		sa += a[i]
		sn += n[i]
	}
	nb := (len(n) + l - 1) / l
	if sn == 0 || nb < 2 {
		return 0, nb
	}
	f := sa / sn
	var ss float64
	for start := 0; start < len(n); start += l {
		var ba, bn float64
		for i := start; i < min(start+l, len(n)); i++ {
			ba += a[i]
			bn += n[i]
		}
		d := ba - f*bn
		ss += d * d
	}
	return ss * float64(nb) / float64(nb-1) / (sn * sn), nb
}

// countsPerInterval returns, per interval, the samples in buckets whose top is at most x (below)
// and whose bottom is above x (strictly above), and all its samples.
func (s *Sample) countsPerInterval(x float64) (below, above, total []float64) {
	n := s.Intervals()
	below, above, total = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		total[i] = float64(s.count[i])
		s.forEach(i, func(idx int32, c int64) {
			switch {
			case float64(s.geom.top(idx)) <= x:
				below[i] += float64(c)
			case float64(s.geom.lowest(idx)) > x:
				above[i] += float64(c)
			}
		})
	}
	return below, above, total
}

// BlocksFor chooses the block length (ChooseBlocks) for statistic st of s from the series the
// statistic is made of: for a quantile, the per-interval shares of samples at or below at (its
// point estimate, or the limit a claim is tested at); for the mean, the per-interval means.
// Options.BlockLen = BlocksFor(…).Len makes Interval and Compare use it; a run it calls too short
// should not get an interval at all.
func BlocksFor(s *Sample, st Stat, at float64) BlockChoice {
	key := choiceKey{mean: st.Kind == Mean, at: at}
	if key.mean {
		key.at = 0
	}
	s.mu.Lock()
	c, ok := s.choices[key]
	s.mu.Unlock()
	if ok {
		return c
	}
	c = blocksFor(s, st, at)
	s.mu.Lock()
	if s.choices == nil {
		s.choices = map[choiceKey]BlockChoice{}
	}
	s.choices[key] = c
	s.mu.Unlock()
	return c
}

// choiceKey caches BlocksFor: the choice depends on the statistic's series only, which for a
// quantile is the share at or below at.
type choiceKey struct {
	mean bool
	at   float64
}

func blocksFor(s *Sample, st Stat, at float64) BlockChoice {
	if st.Kind == Mean {
		n := make([]float64, len(s.count))
		for i, c := range s.count {
			n[i] = float64(c)
		}
		return ChooseBlocks(s.sum, n)
	}
	below, _, total := s.countsPerInterval(at)
	return ChooseBlocks(below, total)
}
