package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// StatKind is the statistic a rule is about.
type StatKind int

// The statistics a Sample can be bootstrapped on.
const (
	Quantile StatKind = iota // Stat.Q in (0, 1]
	Mean
)

// Stat names one statistic of a run.
type Stat struct {
	Kind StatKind
	Q    float64 // 0..1 for Quantile: 0.99 is p99
}

// P returns the quantile statistic for a percentile given as in "p99.9": P(99.9).
func P(percentile float64) Stat { return Stat{Kind: Quantile, Q: percentile / 100} }

// String names the statistic as the threshold grammar does: "p99.9", "mean".
func (st Stat) String() string {
	if st.Kind == Mean {
		return "mean"
	}
	return "p" + strconv.FormatFloat(st.Q*100, 'f', -1, 64)
}

func (st Stat) validate() error {
	switch st.Kind {
	case Mean:
		return nil
	case Quantile:
		if !(st.Q > 0 && st.Q <= 1) {
			return fmt.Errorf("quantile %v is outside (0, 1]", st.Q)
		}
		return nil
	}
	return fmt.Errorf("unknown statistic kind %d", st.Kind)
}

// Options tune the bootstrap. The zero value of a field means its default.
type Options struct {
	// Resamples is the number of bootstrap resamples per run.
	Resamples int
	// Seed makes the resampling reproducible: the same input and seed give the same interval.
	Seed uint64
	// BlockLen is the number of consecutive intervals per block; 0 chooses it from the data.
	BlockLen int
}

// Defaults for Options.
const (
	DefaultResamples = 2000
	DefaultSeed      = 1
)

// DefaultOptions are the options tailgate gates with.
var DefaultOptions = Options{Resamples: DefaultResamples, Seed: DefaultSeed}

// MinBlocks is the fewest bootstrap blocks an interval is computed from. With fewer the
// resamples take too few distinct values for a percentile interval to mean much; Estimate.Blocks
// lets the gate call such a claim inconclusive.
const MinBlocks = 8

func (o Options) withDefaults() Options {
	if o.Resamples <= 0 {
		o.Resamples = DefaultResamples
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	return o
}

// Estimate is a point estimate with a two-sided, equal-tailed bootstrap interval at Conf.
// Values are nanoseconds for latency statistics and fractions for miss rates.
type Estimate struct {
	Point, Lo, Hi, Conf float64
	N                   int64 // samples
	Intervals           int   // interval histograms
	BlockLen            int   // intervals per bootstrap block
	Blocks              int   // bootstrap blocks; below MinBlocks the interval is unreliable
}

// Point returns the statistic of the whole sample: for a quantile the value HdrHistogram's
// ValueAtQuantile(100·Q) gives on the merged histogram (the top of a bucket), for the mean
// HdrHistogram's Mean. It is NaN for an empty sample or an invalid statistic.
func Point(s *Sample, st Stat) float64 {
	if s.total == 0 || st.validate() != nil {
		return math.NaN()
	}
	switch st.Kind {
	case Mean:
		var sum float64
		for _, v := range s.sum {
			sum += v
		}
		return sum / float64(s.total)
	default:
		rank := percentileRank(st.Q, s.total)
		var cum int64
		for idx, c := range s.mergedCounts() {
			cum += c
			if cum >= rank {
				return float64(s.geom.top(int32(idx)))
			}
		}
		return float64(s.max)
	}
}

// percentileRank is HdrHistogram's rank of quantile q among n samples: round(q·n) in [1, n].
func percentileRank(q float64, n int64) int64 {
	rank := q*float64(n) + 0.5
	if !(rank >= 1) {
		return 1
	}
	if rank >= float64(n) {
		return n
	}
	return int64(rank)
}

// Interval returns the point estimate of st with its block-bootstrap percentile interval at
// confidence conf (e.g. 0.99). Point, Lo and Hi are NaN when s is empty.
func Interval(s *Sample, st Stat, conf float64, o Options) Estimate {
	o = o.withDefaults()
	e := Estimate{Point: Point(s, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: s.total, Intervals: s.Intervals()}
	if s.total == 0 || st.validate() != nil {
		return e
	}
	reps, bs := replicates(s, st, o, 1)
	e.BlockLen, e.Blocks = bs.blockLen, len(bs.blocks)
	slices.Sort(reps)
	e.Lo, e.Hi = percentile(reps, (1-conf)/2), percentile(reps, (1+conf)/2)
	return e
}

// Ratio is the relative change candidate/baseline of a statistic: Point is the ratio of the
// point estimates, [Lo, Hi] its two-sided bootstrap interval at Conf. PSlower is the one-sided
// p-value of "the candidate is not slower" (ratio ≤ 1), PFaster that of "not faster" (ratio ≥ 1):
// a small PSlower is evidence of a regression, a small PFaster of an improvement. Resamples
// whose ratio is exactly 1 (quantiles are bucketed) count against both, which keeps the test
// conservative.
type Ratio struct {
	Point, Lo, Hi, Conf float64
	PSlower, PFaster    float64
	Base, Cand          Estimate
}

// Compare bootstraps base and cand independently and returns the ratio cand/base of st with
// its interval at conf and one-sided p-values. A regression beyond a relative limit L is
// material when Point > 1+L and significant when Lo > 1 (equivalently, at one-sided level
// (1−conf)/2, PSlower below it). Fields are NaN when either sample is empty.
func Compare(base, cand *Sample, st Stat, conf float64, o Options) Ratio {
	o = o.withDefaults()
	r := Ratio{Conf: conf, Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), PSlower: math.NaN(), PFaster: math.NaN()}
	if base.total > 0 && cand.total > 0 {
		// Building the blocks first gives Point the merged counts without a second pass.
		done := make(chan struct{})
		go func() { base.blockSet(o.BlockLen); close(done) }()
		cand.blockSet(o.BlockLen)
		<-done
	}
	r.Base = Estimate{Point: Point(base, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: base.total, Intervals: base.Intervals()}
	r.Cand = Estimate{Point: Point(cand, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: cand.total, Intervals: cand.Intervals()}
	if base.total == 0 || cand.total == 0 || st.validate() != nil {
		return r
	}
	r.Point = r.Cand.Point / r.Base.Point
	rb, bsb := replicates(base, st, o, 1)
	rc, bsc := replicates(cand, st, o, 2)
	r.Base.BlockLen, r.Base.Blocks = bsb.blockLen, len(bsb.blocks)
	r.Cand.BlockLen, r.Cand.Blocks = bsc.blockLen, len(bsc.blocks)
	ratios := make([]float64, len(rb))
	var le, ge int
	for i := range rb {
		ratios[i] = rc[i] / rb[i]
		if ratios[i] <= 1 {
			le++
		}
		if ratios[i] >= 1 {
			ge++
		}
	}
	n := float64(len(ratios))
	r.PSlower = (float64(le) + 1) / (n + 1)
	r.PFaster = (float64(ge) + 1) / (n + 1)
	slices.Sort(rb)
	slices.Sort(rc)
	r.Base.Lo, r.Base.Hi = percentile(rb, (1-conf)/2), percentile(rb, (1+conf)/2)
	r.Cand.Lo, r.Cand.Hi = percentile(rc, (1-conf)/2), percentile(rc, (1+conf)/2)
	slices.Sort(ratios)
	r.Lo, r.Hi = percentile(ratios, (1-conf)/2), percentile(ratios, (1+conf)/2)
	return r
}

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

func sortFloats(xs []float64) { slices.Sort(xs) }

// percentile returns the p-quantile (0..1) of sorted xs by linear interpolation between order
// statistics (type 7), the usual choice for bootstrap percentile intervals.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := p * float64(len(sorted)-1)
	if h <= 0 {
		return sorted[0]
	}
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// replicates returns o.Resamples bootstrap values of st on s. stream separates the random
// streams of the runs of a comparison so that they are resampled independently.
func replicates(s *Sample, st Stat, o Options, stream uint64) ([]float64, *blockSet) {
	bs := s.blockSet(o.BlockLen)
	rng := newRand(o.Seed, stream)
	out := make([]float64, o.Resamples)
	w := make([]int32, len(bs.blocks))
	var eval func(w []int32) float64
	switch st.Kind {
	case Mean:
		eval = bs.meanOf
	default:
		win := bs.window(s, st.Q)
		eval = func(w []int32) float64 { return win.quantile(s, bs, w) }
	}
	for i := range out {
		bs.draw(rng, w)
		out[i] = eval(w)
	}
	return out, bs
}
