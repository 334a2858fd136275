package wcet

import (
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// testBootstrap keeps the package's tests fast; the command's default is DefaultBootstrap.
const testBootstrap = 99

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// TestKnownTails is the validation of issue 8: on processes whose per-inference quantile is
// known exactly, the estimated pWCET at 1e-6 is within ±10 % of it. Gumbel on the bounded tail
// is expected to be refused by Anderson–Darling (a Gumbel cannot end), and that is checked too.
func TestKnownTails(t *testing.T) {
	const p = 1e-6
	for _, proc := range processes {
		for _, m := range []Method{GEV, Gumbel, GPD} {
			t.Run(proc.name+"/"+string(m), func(t *testing.T) {
				ivs := runOf(proc, 11, 100, 1000, nil)
				a, err := Analyze(ivs, Options{Method: m, Bootstrap: testBootstrap})
				if err != nil {
					t.Fatal(err)
				}
				if proc.name == "bounded" && m == Gumbel {
					if a.Valid || !strings.Contains(a.Reason, "Anderson-Darling") {
						t.Fatalf("a Gumbel fitted to a bounded tail was not refused by the fit test: %s", a.Reason)
					}
					return
				}
				est, ok, why := a.PWCET(p)
				if !ok {
					t.Fatalf("no bound: %s", why)
				}
				truth := proc.quantile(p)
				if rel := est/truth - 1; math.Abs(rel) > 0.10 {
					t.Errorf("pWCET(1e-6) = %.0f ns, truth %.0f ns: off by %+.1f %%", est, truth, 100*rel)
				}
				up, ok, _ := a.Upper(p, 0.95)
				if !ok || up < est {
					t.Errorf("upper bound %.0f below the estimate %.0f", up, est)
				}
				if a.Blocks != 100 || a.Samples != 100*1000 || a.RefBlockSamples != 1000 {
					t.Errorf("blocks %d samples %d n̄ %g", a.Blocks, a.Samples, a.RefBlockSamples)
				}
			})
		}
	}
}

// TestRefuses feeds series that break the model's assumptions; each must be refused by the
// right test, and no bound given.
func TestRefuses(t *testing.T) {
	ar := func(seed uint64, phi float64) func(int) float64 {
		r := rand.New(rand.NewPCG(seed, 3))
		level := 0.0
		return func(int) float64 {
			level = phi*level + 0.03*r.NormFloat64()
			return 1 + level
		}
	}
	cases := []struct {
		name  string
		ivs   []*hdrhistogram.Histogram
		wants string
	}{
		{"autocorrelated", runOf(expTail, 5, 100, 1000, ar(5, 0.8)), "Ljung-Box"},
		{"trending", runOf(expTail, 6, 100, 1000, func(i int) float64 { return 1 + 0.001*float64(i) }), "Mann-Kendall"},
		{"bimodal", runOf(expTail, 7, 100, 1000, func(i int) float64 {
			// Every block independently slow or fast: independent, stationary, not a GEV.
			if rand.New(rand.NewPCG(uint64(i), 9)).Float64() < 0.3 {
				return 1.5
			}
			return 1
		}), "Anderson-Darling"},
		{"too few blocks", runOf(expTail, 8, 29, 1000, nil), "need at least 30"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Analyze(c.ivs, Options{Bootstrap: testBootstrap})
			if err != nil {
				t.Fatal(err)
			}
			if a.Valid || !strings.Contains(a.Reason, c.wants) {
				t.Fatalf("want refused by %s, got valid=%v reason %q", c.wants, a.Valid, a.Reason)
			}
			if _, ok, why := a.PWCET(1e-9); ok || why != a.Reason {
				t.Errorf("PWCET gave a bound (%v) or another reason %q", ok, why)
			}
			for _, b := range a.Bounds(DefaultProbs) {
				if b.OK || b.EstimateNs != 0 || b.UpperNs != 0 {
					t.Errorf("bound reported for an invalid analysis: %+v", b)
				}
			}
		})
	}
}

// coverage estimates pWCET(p) and its upper bound at confidence c from short runs of the
// exponential process over seeds, and returns the exact exceedance probabilities of each.
func coverage(seeds int, blocks int, n int64, p, c float64) (est, up []float64) {
	for s := range seeds {
		r := rand.New(rand.NewPCG(uint64(s)+1000, 4))
		a, err := Analyze(maximaOf(expTail, r, blocks, n), Options{Bootstrap: testBootstrap, Seed: uint64(s) + 1})
		if err != nil {
			panic(err)
		}
		if !a.Valid {
			continue // a refusal is not a bound that can be exceeded
		}
		e, _, _ := a.PWCET(p)
		u, _, _ := a.Upper(p, c)
		est = append(est, expTail.survival(e))
		up = append(up, expTail.survival(u))
	}
	return est, up
}

// TestCoverage: a bound estimated from a short run is exceeded by the process no more often
// than its probability says. The exceedance probability of each estimated bound is exact
// (the process is known), which is what a long run of it would measure; the calibration test
// below measures it in real long runs. Point estimates scatter around p (their median true
// exceedance is near p); upper bounds at 0.9 are exceeded with probability above p in at most
// about 10 % of the short runs.
func TestCoverage(t *testing.T) {
	const p, c = 1e-6, 0.9
	est, up := coverage(16, 50, 1000, p, c)
	if len(est) < 14 {
		t.Fatalf("only %d of 16 runs gave a bound", len(est))
	}
	if m := median(est) / p; m < 0.3 || m > 3 {
		t.Errorf("median true exceedance of the estimate is %.2g·p, want about p", m)
	}
	var bad int
	for _, v := range up {
		if v > p {
			bad++
		}
	}
	// Binomial(16, 0.1) exceeds 5 with probability 0.017.
	if bad > 5 {
		t.Errorf("%d of %d upper bounds at %.2g have true exceedance above p", bad, len(up), c)
	}
}

// TestCalibrate is the long coverage run (make calibrate): 200 short runs of 50 blocks of 1000
// inferences, each bound checked against a real run 20 times longer of the same process.
func TestCalibrate(t *testing.T) {
	if os.Getenv("TAILGATE_CALIBRATE") != "1" {
		t.Skip("long calibration; run with TAILGATE_CALIBRATE=1 (make calibrate)")
	}
	const (
		seeds  = 200
		blocks = 50
		n      = 1000
		p      = 1e-4 // block-level 0.095: a 1,000,000-sample long run expects 100 exceedances
		c      = 0.9
		long   = 20 * blocks * n
	)
	for _, proc := range processes {
		t.Run(proc.name, func(t *testing.T) {
			var estHits, upHits, runs, upBad int
			for s := range seeds {
				r := rand.New(rand.NewPCG(uint64(s)+5000, 6))
				ivs := make([]*hdrhistogram.Histogram, blocks)
				for i := range ivs {
					h := result.NewHistogram()
					for range n {
						_ = h.RecordValue(int64(proc.sample(r)))
					}
					ivs[i] = h
				}
				a, err := Analyze(ivs, Options{Bootstrap: testBootstrap, Seed: uint64(s) + 1})
				if err != nil {
					t.Fatal(err)
				}
				if !a.Valid {
					continue
				}
				e, _, _ := a.PWCET(p)
				u, _, _ := a.Upper(p, c)
				var he, hu int
				for range long {
					x := proc.sample(r)
					if x > e {
						he++
					}
					if x > u {
						hu++
					}
				}
				runs++
				estHits += he
				upHits += hu
				// Above p by more than 2.33 binomial standard deviations: exceeded more often
				// than its probability says.
				if float64(hu) > long*p+2.33*math.Sqrt(long*p) {
					upBad++
				}
			}
			rate := float64(estHits) / float64(runs*long)
			t.Logf("%s: %d valid runs of %d; estimate exceeded at %.3g (p = %g), upper %.2g bound exceeded at %.3g; %d runs (%.1f %%) had their upper bound exceeded significantly more often than p",
				proc.name, runs, seeds, rate, p, c, float64(upHits)/float64(runs*long), upBad, 100*float64(upBad)/float64(runs))
			if runs < seeds*8/10 {
				t.Errorf("only %d of %d runs gave a bound", runs, seeds)
			}
			if rate > 2*p {
				t.Errorf("estimates exceeded at %.3g, more than twice p = %g", rate, p)
			}
			if frac := float64(upBad) / float64(runs); frac > (1-c)+0.05 {
				t.Errorf("%.1f %% of upper bounds exceeded significantly, want about %.0f %% at most", 100*frac, 100*(1-c))
			}
		})
	}
}

// TestRefits: every analysis reports its bootstrap's refits, and a bootstrap whose refits fail
// more often than MaxRefitFailure gives no bound, saying which fit and how many.
func TestRefits(t *testing.T) {
	a, err := Analyze(runOf(expTail, 11, 60, 1000, nil), Options{Bootstrap: 39})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Refits) == 0 || a.Refits[0].Model != GEV || a.Refits[0].Tried != 39 {
		t.Fatalf("refits %+v", a.Refits)
	}
	if why := refitFailure(a.Refits, DefaultMaxRefitFailure); why != "" {
		t.Errorf("a clean bootstrap refused: %s", why)
	}
	bad := []Refits{{Model: GEV, Tried: 199, Failed: 19}, {Model: Gumbel, Tried: 199, Failed: 21}}
	why := refitFailure(bad, 0.1)
	if !strings.Contains(why, "21 of 199 bootstrap refits of the gumbel fit") {
		t.Errorf("reason %q", why)
	}
	if why := refitFailure(bad[:1], 0.1); why != "" {
		t.Errorf("19 of 199 (9.5 %%) refused: %s", why)
	}
}
