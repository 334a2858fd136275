// Package synth generates latency runs from seeded processes with a known truth, for
// calibrating the gate: independent lognormal latencies, an autocorrelated lognormal (bursts
// within a second and thermal drift across seconds), a drift slower than a run, a heavy
// (Pareto) tail and a bimodal mixture. Every process starts in its stationary state (a run
// begins wherever the board happens to be, not at zero drift), its dynamics are in simulated
// seconds (so 1-s PR intervals and 10-s nightly intervals see the same process), and every run
// carries a per-run multiplicative log-normal offset of a chosen sd: what separate runs differ
// by that no within-run interval sees. Each process has a closed-form marginal CDF, so its true
// quantiles are known (Quantile). It owns nothing else; it is internal because only the
// calibration program, its tests and the stats benchmarks use it.
package synth

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/bits"
	"math/rand/v2"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Process names a latency process.
type Process string

// The processes calibration runs on.
const (
	IID       Process = "iid-lognormal"
	AR1       Process = "ar1-burst-drift"
	SlowDrift Process = "slow-drift"
	Pareto    Process = "pareto-tail"
	Bimodal   Process = "bimodal"
)

// Processes lists every process, in report order.
var Processes = []Process{IID, AR1, SlowDrift, Pareto, Bimodal}

// MedianNs is the median latency of every process body before scaling: 2 ms, a small vision
// model on a Pi 5.
const MedianNs = 2e6

// Parameters of the processes (log scale unless said otherwise).
const (
	iidSigma = 0.25
	// AR1: bursts are a sample-level AR(1) that decorrelates over about 50 inferences; thermal
	// drift is a per-second AR(1) that decorrelates over about 20 s, sd 4 %.
	burstPhi   = 0.98
	burstSigma = 0.25
	driftPhi   = 0.95
	driftSigma = 0.04
	// SlowDrift: an iid body under a per-second AR(1) with a 30-minute time constant, sd 1 %:
	// constant within a PR run, partly averaged within an hour's baseline.
	slowBody  = 0.2
	slowTau   = 1800.0
	slowSigma = 0.01
	// Pareto: a lognormal body; 2 % of inferences hit a Pareto(α = 2.5) tail from 1.3× the
	// median (interrupts, page faults).
	paretoBody  = 0.15
	paretoShare = 0.02
	paretoAlpha = 2.5
	paretoFrom  = 1.3
	// Bimodal: a fast path and, one time in ten, a slow path 1.75× slower.
	bimodalShare = 0.1
	bimodalSlow  = 1.75
	bimodalFast  = 0.1
	bimodalSlowS = 0.08
)

// Spec describes one run to generate.
type Spec struct {
	Process   Process
	Seed      uint64
	Intervals int     // interval histograms
	PerIntvl  int     // samples per interval
	Scale     float64 // multiplies every latency: 1.05 injects a +5 % shift of every quantile
	// Rate is the inferences per simulated second, which the per-second dynamics tick on;
	// 0 means PerIntvl (1-s intervals).
	Rate int
	// OffsetSD is the sd of the run's multiplicative log-normal offset exp(OffsetSD·Z), with Z
	// drawn from the seed (so runs of one seed at different OffsetSD share Z).
	OffsetSD float64
}

// Generator draws a run interval by interval, so that a long run never exists as a whole.
type Generator struct {
	spec    Spec
	rng     *rand.Rand
	z       float64 // the run offset's standard normal
	burst   float64 // sample-level AR(1) state (log scale)
	drift   float64 // per-second AR(1) state (log scale)
	tick    int     // samples until the next second
	i       int
	buf     []float32
	slowPhi float64
}

// New returns a generator for spec; Scale 0 means 1.
func New(spec Spec) (*Generator, error) {
	switch spec.Process {
	case IID, AR1, SlowDrift, Pareto, Bimodal:
	default:
		return nil, fmt.Errorf("unknown process %q", spec.Process)
	}
	if spec.Scale == 0 {
		spec.Scale = 1
	}
	if spec.Rate <= 0 {
		spec.Rate = max(spec.PerIntvl, 1)
	}
	// Scrambled so that consecutive seeds and the bootstrap's own streams of the same seed are
	// unrelated.
	h := fnv.New64a()
	h.Write([]byte(spec.Process))
	g := &Generator{spec: spec, rng: rand.New(rand.NewPCG(splitmix(spec.Seed), splitmix(h.Sum64()^spec.Seed))), slowPhi: math.Exp(-1 / slowTau)}
	r := g.rng
	g.z = r.NormFloat64()
	// Stationary start: the states are drawn from their stationary distributions.
	g.burst = burstSigma * r.NormFloat64()
	switch spec.Process {
	case AR1:
		g.drift = driftSigma * r.NormFloat64()
	case SlowDrift:
		g.drift = slowSigma * r.NormFloat64()
	}
	return g, nil
}

// OffsetZ is the standard normal of the run's offset: the offset is exp(sd·OffsetZ()).
func (g *Generator) OffsetZ() float64 { return g.z }

// Recorder is what an interval is generated into: a dense or a packed histogram.
type Recorder interface {
	RecordValue(v int64) error
	Reset()
}

// Next fills h (after resetting it) with the next interval, scaled and offset, and reports
// false when the run is over.
func (g *Generator) Next(h Recorder) bool {
	if cap(g.buf) < g.spec.PerIntvl {
		g.buf = make([]float32, g.spec.PerIntvl)
	}
	buf := g.buf[:g.spec.PerIntvl]
	if !g.Draw(buf) {
		return false
	}
	h.Reset()
	f := MedianNs * g.spec.Scale * math.Exp(g.spec.OffsetSD*g.z)
	for _, v := range buf {
		_ = h.RecordValue(clamp(float64(v) * f))
	}
	return true
}

// Draw fills buf with the next interval's latencies in units of MedianNs, before Scale and the
// run offset (len(buf) samples; Spec.PerIntvl is only Next's), and reports false when the run
// is over. Scaling the draws afterwards lets a caller record one stream at several shifts.
func (g *Generator) Draw(buf []float32) bool {
	if g.i >= g.spec.Intervals {
		return false
	}
	g.i++
	r := g.rng
	switch g.spec.Process {
	case IID:
		for k := range buf {
			buf[k] = float32(math.Exp(iidSigma * r.NormFloat64()))
		}
	case AR1:
		inno := math.Sqrt(1-burstPhi*burstPhi) * burstSigma
		dInno := math.Sqrt(1-driftPhi*driftPhi) * driftSigma
		for k := range buf {
			g.second(driftPhi, dInno)
			g.burst = burstPhi*g.burst + inno*r.NormFloat64()
			buf[k] = float32(math.Exp(g.drift + g.burst))
		}
	case SlowDrift:
		dInno := math.Sqrt(1-g.slowPhi*g.slowPhi) * slowSigma
		for k := range buf {
			g.second(g.slowPhi, dInno)
			buf[k] = float32(math.Exp(g.drift + slowBody*r.NormFloat64()))
		}
	case Pareto:
		for k := range buf {
			if r.Float64() < paretoShare {
				buf[k] = float32(paretoFrom * math.Pow(1-r.Float64(), -1/paretoAlpha))
			} else {
				buf[k] = float32(math.Exp(paretoBody * r.NormFloat64()))
			}
		}
	case Bimodal:
		for k := range buf {
			if r.Float64() < bimodalShare {
				buf[k] = float32(bimodalSlow * math.Exp(bimodalSlowS*r.NormFloat64()))
			} else {
				buf[k] = float32(math.Exp(bimodalFast * r.NormFloat64()))
			}
		}
	}
	return true
}

// second advances the per-second state when a simulated second has passed.
func (g *Generator) second(phi, inno float64) {
	if g.tick <= 0 {
		g.tick = g.spec.Rate
		g.drift = phi*g.drift + inno*g.rng.NormFloat64()
	}
	g.tick--
}

// CDF is the stationary marginal distribution function of p (Scale 1, no run offset) at x ns:
// the share of a long run's inferences at or below x, averaged over runs.
func CDF(p Process, x float64) float64 {
	if x <= 0 {
		return 0
	}
	u := x / MedianNs
	ln := func(s float64, mu float64) float64 { return normCDF((math.Log(u) - mu) / s) }
	switch p {
	case IID:
		return ln(iidSigma, 0)
	case AR1:
		return ln(math.Hypot(burstSigma, driftSigma), 0)
	case SlowDrift:
		return ln(math.Hypot(slowBody, slowSigma), 0)
	case Pareto:
		tail := 0.0
		if u > paretoFrom {
			tail = 1 - math.Pow(u/paretoFrom, -paretoAlpha)
		}
		return (1-paretoShare)*ln(paretoBody, 0) + paretoShare*tail
	case Bimodal:
		return (1-bimodalShare)*ln(bimodalFast, 0) + bimodalShare*ln(bimodalSlowS, math.Log(bimodalSlow))
	}
	return math.NaN()
}

// Quantile is the true q-quantile of p in ns (Scale 1, no run offset), by bisection of CDF.
func Quantile(p Process, q float64) float64 {
	lo, hi := MedianNs/100, MedianNs*1000
	for range 200 {
		mid := math.Sqrt(lo * hi)
		if CDF(p, mid) < q {
			lo = mid
		} else {
			hi = mid
		}
		if hi/lo < 1+1e-12 {
			break
		}
	}
	return math.Sqrt(lo * hi)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func clamp(v float64) int64 { return min(max(int64(v), 1), result.HighestNs) }

// Each generates the run of spec interval by interval into one reused dense histogram (with
// the result format's geometry) and hands each to add; it is overwritten after add returns.
func Each(spec Spec, add func(*hdrhistogram.Histogram) error) error {
	g, err := New(spec)
	if err != nil {
		return err
	}
	h := result.NewHistogram()
	for g.Next(h) {
		if err := add(h); err != nil {
			return err
		}
	}
	return nil
}

// Binner turns raw draws into sparse interval buckets with the result format's geometry
// (lowest 1 ns, highest result.HighestNs, result.SigFigs) without building a dense histogram
// per interval: a run of a million samples is binned in milliseconds. The Buckets it returns
// are reused by the next call.
type Binner struct {
	halfMag uint
	mask    uint64
	half    int32
	dense   []int64
	out     result.Buckets
}

// NewBinner returns a Binner for the result format's geometry.
func NewBinner() *Binner {
	subMag := int(math.Ceil(math.Log2(2 * math.Pow10(result.SigFigs))))
	halfMag := uint(max(subMag, 1) - 1)
	return &Binner{halfMag: halfMag, mask: uint64(2)<<halfMag - 1, half: 1 << halfMag,
		out: result.Buckets{Lowest: result.LowestNs, Highest: result.HighestNs, SigFigs: result.SigFigs}}
}

// Index is the flat HdrHistogram counts index of v ns (the same arithmetic as the library's).
func (b *Binner) Index(v int64) int32 {
	bk := int32(bits.Len64(uint64(v)|b.mask)) - int32(b.halfMag+1)
	sub := int32(uint64(v) >> uint(bk))
	return (bk+1)<<b.halfMag + sub - b.half
}

// Bin records every draw times f ns (clamped to the result's range) and returns the populated
// buckets, in index order.
func (b *Binner) Bin(draws []float32, f float64) *result.Buckets {
	lo, hi := int32(math.MaxInt32), int32(-1)
	for _, d := range draws {
		i := b.Index(clamp(float64(d) * f))
		if int(i) >= len(b.dense) {
			b.dense = append(b.dense, make([]int64, int(i)+1-len(b.dense))...)
		}
		b.dense[i]++
		lo, hi = min(lo, i), max(hi, i)
	}
	o := &b.out
	o.Index, o.Count, o.Total = o.Index[:0], o.Count[:0], int64(len(draws))
	for i := lo; i <= hi; i++ {
		if c := b.dense[i]; c > 0 {
			o.Index, o.Count = append(o.Index, i), append(o.Count, c)
			b.dense[i] = 0
		}
	}
	return o
}
