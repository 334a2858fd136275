package wcet

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// process is a latency process with a known tail: per-inference samples in nanoseconds, the
// exact survival function and quantile, and the exact maximum of a block (so long runs can be
// simulated a block at a time).
type process struct {
	name   string
	sample func(r *rand.Rand) float64
	// survival is P(X > x); quantile the x with P(X > x) = p.
	survival func(x float64) float64
	quantile func(p float64) float64
	// blockMax draws the maximum of n samples directly: F⁻¹(U^(1/n)).
	blockMax func(r *rand.Rand, n int64) float64
}

// The processes: 1 ms plus an exponential tail (Gumbel domain), a Gumbel itself, and a tail
// bounded at 1.4 ms with P(X > end − t·w) = t³ (reversed Weibull domain, ξ = −1/3).
var (
	expTail = process{
		name:     "exponential",
		sample:   func(r *rand.Rand) float64 { return 1e6 + 5e4*r.ExpFloat64() },
		survival: func(x float64) float64 { return math.Exp(-max(x-1e6, 0) / 5e4) },
		quantile: func(p float64) float64 { return 1e6 - 5e4*math.Log(p) },
		blockMax: func(r *rand.Rand, n int64) float64 {
			// 1 − U^(1/n) without cancellation.
			return 1e6 - 5e4*math.Log(-math.Expm1(math.Log(1-r.Float64())/float64(n)))
		},
	}
	gumbelTail = process{
		name:     "gumbel",
		sample:   func(r *rand.Rand) float64 { return 1e6 - 3e4*math.Log(r.ExpFloat64()) },
		survival: func(x float64) float64 { return -math.Expm1(-math.Exp(-(x - 1e6) / 3e4)) },
		quantile: func(p float64) float64 { return 1e6 - 3e4*math.Log(-math.Log1p(-p)) },
		blockMax: func(r *rand.Rand, n int64) float64 {
			// The maximum of n Gumbel(μ, β) is Gumbel(μ + β ln n, β).
			return 1e6 + 3e4*math.Log(float64(n)) - 3e4*math.Log(r.ExpFloat64())
		},
	}
	boundedTail = process{
		name:   "bounded",
		sample: func(r *rand.Rand) float64 { return 1e6 + 4e5*(1-math.Cbrt(1-r.Float64())) },
		survival: func(x float64) float64 {
			t := (1.4e6 - x) / 4e5
			return math.Pow(min(max(t, 0), 1), 3)
		},
		quantile: func(p float64) float64 { return 1.4e6 - 4e5*math.Cbrt(p) },
		blockMax: func(r *rand.Rand, n int64) float64 {
			// P(max ≤ end − w·t) = (1 − t³)^n.
			u := 1 - r.Float64()
			t3 := -math.Expm1(math.Log(u) / float64(n))
			return 1.4e6 - 4e5*math.Cbrt(t3)
		},
	}
	processes = []process{expTail, gumbelTail, boundedTail}
)

// runOf records blocks intervals of n samples each, every sample drawn (for the GPD, which
// needs the body of the histogram) and, through level, a per-block multiplier (1 when nil) so
// tests can inject autocorrelation or trends.
func runOf(p process, seed uint64, blocks int, n int64, level func(i int) float64) []*hdrhistogram.Histogram {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*hdrhistogram.Histogram, blocks)
	for i := range out {
		f := 1.0
		if level != nil {
			f = level(i)
		}
		h := result.NewHistogram()
		for range n {
			_ = h.RecordValue(int64(f * p.sample(r)))
		}
		out[i] = h
	}
	return out
}

// maximaOf records blocks intervals of n samples whose maximum is drawn exactly and whose other
// n−1 samples sit at 1 ns: only the block maxima and counts matter to the GEV, and this makes
// thousands of long runs cheap.
func maximaOf(p process, r *rand.Rand, blocks int, n int64) []*hdrhistogram.Histogram {
	out := make([]*hdrhistogram.Histogram, blocks)
	for i := range out {
		h := result.NewHistogram()
		_ = h.RecordValue(int64(p.blockMax(r, n)))
		_ = h.RecordValues(1, n-1)
		out[i] = h
	}
	return out
}

func TestBlockMaxMatchesSamples(t *testing.T) {
	// The direct block-maximum draws must have the distribution of a maximum of samples, or the
	// calibration below would validate against the wrong process.
	for _, p := range processes {
		t.Run(p.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 7))
			const blocks, n = 400, 200
			var direct, sampled []float64
			for range blocks {
				direct = append(direct, p.blockMax(r, n))
				m := 0.0
				for range n {
					m = max(m, p.sample(r))
				}
				sampled = append(sampled, m)
			}
			// Compare medians: within 2 % is far tighter than any mistake in the formulas.
			md, ms := median(direct), median(sampled)
			if math.Abs(md-ms)/ms > 0.02 {
				t.Errorf("median block max: direct %.0f, sampled %.0f", md, ms)
			}
			// And the exact survival at the sampled median is about 1/2 per block.
			q := 1 - math.Pow(1-p.survival(ms), n)
			if q < 0.4 || q > 0.6 {
				t.Errorf("P(block max > sampled median) = %.3f, want about 0.5", q)
			}
		})
	}
}
