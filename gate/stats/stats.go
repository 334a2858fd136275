package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
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
	// SessionLen, for ComparePaired, makes each unit one session of SessionLen consecutive
	// rounds run by fresh processes: the session pair is then the unit of analysis, whatever
	// the autocorrelation or the tail would ask for, and MinSessions units suffice.
	SessionLen int
	// Method is how quantile intervals are computed; the zero value is Woodruff.
	Method Method
	// BetweenRunSD is σ, the standard deviation of one run's log statistic from run to run that
	// no within-run interval sees (per-process offsets, thermal state, drift slower than a run),
	// for Compare of two separate runs; 0 leaves it out. BetweenRunSD estimates it from history.
	BetweenRunSD float64
}

// Method selects how a quantile's interval is computed. Both use the same blocks.
type Method int

const (
	// Woodruff inverts the block-variance interval of the share of samples below the
	// quantile: stable, deterministic, and what tailgate gates with.
	Woodruff Method = iota
	// Bootstrap takes the standard error of the block-bootstrap replicates of the quantile;
	// kept to show, in calibration, why it is not the default.
	Bootstrap
)

// Defaults for Options.
const (
	DefaultResamples = 2000
	DefaultSeed      = 1
)

// DefaultOptions are the options tailgate gates with.
var DefaultOptions = Options{Resamples: DefaultResamples, Seed: DefaultSeed}

// MinBlocks is the fewest blocks an interval should rest on. With fewer, the spread of the
// blocks says little about the run (t on so few degrees of freedom is very wide, and a
// bootstrap takes few distinct values); Estimate.Blocks lets the gate call such a claim
// inconclusive.
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
	// Choice is how the block length was chosen for this statistic (Compare with
	// Options.BlockLen 0); Choice.TooShort() says the run cannot hold MinBlocks blocks of the
	// length its autocorrelation needs.
	Choice BlockChoice
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

// quantile returns the merged histogram's q-quantile as Point does, with q clamped to [0, 1].
func (s *Sample) quantile(q float64) float64 {
	q = min(max(q, 0), 1)
	if q == 0 {
		return float64(s.Min())
	}
	return Point(s, Stat{Kind: Quantile, Q: q})
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

// Interval returns the point estimate of st with its two-sided interval at confidence conf
// (e.g. 0.99): Woodruff's over blocks for a quantile, the block bootstrap's for a mean (see the
// package comment). Point, Lo and Hi are NaN when s is empty.
func Interval(s *Sample, st Stat, conf float64, o Options) Estimate {
	o = o.withDefaults()
	e := Estimate{Point: Point(s, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: s.total, Intervals: s.Intervals()}
	if s.total == 0 || st.validate() != nil {
		return e
	}
	sp := spread(s, st, e.Point, conf, o, 1)
	e.BlockLen, e.Blocks, e.Lo, e.Hi = sp.bs.blockLen, len(sp.bs.blocks), sp.lo, sp.hi
	return e
}

// spreadOf is the uncertainty of a statistic of one run: its interval at the requested
// confidence and the standard error of its logarithm, which a ratio combines.
type spreadOf struct {
	lo, hi, seLog float64
	bs            *blockSet
}

// spread computes the interval of st around point. Means use the standard error of the block
// bootstrap replicates. Quantiles use, by default, Woodruff's interval with a block variance:
// the share of samples at or below the point estimate is a mean over blocks, so its standard
// error se_F is that of a block mean; the interval is the merged histogram's quantiles at
// q ∓ t·se_F. The bootstrap distribution of a quantile itself rests on the few order
// statistics next to it, so its spread is a noisy thing to divide by; Woodruff's rests on the
// 2·t·se_F·n order statistics between its bounds.
func spread(s *Sample, st Stat, point, conf float64, o Options, stream uint64) spreadOf {
	bs := s.blockSet(o.BlockLen)
	nu := float64(len(bs.blocks) - 1)
	t := studentQ(nu, (1+conf)/2)
	if st.Kind == Quantile && o.Method == Woodruff {
		seF := bs.cdfSE(s, point)
		lo := s.quantile(st.Q - t*seF)
		hi := s.quantile(st.Q + t*seF)
		se := 0.0
		if t > 0 && lo > 0 {
			se = math.Log(hi/lo) / (2 * t)
		}
		return spreadOf{lo: lo, hi: hi, seLog: se, bs: bs}
	}
	reps, _ := replicates(s, st, o, stream)
	se := logSD(reps)
	lo, hi := intervalT(point, se, nu, conf)
	return spreadOf{lo: lo, hi: hi, seLog: se, bs: bs}
}

// Ratio is the relative change candidate/baseline of a statistic: Point is the ratio of the
// point estimates and [Lo, Hi] its two-sided interval at Conf, a MOVER interval on the log scale
// (see Compare). PSlower is the one-sided p-value of "the candidate is not slower" (ratio ≤ 1),
// PFaster that of "not faster" (ratio ≥ 1): a small PSlower is evidence of a regression, a small
// PFaster of an improvement. Both invert the interval, so Lo > 1 exactly when
// PSlower < (1−Conf)/2, and Hi < 1 exactly when PFaster < (1−Conf)/2. Base and Cand are the
// runs' own estimates, with the limits the ratio's interval is built from. BetweenRunSD is the
// per-run between-run log SD the interval includes (Options.BetweenRunSD).
type Ratio struct {
	Point, Lo, Hi, Conf float64
	PSlower, PFaster    float64
	Base, Cand          Estimate
	BetweenRunSD        float64
}

// Compare treats base and cand as independent runs and returns the ratio cand/base of st with
// its interval at conf and one-sided p-values. A regression beyond a relative limit L is
// material when Point > 1+L and significant when Lo > 1 (equivalently, at one-sided level
// (1−conf)/2, PSlower below it). Fields are NaN when either sample is empty.
//
// The interval is Zou and Donner's (2008) MOVER for θ = ln(Qc/Qb) from each run's one-sided
// limits at the same confidence, (lb, ub) and (lc, uc):
//
//	lower = θ̂ − √((ln Qc − ln lc)² + (ln ub − ln Qb)² + (z·√2·σ)²)
//	upper = θ̂ + √((ln uc − ln Qc)² + (ln Qb − ln lb)² + (z·√2·σ)²)
//
// For quantiles the limits are Woodruff's, which follow the skew of the log-quantile curve in
// the tail, where a symmetric log-scale standard error from ln(u/l)/(2t) is too wide; each
// distance is at least one histogram bucket. Each run's blocks are chosen for the statistic
// (BlocksFor, RatioBlockLen; o.BlockLen overrides) and its t has its own blocks−1 degrees of
// freedom; a run too short for its autocorrelation has Estimate.Choice.TooShort() and fewer
// than MinBlocks blocks, and the interval must not be used. σ is o.BetweenRunSD, the run-to-run log SD of one run's statistic that no within-run
// interval sees; both runs carry it, hence √2, with the normal quantile z of the same level.
func Compare(base, cand *Sample, st Stat, conf float64, o Options) Ratio {
	o = o.withDefaults()
	r := Ratio{Conf: conf, Point: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), PSlower: math.NaN(), PFaster: math.NaN(), BetweenRunSD: o.BetweenRunSD}
	if base.total > 0 && cand.total > 0 {
		// Building the blocks first gives Point the merged counts without a second pass.
		done := make(chan struct{})
		go func() { base.mergedCounts(); close(done) }()
		cand.mergedCounts()
		<-done
	}
	r.Base = Estimate{Point: Point(base, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: base.total, Intervals: base.Intervals()}
	r.Cand = Estimate{Point: Point(cand, st), Lo: math.NaN(), Hi: math.NaN(), Conf: conf, N: cand.total, Intervals: cand.Intervals()}
	if base.total == 0 || cand.total == 0 || st.validate() != nil || !(r.Base.Point > 0) || !(r.Cand.Point > 0) {
		return r
	}
	r.Point = r.Cand.Point / r.Base.Point
	ob, bsb := newOneSided(base, st, r.Base.Point, o, sideBlocks(base, st, r.Base.Point, o, &r.Base), 1)
	oc, bsc := newOneSided(cand, st, r.Cand.Point, o, sideBlocks(cand, st, r.Cand.Point, o, &r.Cand), 2)
	alpha0 := (1 - conf) / 2
	fill := func(e *Estimate, one *oneSided, bs *blockSet) {
		down, up := one.at(alpha0)
		e.BlockLen, e.Blocks = bs.blockLen, len(bs.blocks)
		e.Lo, e.Hi = e.Point*math.Exp(-down), e.Point*math.Exp(up)
	}
	fill(&r.Base, ob, bsb)
	fill(&r.Cand, oc, bsc)
	m := &mover{theta: math.Log(r.Point), base: ob, cand: oc, between: math.Sqrt2 * max(o.BetweenRunSD, 0)}
	r.Lo, r.Hi = math.Exp(m.lower(alpha0)), math.Exp(m.upper(alpha0))
	r.PSlower, r.PFaster = oneSidedPair(m.lower, m.upper, alpha0)
	return r
}

// sideBlocks returns the block length one run of a comparison rests on: o.BlockLen when set,
// else RatioBlockLen of the choice for the statistic's own per-interval series (BlocksFor),
// recorded in e.Choice.
func sideBlocks(s *Sample, st Stat, point float64, o Options, e *Estimate) int {
	if o.BlockLen > 0 {
		return o.BlockLen
	}
	e.Choice = BlocksFor(s, st, point)
	return RatioBlockLen(e.Choice, s.Intervals())
}

// RatioBlocks is the number of blocks a run of a comparison keeps, when it can, before its
// block length is raised towards ⌈n^(2/3)⌉: Student's t on 29 degrees of freedom is within 8 %
// of the normal quantile at 0.995, where 7 (MinBlocks − 1) is 36 % above it.
const RatioBlocks = 30

// RatioBlockLen is the block length a relative comparison uses on a run of n intervals with
// block choice c: the length the statistic's autocorrelation needs (c.Needed), raised towards
// ⌈n^(2/3)⌉ only as far as the run still holds RatioBlocks blocks. Unlike an absolute bound,
// whose blocks are raised to ⌈n^(2/3)⌉ up to n/MinBlocks, a short run keeps its degrees of
// freedom: a 120-interval PR run whose statistic decorrelates within 4 intervals gets 30 blocks
// (t = 2.76 at 0.995) instead of 8 (t = 3.50). Drift slower than the run, which no block length
// of it can see, is the between-run SD's (Options.BetweenRunSD). When the run is too short
// (c.TooShort) the blocks are capped at n/MinBlocks: what is slower than that is drift the run
// cannot resolve, the between-run SD's too; the caller says so beside the verdict.
func RatioBlockLen(c BlockChoice, n int) int {
	if c.TooShort() {
		return max(n/MinBlocks, 1)
	}
	floor := min(int(math.Ceil(math.Pow(float64(n), 2.0/3))), n/RatioBlocks)
	return max(c.Needed, floor, 1)
}

// logSD returns the standard deviation of the logarithms of xs: the bootstrap standard error
// of a log statistic.
func logSD(xs []float64) float64 {
	var m, m2 float64
	var n float64
	for _, x := range xs {
		if !(x > 0) {
			continue
		}
		l := math.Log(x)
		n++
		d := l - m
		m += d / n
		m2 += d * (l - m)
	}
	if n < 2 {
		return 0
	}
	return math.Sqrt(m2 / (n - 1))
}

// studentQ returns the p-quantile of Student's t with nu degrees of freedom (nu ≥ 1).
func studentQ(nu, p float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: max(nu, 1)}.Quantile(p)
}

// intervalT returns point·exp(∓t·se): the two-sided interval at conf on the log scale.
func intervalT(point, se, nu, conf float64) (lo, hi float64) {
	t := studentQ(nu, (1+conf)/2)
	return point * math.Exp(-t*se), point * math.Exp(t*se)
}

// newRand returns the random stream number stream of seed. The two PCG words are scrambled
// (SplitMix64's finaliser) so that nearby seeds and streams, which callers use freely, do not
// start PCG at states that differ by a few units.
func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(seed), splitmix(seed^splitmix(stream+0x9e3779b97f4a7c15))))
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

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
