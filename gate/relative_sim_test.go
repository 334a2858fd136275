package gate_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// simProc is a lognormal latency process with optional sample-level bursts and a slow drift,
// both AR(1) on the log scale and both started from their stationary distribution (not from
// zero), so that two runs differ by their state as two real runs do.
type simProc struct {
	median, sigma     float64
	burstPhi, burstSD float64 // per sample
	driftPhi, driftSD float64 // per sample
}

// simRun records intervals×perIv samples of p, every latency multiplied by scale and by a
// per-run offset exp(offsetSD·N(0,1)).
func simRun(tb testing.TB, seed uint64, intervals, perIv int, p simProc, scale, offsetSD float64) *gate.Run {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	run := &gate.Run{Dir: fmt.Sprint("sim-", seed), Meta: &result.Meta{Suite: "sim", Env: gatetest.Env(), Health: result.Health{Healthy: true}}}
	burst, drift := p.burstSD*rng.NormFloat64(), p.driftSD*rng.NormFloat64()
	bInnov, dInnov := p.burstSD*math.Sqrt(1-p.burstPhi*p.burstPhi), p.driftSD*math.Sqrt(1-p.driftPhi*p.driftPhi)
	f := scale * p.median * math.Exp(offsetSD*rng.NormFloat64())
	h := result.NewHistogram()
	for i := range intervals {
		h.Reset()
		for range perIv {
			burst = p.burstPhi*burst + bInnov*rng.NormFloat64()
			drift = p.driftPhi*drift + dInnov*rng.NormFloat64()
			h.RecordValue(int64(max(f*math.Exp(p.sigma*rng.NormFloat64()+burst+drift), 1)))
		}
		s := start.Add(time.Duration(i) * time.Second)
		if err := run.Add(result.Interval{Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
			tb.Fatal(err)
		}
	}
	return run
}

// TestRelativeRuleSimulation measures the relative rule's operating characteristic for a
// 2-minute PR run (120 one-second intervals at 300/s, 36k samples) against a 1-hour baseline
// (3,600 intervals, 1.08M samples): the shares of regression, inconclusive and pass of
// "p99 < +5%" at true p99 shifts of 0, 0.6L, L, 2L and 3L. It only runs with TAILGATE_SIM=N
// (N pairs per cell); it reports, and checks the targets at 2L and for A/A.
func TestRelativeRuleSimulation(t *testing.T) {
	v := os.Getenv("TAILGATE_SIM")
	if v == "" {
		t.Skip("TAILGATE_SIM=N runs N pairs per cell")
	}
	pairs, err := strconv.Atoi(v)
	if err != nil || pairs < 1 {
		t.Fatalf("TAILGATE_SIM=%q: want a number of pairs", v)
	}
	offsetSD, _ := strconv.ParseFloat(os.Getenv("TAILGATE_SIM_OFFSET"), 64) // per-run offset SD
	betweenSD, _ := strconv.ParseFloat(os.Getenv("TAILGATE_SIM_BETWEEN"), 64)
	rules := rules(t, "p99 < +5%")
	opts := gate.Options{}
	if betweenSD > 0 {
		opts.BetweenRun = map[string]float64{"p99": betweenSD}
	}
	// At 300 samples per one-second interval: bursts that decorrelate over ~50 samples and a
	// 4 % drift with lag-one correlation 0.95 per interval, as gate/stats/internal/synth's AR(1).
	// The targets (A/A: ≤ 1 % regression, ≤ 10 % inconclusive; +2L: ≥ 70 % caught) are
	// checked on the processes marked target. The bursty ones are reported only: on 120
	// intervals the block rule leaves 8 blocks (t = 3.5 on 7 df), and with bursts a 2-minute
	// run's p99 interval is too wide to resolve +5 % in most A/A pairs (63-73 % inconclusive at
	// 30 pairs), while regressions stay at 0 % and +10 % is caught in 87-93 %.
	processes := []struct {
		name   string
		p      simProc
		target bool
	}{
		{"iid lognormal", simProc{median: 2e6, sigma: 0.3}, true},
		{"bursts+1% drift", simProc{median: 2e6, sigma: 0.3, burstPhi: 0.98, burstSD: 0.25, driftPhi: math.Pow(0.95, 1.0/300), driftSD: 0.01}, false},
		{"bursts+4% drift", simProc{median: 2e6, sigma: 0.3, burstPhi: 0.98, burstSD: 0.25, driftPhi: math.Pow(0.95, 1.0/300), driftSD: 0.04}, false},
	}
	shifts := []float64{1, 1.03, 1.05, 1.10, 1.15}
	for _, pr := range processes {
		type tally struct{ reg, inc, pass, regHalf int }
		counts := make([]tally, len(shifts))
		for i := range pairs {
			base := simRun(t, uint64(1000+i), 3600, 300, pr.p, 1, offsetSD)
			for k, s := range shifts {
				cand := simRun(t, uint64(5000+100*i+k), 120, 300, pr.p, s, offsetSD)
				rep, err := gate.Compare(base, cand, rules, opts)
				if err != nil {
					t.Fatal(err)
				}
				r := rep.Rules[0]
				switch r.Verdict {
				case gate.RuleRegression:
					counts[k].reg++
					if *r.RatioLo > 1.025 {
						counts[k].regHalf++
					}
				case gate.RuleInconclusive:
					counts[k].inc++
				default:
					counts[k].pass++
				}
			}
		}
		for k, s := range shifts {
			c, n := counts[k], float64(pairs)
			t.Logf("%-14s p99 ×%.2f: regression %5.1f%%  inconclusive %5.1f%%  pass %5.1f%%  (regression with lo > 1+L/2: %5.1f%%)",
				pr.name, s, 100*float64(c.reg)/n, 100*float64(c.inc)/n, 100*float64(c.pass)/n, 100*float64(c.regHalf)/n)
		}
		if !pr.target {
			continue
		}
		if a := counts[0]; float64(a.reg) > 0.01*float64(pairs)+1 || float64(a.inc) > 0.10*float64(pairs)+1 {
			t.Errorf("%s A/A: %d regressions, %d inconclusive of %d", pr.name, a.reg, a.inc, pairs)
		}
		if c := counts[3]; float64(c.reg) < 0.70*float64(pairs) {
			t.Errorf("%s +10%%: caught %d of %d", pr.name, c.reg, pairs)
		}
	}
}
