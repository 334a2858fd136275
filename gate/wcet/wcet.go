// Package wcet owns tailgate's probabilistic worst-case execution time (pWCET): extreme-value
// fits of a run's latency tail, the tests that must pass before a bound is believed
// (independence, stationarity, goodness of fit), the conversion from per-block to
// per-inference exceedance probabilities, and the exceedance plot. It does not read
// configuration, decide verdicts (gate does, through GateFunc) or render the gate's reports.
//
// Each interval histogram of a result is a block; its maximum is a block maximum. With the
// GEV method the block maxima are fitted by maximum likelihood; with the GPD method the
// exceedances of the merged histogram over a high threshold are. The model for blocks of
// unequal size (intervals hold as many inferences as fitted in them) uses max-stability: if a
// reference block of n̄ inferences has maximum distribution G, a block of n inferences has
// G^(n/n̄), and one inference has F with G = F^(n̄θ), θ the extremal index: exceedances of a
// high level come in clusters of 1/θ inferences on average (θ = 1: no clustering). So the
// per-inference exceedance probability p maps to the block-level probability
// 1 − (1 − p)^(n̄θ) ≈ n̄θ·p, computed without forming 1 − p. θ is estimated from the blocks
// (Clustering) and both probabilities are reported.
//
// A gated bound (Upper) is never below the same bound of the model with ξ held at 0 (Floor), so
// a negative shape from a few dozen maxima cannot fix a finite end point under it; claims at
// DeepProb (1e-9) or below need DeepMinBlocks (100) block maxima.
//
// Before a bound is reported three tests must pass, each at level Alpha (no Bonferroni split:
// splitting would make accepting a bad fit easier): Ljung–Box on the series of block maxima
// (independence), Mann–Kendall on the same series (stationarity: no monotonic trend) and
// Anderson–Darling on the fitted distribution's probability-integral transforms (fit), whose
// p-value comes from a seeded parametric bootstrap because the parameters were estimated from
// the same data. The same bootstrap refits give the upper confidence bound of each pWCET
// (percentile method); refits that fail are counted and reported, and too many of them
// (MaxRefitFailure) mean no bound.
// docs/wcet.md explains the choices and their limits.
package wcet

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/gate"
	"gonum.org/v1/gonum/stat"
)

// Method is how the tail is modelled.
type Method string

// Methods.
const (
	// GEV fits a generalised extreme value distribution to the block maxima.
	GEV Method = "gev"
	// Gumbel is the GEV with its shape held at 0: exponential-type tails, fewer parameters.
	Gumbel Method = "gumbel"
	// GPD fits a generalised Pareto distribution to the merged histogram's exceedances over a
	// high threshold (peaks over threshold).
	GPD Method = "gpd"
)

// Defaults of Options and of the wcet command's flags.
var (
	DefaultMethod = GEV
	// DefaultProbs are the per-inference exceedance probabilities reported.
	DefaultProbs = []float64{1e-6, 1e-9, 1e-12}
	// DefaultDeepProb: see DefaultDeepMinBlocks.
	DefaultDeepProb = 1e-9
)

// Defaults of Options and of the wcet command's flags.
const (
	// DefaultAlpha is the level of each of the three validity tests. They are not
	// Bonferroni-split: a split would let a bad fit through more easily. A process that
	// satisfies the model is refused a bound at most about 3·Alpha of the time.
	DefaultAlpha = 0.05
	// DefaultConfidence is the confidence of the upper bound reported beside each estimate.
	DefaultConfidence = 0.95
	// DefaultBootstrap is the number of parametric-bootstrap refits. 199 resolves p-values to
	// 0.005, fine enough for the per-test level 0.05.
	DefaultBootstrap = 199
	// DefaultMaxRefitFailure is the largest share of bootstrap refits that may fail to converge
	// before no bound is given: the refits that did converge would be a biased sample of the
	// estimator's distribution (failures happen in the awkward corners of the likelihood).
	DefaultMaxRefitFailure = 0.1
	// DefaultDeepProb and DefaultDeepMinBlocks: a claim at a per-inference exceedance
	// probability of DeepProb or below needs at least DeepMinBlocks block maxima. Thirty to fifty
	// maxima fit the body of the maximum's distribution; a claim that far out rests on its shape
	// parameter, whose standard error from 50 maxima (about 0.1) moves pWCET(1e-9) by tens of
	// per cent.
	DefaultDeepMinBlocks = 100
	// DefaultSeed seeds the bootstrap so the same result gives the same report.
	DefaultSeed = 1
	// DefaultMinBlocks is the fewest block maxima a bound is estimated from.
	DefaultMinBlocks = 30
	// DefaultMinBlockFill leaves out blocks with fewer samples than this share of the median
	// block (a cut-short last interval): the maximum of a tiny block is not in the tail the
	// extreme-value model describes. It is low on purpose: in a closed loop an interval with a
	// stall holds fewer samples, and dropping it would drop the worst case.
	DefaultMinBlockFill = 0.1
	// DefaultTailSize is the number of exceedances the GPD threshold is set to keep (at most a
	// tenth of the samples).
	DefaultTailSize = 500
)

// Options tune an analysis. The zero value of each field means its Default.
type Options struct {
	Method     Method
	Alpha      float64
	Confidence float64
	Bootstrap  int
	Seed       uint64
	MinBlocks  int
	// MinBlockFill: blocks with fewer samples than this share of the median are left out.
	MinBlockFill float64
	// TailSize is the number of exceedances over the GPD threshold (GPD only).
	TailSize int
	// MaxRefitFailure is the largest share of failed bootstrap refits that still gives a bound.
	MaxRefitFailure float64
	// DeepProb and DeepMinBlocks: bounds at per-inference probabilities at or below DeepProb
	// need at least DeepMinBlocks block maxima (fewer: no bound at those probabilities, with the
	// number needed).
	DeepProb      float64
	DeepMinBlocks int
	// Workers is how many bootstrap refits run at once (0: GOMAXPROCS). The result does not
	// depend on it: the simulated samples are drawn in refit order from the one seeded generator.
	Workers int
}

func (o Options) withDefaults() Options {
	o.Method = cmp.Or(o.Method, DefaultMethod)
	o.Alpha = cmp.Or(o.Alpha, DefaultAlpha)
	o.Confidence = cmp.Or(o.Confidence, DefaultConfidence)
	o.Bootstrap = cmp.Or(o.Bootstrap, DefaultBootstrap)
	o.Seed = cmp.Or(o.Seed, DefaultSeed)
	o.MinBlocks = cmp.Or(o.MinBlocks, DefaultMinBlocks)
	o.MinBlockFill = cmp.Or(o.MinBlockFill, DefaultMinBlockFill)
	o.TailSize = cmp.Or(o.TailSize, DefaultTailSize)
	o.MaxRefitFailure = cmp.Or(o.MaxRefitFailure, DefaultMaxRefitFailure)
	o.DeepProb = cmp.Or(o.DeepProb, DefaultDeepProb)
	o.DeepMinBlocks = cmp.Or(o.DeepMinBlocks, DefaultDeepMinBlocks)
	return o
}

// Validate reports every invalid option at once.
func (o Options) Validate() error {
	var errs []error
	switch o.Method {
	case GEV, Gumbel, GPD:
	default:
		errs = append(errs, fmt.Errorf("method %q: want gev, gumbel or gpd", o.Method))
	}
	if !(o.Alpha > 0 && o.Alpha <= 0.5) {
		errs = append(errs, fmt.Errorf("alpha %g: want 0 < alpha <= 0.5", o.Alpha))
	}
	if !(o.Confidence >= 0.5 && o.Confidence < 1) {
		errs = append(errs, fmt.Errorf("confidence %g: want 0.5 <= confidence < 1", o.Confidence))
	}
	if o.Bootstrap < 19 {
		errs = append(errs, fmt.Errorf("bootstrap %d: want at least 19 refits", o.Bootstrap))
	}
	if o.MinBlocks < 10 {
		errs = append(errs, fmt.Errorf("min blocks %d: want at least 10", o.MinBlocks))
	}
	if !(o.MinBlockFill > 0 && o.MinBlockFill <= 1) {
		errs = append(errs, fmt.Errorf("min block fill %g: want 0 < fill <= 1", o.MinBlockFill))
	}
	if o.TailSize < 30 {
		errs = append(errs, fmt.Errorf("tail size %d: want at least 30 exceedances", o.TailSize))
	}
	// The fields added after the command's flags were written may be left zero (their default).
	if f := cmp.Or(o.MaxRefitFailure, DefaultMaxRefitFailure); !(f > 0 && f <= 0.5) {
		errs = append(errs, fmt.Errorf("max refit failure %g: want 0 < share <= 0.5", o.MaxRefitFailure))
	}
	if p := cmp.Or(o.DeepProb, DefaultDeepProb); !(p > 0 && p < 1) {
		errs = append(errs, fmt.Errorf("deep probability %g: want 0 < p < 1", o.DeepProb))
	}
	if o.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers %d: want 0 (GOMAXPROCS) or more", o.Workers))
	}
	if n := cmp.Or(o.DeepMinBlocks, DefaultDeepMinBlocks); n < 10 {
		errs = append(errs, fmt.Errorf("deep min blocks %d: want at least 10", o.DeepMinBlocks))
	}
	return errors.Join(errs...)
}

// Fit is the fitted tail model. For GEV and Gumbel, Mu, Sigma and Xi describe the maximum of
// a reference block of RefBlockSamples inferences. For GPD, exceedances over ThresholdNs follow
// GPD(Sigma, Xi) and a share TailShare of all inferences exceed the threshold.
type Fit struct {
	Mu          float64 `json:"mu_ns,omitempty"`
	Sigma       float64 `json:"sigma_ns"`
	Xi          float64 `json:"xi"`
	LogLik      float64 `json:"log_likelihood"`
	ThresholdNs float64 `json:"threshold_ns,omitempty"`
	TailSamples int64   `json:"tail_samples,omitempty"`
	TailShare   float64 `json:"tail_share,omitempty"`
}

// Analysis is a pWCET analysis of one run. When Valid is false Reason says why (too few
// blocks, a failed test with its statistic and p-value, a fit that did not converge) and no
// bound is given.
type Analysis struct {
	Method Method `json:"method"`
	// Blocks is the number of block maxima used; Dropped the (short or empty) blocks left out.
	Blocks  int   `json:"blocks"`
	Dropped int   `json:"dropped_blocks"`
	Samples int64 `json:"samples"`
	// RefBlockSamples is n̄, the median block size, which converts per-inference to per-block
	// probabilities.
	RefBlockSamples float64 `json:"ref_block_samples"`
	MaxObservedNs   int64   `json:"max_observed_ns"`
	// Clustering is the extremal index the per-inference conversion uses.
	Clustering Clustering `json:"clustering"`
	Fit        *Fit       `json:"fit,omitempty"`
	// Floor is the same data fitted with the shape held at ξ = 0 (Gumbel for the GEV method,
	// exponential exceedances for the GPD method). Its bootstrapped upper bounds floor the
	// gated bounds (Upper): a negative shape estimated from a few dozen maxima ends the tail at
	// a finite point, and a bound is not allowed to rest on that end point. Nil for Gumbel.
	Floor      *Fit    `json:"floor_fit,omitempty"`
	Tests      []Test  `json:"tests"`
	Valid      bool    `json:"valid"`
	Reason     string  `json:"reason,omitempty"`
	Confidence float64 `json:"confidence"`
	Bootstrap  int     `json:"bootstrap"`
	// Refits counts the bootstrap refits tried and failed, per fitted model. A failed refit is
	// left out of the fit test's p-value and of the upper bounds; more than MaxRefitFailure of
	// them mean no bound.
	Refits []Refits `json:"refits,omitempty"`
	Seed   uint64   `json:"seed"`
	// DeepProb and DeepMinBlocks: bounds at DeepProb or below need DeepMinBlocks block maxima.
	DeepProb      float64 `json:"deep_p"`
	DeepMinBlocks int     `json:"deep_min_blocks"`

	blocks []block
	gev    gev
	gpd    gpd
	merged *hdrhistogram.Histogram
	// boot holds the bootstrap refits, for the upper confidence bounds.
	bootGEV []gev
	bootGPD []gpd
	// floorGEV and floorGPD are the ξ = 0 fit and its refits (see Floor).
	floorGEV     *gev
	floorGPD     *gpd
	bootFloorGEV []gev
	bootFloorGPD []gpd
}

// Refits is the parametric bootstrap of one fitted model: how many refits were tried and how
// many failed to converge.
type Refits struct {
	Model  Method `json:"model"`
	Tried  int    `json:"tried"`
	Failed int    `json:"failed"`
}

// String renders "gev: 199 refits, 2 failed (1.0 %)".
func (r Refits) String() string {
	return fmt.Sprintf("%s: %d refits, %d failed (%.1f %%)", r.Model, r.Tried, r.Failed, 100*r.failShare())
}

func (r Refits) failShare() float64 {
	if r.Tried == 0 {
		return 0
	}
	return float64(r.Failed) / float64(r.Tried)
}

// Clustering is the extremal index θ the conversion between per-block and per-inference
// probabilities uses: a block of n̄ inferences has the maximum of n̄θ independent ones. It is
// estimated by the blocks estimator at the median block maximum u: with p_u the share of all
// inferences at or above u (from the merged histogram) and K of k blocks reaching u, θ solves
// Σ_i (1 − p_u)^(θ·n_i) = k − K (for equal blocks, θ = log(1 − K/k) / (n̄·log(1 − p_u))). It is
// capped at 1 (sampling noise above 1 is no evidence of anything) and floored at 1/n̄. When it
// cannot be estimated (no merged histogram, every maximum in one bucket) θ = 1 is assumed and
// Note says so. Its own sampling error is not in the bootstrap.
type Clustering struct {
	Estimated bool    `json:"estimated"`
	Theta     float64 `json:"theta"`
	// ThresholdNs is u; BlocksOver of the blocks reach it, Exceedances inferences do.
	ThresholdNs float64 `json:"threshold_ns,omitempty"`
	BlocksOver  int     `json:"blocks_over,omitempty"`
	Exceedances int64   `json:"exceedances,omitempty"`
	Note        string  `json:"note,omitempty"`
}

// extremalIndex estimates Clustering from the blocks and every inference merged (nil: θ = 1).
func extremalIndex(blocks []block, merged *hdrhistogram.Histogram, ref float64) Clustering {
	assumed := func(why string) Clustering {
		return Clustering{Theta: 1, Note: "not estimated (" + why + "): no clustering assumed (θ = 1)"}
	}
	if merged == nil || len(blocks) == 0 || ref <= 0 {
		return assumed("no merged histogram")
	}
	los := make([]float64, len(blocks))
	for i, b := range blocks {
		los[i] = b.lo
	}
	sort.Float64s(los)
	u := los[len(los)/2]
	k, over := len(blocks), 0
	for _, b := range blocks {
		if b.lo >= u {
			over++
		}
	}
	var n int64
	for _, bar := range merged.Distribution() {
		if float64(bar.From) >= u {
			n += bar.Count
		}
	}
	c := Clustering{Estimated: true, Theta: 1, ThresholdNs: u, BlocksOver: over, Exceedances: n}
	total := merged.TotalCount()
	if over == k || n == 0 || total == 0 {
		return assumed("every block maximum in one bucket")
	}
	lq := math.Log1p(-float64(n) / float64(total)) // log(1 − p_u)
	// f(θ) = Σ (1 − p_u)^(θ n_i) − (k − K) falls as θ grows.
	f := func(th float64) float64 {
		var s float64
		for _, b := range blocks {
			s += math.Exp(th * float64(b.n) * lq)
		}
		return s - float64(k-over)
	}
	lo := 1 / ref
	switch {
	case f(1) >= 0:
		c.Theta = 1
	case f(lo) <= 0:
		c.Theta = lo
	default:
		hi := 1.0
		for range 60 {
			mid := (lo + hi) / 2
			if f(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		c.Theta = (lo + hi) / 2
	}
	return c
}

// refitFailure says which bootstrap failed too often (more than share of its refits), or "".
func refitFailure(rs []Refits, share float64) string {
	for _, r := range rs {
		if r.failShare() > share {
			return fmt.Sprintf("%d of %d bootstrap refits of the %s fit failed to converge, more than %g %%: the likelihood is too irregular for its bounds to be trusted",
				r.Failed, r.Tried, r.Model, 100*share)
		}
	}
	return ""
}

// block is one interval's maximum: the HdrHistogram bucket [lo, hi] it fell in, and the
// number of samples in the interval.
type block struct {
	lo, hi float64
	n      int64
}

func (b block) mid() float64 { return (b.lo + b.hi) / 2 }

// Blocks is a run reduced to what the analysis reads, whichever way it was read: per block
// (an interval, or a time slot of every tag merged; see BlocksOf) its sample count and the
// HdrHistogram bucket [MaxLow[i], Max[i]] its maximum fell in (Max as the histogram reports it),
// and every block merged into one histogram for the peaks-over-threshold fit. BlocksOfRun builds
// it from a streamed run without a histogram per interval; HistogramBlocks from histograms.
type Blocks struct {
	Count, MaxLow, Max []int64
	// Merged is every block merged, for the GPD method and the extremal index (Clustering). It
	// may be nil for the block-maxima methods; then θ = 1 is assumed and the report says so.
	Merged *hdrhistogram.Histogram
}

// HistogramBlocks reduces interval histograms, in time order, to Blocks; withMerged also merges
// them (a 270 KB histogram) for the GPD method and the extremal index (Clustering), without
// which no clustering is assumed.
func HistogramBlocks(ivs []*hdrhistogram.Histogram, withMerged bool) Blocks {
	b := Blocks{Count: make([]int64, len(ivs)), MaxLow: make([]int64, len(ivs)), Max: make([]int64, len(ivs))}
	for i, h := range ivs {
		b.Count[i] = h.TotalCount()
		b.MaxLow[i], b.Max[i] = gate.MaxBucket(h)
	}
	if withMerged {
		b.Merged = mergeAll(ivs)
	}
	return b
}

// Analyze fits the tail of a run given as its interval histograms in time order and tests the
// fit; see AnalyzeBlocks.
func Analyze(ivs []*hdrhistogram.Histogram, opts Options) (*Analysis, error) {
	return AnalyzeBlocks(HistogramBlocks(ivs, true), opts)
}

// AnalyzeBlocks fits the tail of a run given as its Blocks and tests the fit. It returns an
// error for invalid options and for Blocks without the merged histogram the GPD method needs;
// every property of the data, including too few intervals, is in the Analysis (Valid false,
// with the reason).
func AnalyzeBlocks(in Blocks, opts Options) (*Analysis, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("wcet: %w", err)
	}
	if len(in.MaxLow) != len(in.Count) || len(in.Max) != len(in.Count) {
		return nil, fmt.Errorf("wcet: blocks have %d counts, %d bucket lows and %d maxima", len(in.Count), len(in.MaxLow), len(in.Max))
	}
	if opts.Method == GPD && in.Merged == nil {
		return nil, fmt.Errorf("wcet: the gpd method needs the merged histogram of the blocks")
	}
	a := &Analysis{Method: opts.Method, Confidence: opts.Confidence, Bootstrap: opts.Bootstrap, Seed: opts.Seed,
		DeepProb: opts.DeepProb, DeepMinBlocks: opts.DeepMinBlocks}
	a.blocks, a.Dropped, a.RefBlockSamples = blocksOf(in, opts.MinBlockFill)
	a.Blocks = len(a.blocks)
	a.Clustering = extremalIndex(a.blocks, in.Merged, a.RefBlockSamples)
	for i, n := range in.Count {
		a.Samples += n
		a.MaxObservedNs = max(a.MaxObservedNs, in.Max[i])
	}
	if a.Blocks < opts.MinBlocks {
		a.Reason = fmt.Sprintf("inconclusive: need at least %d block maxima (intervals), have %d; record more or shorter intervals", opts.MinBlocks, a.Blocks)
		return a, nil
	}
	maxima := make([]float64, len(a.blocks))
	for i, b := range a.blocks {
		maxima[i] = b.mid()
	}
	perTest := opts.Alpha
	h := ljungBoxLags(len(maxima))
	q, pq := ljungBox(maxima, h)
	a.Tests = append(a.Tests, Test{Name: "Ljung-Box", Checks: "independence", Statistic: q, PValue: pq, Alpha: perTest, Pass: pq >= perTest, Null: fmt.Sprintf("chi-square(%d)", h)})
	z, pz := mannKendall(maxima)
	a.Tests = append(a.Tests, Test{Name: "Mann-Kendall", Checks: "stationarity", Statistic: z, PValue: pz, Alpha: perTest, Pass: pz >= perTest, Null: "normal, tie-corrected"})

	rng := rand.New(rand.NewPCG(opts.Seed, 0x77636574)) // "wcet"
	var ad Test
	var err error
	if opts.Method == GPD {
		a.merged = in.Merged
		ad, err = a.fitGPDTail(opts, rng)
	} else {
		ad, err = a.fitGEVMaxima(opts, maxima, rng)
	}
	if err != nil {
		a.Reason = "no bound: " + err.Error()
		return a, nil
	}
	ad.Alpha, ad.Pass = perTest, ad.PValue >= perTest
	a.Tests = append(a.Tests, ad)
	var failed []string
	for _, t := range a.Tests {
		if !t.Pass {
			failed = append(failed, t.String())
		}
	}
	if len(failed) > 0 {
		a.Reason = "no bound: " + joinSemi(failed)
		return a, nil
	}
	if why := refitFailure(a.Refits, opts.MaxRefitFailure); why != "" {
		a.Reason = "no bound: " + why
		return a, nil
	}
	a.Valid = true
	return a, nil
}

// blocksOf extracts the block maxima, leaving out empty blocks and blocks smaller than fill
// times the median block.
func blocksOf(in Blocks, fill float64) (out []block, dropped int, ref float64) {
	var counts []float64
	for _, n := range in.Count {
		if n > 0 {
			counts = append(counts, float64(n))
		}
	}
	if len(counts) == 0 {
		return nil, len(in.Count), 0
	}
	sorted := slices.Clone(counts)
	sort.Float64s(sorted)
	ref = stat.Quantile(0.5, stat.Empirical, sorted, nil)
	for i, n := range in.Count {
		if n == 0 || float64(n) < fill*ref {
			dropped++
			continue
		}
		out = append(out, block{lo: float64(in.MaxLow[i]), hi: float64(in.Max[i]), n: n})
	}
	return out, dropped, ref
}

func mergeAll(ivs []*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if len(ivs) == 0 {
		return hdrhistogram.New(1, 2, 1)
	}
	m := hdrhistogram.New(ivs[0].LowestTrackableValue(), ivs[0].HighestTrackableValue(), int(ivs[0].SignificantFigures()))
	for _, h := range ivs {
		m.Merge(h)
	}
	return m
}

func joinSemi(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += "; "
		}
		out += v
	}
	return out
}

// fitGEVMaxima fits the block maxima and runs the parametric bootstrap for the
// Anderson–Darling p-value and the confidence bounds.
func (a *Analysis) fitGEVMaxima(opts Options, maxima []float64, rng *rand.Rand) (Test, error) {
	w := make([]float64, len(a.blocks))
	for i, b := range a.blocks {
		w[i] = float64(b.n) / a.RefBlockSamples
	}
	gumbel := opts.Method == Gumbel
	d, ll, err := fitGEV(maxima, w, gumbel, nil)
	if err != nil {
		return Test{}, err
	}
	a.gev = d
	a.Fit = &Fit{Mu: d.Mu, Sigma: d.Sigma, Xi: d.Xi, LogLik: ll}
	// Randomised PIT: a maximum is only known to its HdrHistogram bucket, so its transform is
	// drawn uniformly between the bucket ends' transforms, which is exactly uniform under a
	// right model however coarse the buckets.
	u := make([]float64, len(a.blocks))
	for i, b := range a.blocks {
		lo, hi := math.Exp(-w[i]*d.t(b.lo)), math.Exp(-w[i]*d.t(b.hi))
		u[i] = lo + rng.Float64()*(hi-lo)
	}
	a2 := andersonDarling(u)
	type outcome struct {
		d      gev
		err    error
		exceed bool
	}
	outs := bootstrap(opts.Bootstrap, len(w), opts.Workers,
		func(sim []float64) { d.draw(sim, w, rng) },
		func(sim []float64) outcome {
			bd, _, err := fitGEV(sim, w, gumbel, &d)
			if err != nil {
				return outcome{err: err}
			}
			for i, v := range sim { // the sample's transforms, in place
				sim[i] = math.Exp(-w[i] * bd.t(v))
			}
			return outcome{d: bd, exceed: andersonDarling(sim) >= a2}
		})
	exceed := 0
	refits := Refits{Model: opts.Method, Tried: opts.Bootstrap}
	for _, o := range outs {
		if o.err != nil {
			refits.Failed++
			continue
		}
		a.bootGEV = append(a.bootGEV, o.d)
		if o.exceed {
			exceed++
		}
	}
	ad, err := a.adTest(a2, exceed, refits)
	if err != nil || gumbel {
		return ad, err
	}
	return ad, a.gumbelFloor(maxima, w, opts, rng)
}

// gumbelFloor fits the maxima with ξ held at 0 and bootstraps that fit (simulating from it), for
// the floor of the gated bounds (see Analysis.Floor).
func (a *Analysis) gumbelFloor(maxima, w []float64, opts Options, rng *rand.Rand) error {
	d, ll, err := fitGEV(maxima, w, true, nil)
	if err != nil {
		return fmt.Errorf("the ξ = 0 (Gumbel) fit that floors the bounds: %w", err)
	}
	a.floorGEV = &d
	a.Floor = &Fit{Mu: d.Mu, Sigma: d.Sigma, LogLik: ll}
	refits := Refits{Model: Gumbel, Tried: opts.Bootstrap}
	type outcome struct {
		d   gev
		err error
	}
	outs := bootstrap(opts.Bootstrap, len(w), opts.Workers,
		func(sim []float64) { d.draw(sim, w, rng) },
		func(sim []float64) outcome {
			bd, _, err := fitGEV(sim, w, true, &d)
			return outcome{bd, err}
		})
	for _, o := range outs {
		if o.err != nil {
			refits.Failed++
			continue
		}
		a.bootFloorGEV = append(a.bootFloorGEV, o.d)
	}
	a.Refits = append(a.Refits, refits)
	return nil
}

// adTest records the bootstrap's refits and returns the Anderson–Darling test from the refits
// that converged (at least one is needed for a p-value; AnalyzeBlocks refuses a bound when more
// than MaxRefitFailure of them failed).
func (a *Analysis) adTest(a2 float64, exceed int, refits Refits) (Test, error) {
	a.Refits = append(a.Refits, refits)
	done := refits.Tried - refits.Failed
	if done == 0 {
		return Test{}, fmt.Errorf("none of %d bootstrap refits of the %s fit converged", refits.Tried, refits.Model)
	}
	return Test{
		Name: "Anderson-Darling", Checks: "fit", Statistic: a2,
		PValue: float64(1+exceed) / float64(1+done),
		Null:   fmt.Sprintf("parametric bootstrap, %d refits", done),
	}, nil
}

// fitGPDTail sets the threshold so about TailSize samples exceed it (at most a tenth of all),
// fits the exceedances from the merged histogram's bucket counts and bootstraps.
func (a *Analysis) fitGPDTail(opts Options, rng *rand.Rand) (Test, error) {
	total := a.merged.TotalCount()
	k := min(int64(opts.TailSize), total/10)
	if k < 30 {
		return Test{}, fmt.Errorf("only %d samples: the GPD needs at least 300 for 30 exceedances", total)
	}
	bars := a.merged.Distribution()
	// Walk down from the top until k samples are above the threshold; the threshold is a
	// bucket boundary so no bucket straddles it.
	var above int64
	cut := len(bars)
	for cut > 0 && above+bars[cut-1].Count <= k {
		above += bars[cut-1].Count
		cut--
	}
	if above < 30 || cut == 0 {
		return Test{}, fmt.Errorf("the top bucket alone holds more than %d samples: no tail to fit", k)
	}
	u := float64(bars[cut-1].To)
	var y, c, lo, hi []float64
	for _, b := range bars[cut:] {
		if b.Count == 0 {
			continue
		}
		from := max(float64(b.From), u)
		y = append(y, (from+float64(b.To))/2-u)
		c = append(c, float64(b.Count))
		lo, hi = append(lo, from-u), append(hi, float64(b.To)-u)
	}
	d, ll, err := fitGPD(y, c, nil)
	if err != nil {
		return Test{}, err
	}
	a.gpd = d
	a.Fit = &Fit{Sigma: d.Sigma, Xi: d.Xi, LogLik: ll, ThresholdNs: u, TailSamples: above, TailShare: float64(above) / float64(total)}
	pit := make([]float64, 0, above)
	for i := range y {
		for range int(c[i]) {
			l, h := 1-d.Survival(lo[i]), 1-d.Survival(hi[i])
			pit = append(pit, l+rng.Float64()*(h-l))
		}
	}
	a2 := andersonDarling(pit)
	ones := make([]float64, len(pit))
	for i := range ones {
		ones[i] = 1
	}
	type outcome struct {
		d      gpd
		err    error
		exceed bool
	}
	outs := bootstrap(opts.Bootstrap, len(pit), opts.Workers,
		func(sim []float64) {
			for i := range sim {
				sim[i] = d.quantileSurvival(1 - rng.Float64())
			}
		},
		func(sim []float64) outcome {
			bd, _, err := fitGPD(sim, ones, &d)
			if err != nil {
				return outcome{err: err}
			}
			for i, v := range sim { // the sample's transforms, in place
				sim[i] = 1 - bd.Survival(v)
			}
			return outcome{d: bd, exceed: andersonDarling(sim) >= a2}
		})
	exceed := 0
	refits := Refits{Model: GPD, Tried: opts.Bootstrap}
	for _, o := range outs {
		if o.err != nil {
			refits.Failed++
			continue
		}
		a.bootGPD = append(a.bootGPD, o.d)
		if o.exceed {
			exceed++
		}
	}
	ad, err := a.adTest(a2, exceed, refits)
	if err != nil {
		return ad, err
	}
	// The ξ = 0 floor: exponential exceedances, whose maximum-likelihood scale is their mean;
	// a refit of simulated exceedances is their mean again, so it cannot fail.
	m := stat.Mean(y, c)
	a.floorGPD = &gpd{Sigma: m}
	var fll float64
	for i, v := range y {
		fll += c[i] * a.floorGPD.logPDF(v)
	}
	a.Floor = &Fit{Sigma: m, LogLik: fll, ThresholdNs: u, TailSamples: above, TailShare: a.Fit.TailShare}
	for range opts.Bootstrap {
		var s float64
		for range above {
			s += rng.ExpFloat64()
		}
		a.bootFloorGPD = append(a.bootFloorGPD, gpd{Sigma: m * s / float64(above)})
	}
	a.Refits = append(a.Refits, Refits{Model: "exponential", Tried: opts.Bootstrap})
	return ad, nil
}

// BlockProb converts a per-inference exceedance probability to the probability that the
// maximum of a reference block of n inferences exceeds the same value: 1 − (1 − p)^n.
func BlockProb(p, n float64) float64 { return -math.Expm1(n * math.Log1p(-p)) }

// PWCET is the latency exceeded by one inference with probability p, from the fitted model.
// ok is false, with the reason, when the analysis is not valid or p is out of range.
func (a *Analysis) PWCET(p float64) (ns float64, ok bool, reason string) {
	if reason := a.check(p); reason != "" {
		return 0, false, reason
	}
	return a.quantile(p, a.gev, a.gpd), true, ""
}

// Upper is the gated upper confidence bound of PWCET(p) at confidence c (0.5 ≤ c < 1): the
// c-quantile of the bootstrap refits' estimates (percentile method), and for the GEV and GPD
// methods at least the same bound of the ξ = 0 model (see Analysis.Floor), so a negative shape
// never ends the bound below what a Gumbel (or exponential) tail says.
func (a *Analysis) Upper(p, c float64) (ns float64, ok bool, reason string) {
	v, _, ok, reason := a.upper(p, c)
	return v, ok, reason
}

// upper is Upper, and whether the ξ = 0 floor gave it.
func (a *Analysis) upper(p, c float64) (ns float64, floored, ok bool, reason string) {
	if reason := a.check(p); reason != "" {
		return 0, false, false, reason
	}
	if !(c >= 0.5 && c < 1) {
		return 0, false, false, fmt.Sprintf("confidence %g: want 0.5 <= c < 1", c)
	}
	v := a.percentile(p, c, a.gev, a.gpd, a.bootGEV, a.bootGPD)
	var f float64
	switch {
	case a.floorGEV != nil:
		f = a.percentile(p, c, *a.floorGEV, gpd{}, a.bootFloorGEV, nil)
	case a.floorGPD != nil:
		f = a.percentile(p, c, gev{}, *a.floorGPD, nil, a.bootFloorGPD)
	}
	if f > v {
		return f, true, true, ""
	}
	return v, false, true, ""
}

// percentile is the c-quantile of the refits' PWCET(p), at least the fit's own.
func (a *Analysis) percentile(p, c float64, d gev, g gpd, bootGEV []gev, bootGPD []gpd) float64 {
	var est []float64
	for _, d := range bootGEV {
		est = append(est, a.quantile(p, d, gpd{}))
	}
	for _, d := range bootGPD {
		est = append(est, a.quantile(p, gev{}, d))
	}
	sort.Float64s(est)
	return max(stat.Quantile(c, stat.Empirical, est, nil), a.quantile(p, d, g))
}

func (a *Analysis) check(p float64) string {
	switch {
	case !a.Valid:
		return a.Reason
	case !(p > 0 && p < 1):
		return fmt.Sprintf("exceedance probability %g: want 0 < p < 1", p)
	case p <= a.DeepProb && a.Blocks < a.DeepMinBlocks:
		return fmt.Sprintf("claims at %g or below need at least %d block maxima (intervals), have %d; record %d more",
			a.DeepProb, a.DeepMinBlocks, a.Blocks, a.DeepMinBlocks-a.Blocks)
	}
	return ""
}

func (a *Analysis) quantile(p float64, d gev, g gpd) float64 {
	if a.Method != GPD {
		return d.quantileT(-a.RefBlockSamples * a.Clustering.Theta * math.Log1p(-p))
	}
	if p >= a.Fit.TailShare {
		// Not in the tail: the histogram itself answers.
		return float64(a.merged.ValueAtQuantile(100 * (1 - p)))
	}
	return a.Fit.ThresholdNs + g.quantileSurvival(p/a.Fit.TailShare)
}

// Bound is a pWCET at one per-inference exceedance probability.
type Bound struct {
	P float64 `json:"p"`
	// BlockP is the matching exceedance probability of a reference block's maximum,
	// 1 − (1 − P)^(n̄θ): it does not depend on the clustering assumption, P does.
	BlockP     float64 `json:"block_p,omitempty"`
	EstimateNs float64 `json:"estimate_ns,omitempty"`
	UpperNs    float64 `json:"upper_ns,omitempty"`
	// UpperFromXi0 is set when the ξ = 0 model's bound (Analysis.Floor) was the larger.
	UpperFromXi0 bool   `json:"upper_from_xi0,omitempty"`
	OK           bool   `json:"ok"`
	Reason       string `json:"reason,omitempty"`
}

// Bounds evaluates PWCET and Upper at each probability.
func (a *Analysis) Bounds(probs []float64) []Bound {
	out := make([]Bound, 0, len(probs))
	for _, p := range probs {
		b := Bound{P: p}
		if a.RefBlockSamples > 0 {
			b.BlockP = BlockProb(p, a.RefBlockSamples*a.Clustering.Theta)
		}
		b.EstimateNs, b.OK, b.Reason = a.PWCET(p)
		if b.OK {
			b.UpperNs, b.UpperFromXi0, _, _ = a.upper(p, a.Confidence)
		}
		out = append(out, b)
	}
	return out
}
