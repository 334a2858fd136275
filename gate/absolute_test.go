package gate_test

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// Bursts + drift, the autocorrelated process of issue 13: log latency is the sum of a
// sample-level AR(1) (bursts: φ = 0.98 per sample, stationary sd 0.25) and an interval-level
// AR(1) (thermal drift: φ = 0.95 per interval, sd 0.04), both started from their stationary
// distributions. The marginal of the log is normal, so the true quantiles are known exactly.
const (
	arMedianNs   = 2e6
	arBurstPhi   = 0.98
	arBurstSigma = 0.25
	arDriftPhi   = 0.95
	arDriftSigma = 0.04
)

// arTrueQuantile is the process's true q-quantile at scale 1.
func arTrueQuantile(q float64) float64 {
	z := math.Sqrt2 * math.Erfinv(2*q-1)
	return arMedianNs * math.Exp(z*math.Hypot(arBurstSigma, arDriftSigma))
}

// arRun records one run of the bursts + drift process, every latency multiplied by scale.
func arRun(tb testing.TB, seed uint64, intervals, perIv int, scale float64) *gate.Run {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xab5))
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	run := &gate.Run{Dir: fmt.Sprint("ar-", seed), Meta: &result.Meta{Suite: "abs", Env: gatetest.Env(), Health: result.Health{Healthy: true}}}
	burst := arBurstSigma * rng.NormFloat64()
	drift := arDriftSigma * rng.NormFloat64()
	bInno := math.Sqrt(1-arBurstPhi*arBurstPhi) * arBurstSigma
	dInno := math.Sqrt(1-arDriftPhi*arDriftPhi) * arDriftSigma
	v := make([]int64, perIv)
	b := &result.Buckets{Lowest: result.LowestNs, Highest: result.HighestNs, SigFigs: result.SigFigs}
	for i := range intervals {
		drift = arDriftPhi*drift + dInno*rng.NormFloat64()
		for k := range v {
			burst = arBurstPhi*burst + bInno*rng.NormFloat64()
			v[k] = min(max(int64(scale*arMedianNs*math.Exp(drift+burst)), 1), result.HighestNs)
		}
		// Straight into sparse buckets, as a log reader hands them over: a dense histogram per
		// interval would cost more than the statistics under test.
		slices.Sort(v)
		b.Index, b.Count, b.Total = b.Index[:0], b.Count[:0], int64(perIv)
		for _, x := range v {
			idx := hdrIndex(x)
			if n := len(b.Index); n > 0 && b.Index[n-1] == idx {
				b.Count[n-1]++
				continue
			}
			b.Index, b.Count = append(b.Index, idx), append(b.Count, 1)
		}
		s := start.Add(time.Duration(i) * time.Second)
		if err := run.AddBuckets(result.IntervalBuckets{Start: s, End: s.Add(time.Second), Buckets: b}); err != nil {
			tb.Fatal(err)
		}
	}
	run.Span = time.Duration(intervals) * time.Second
	return run
}

// hdrIndex is HdrHistogram's flat counts index of v for the result format's geometry (lowest
// discernible value 1, three significant figures: 2048 sub-buckets).
func hdrIndex(v int64) int32 {
	const half = 10 // log2 of half the sub-bucket count
	mask := uint64(1)<<(half+1) - 1
	bucket := bits.Len64(uint64(v)|mask) - 1 - half
	sub := int64(uint64(v) >> uint(bucket))
	return int32(int64(bucket+1)<<half + sub - int64(1)<<half)
}

// TestAbsoluteCalibration runs "p99 < L" on the bursts + drift process with the true p99 at a
// known multiple of L and counts verdicts: a false claim (true p99 at or above L) must pass at
// most 1 % of the time (the rule's one-sided confidence 0.99), and a true one with room to
// spare must pass often enough on a run long enough for it. It runs `runs` seeded runs per cell;
// TAILGATE_CALIBRATE=N runs N and prints the shares.
func TestAbsoluteCalibration(t *testing.T) {
	runs := 200
	if v := os.Getenv("TAILGATE_CALIBRATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TAILGATE_CALIBRATE=%q: want a number of runs", v)
		}
		runs = n
	}
	const limitNs = 3_500_000 // L = 3.5ms
	rules, err := gate.ParseRules(gate.FlagRules([]string{"p99 < 3.5ms"}))
	if err != nil {
		t.Fatal(err)
	}
	// Passing a false claim is the error the rule controls at 1 − confidence = 1 %. At exactly L
	// a 2-minute run passes about 1.7 % (1,000 runs): the drift (φ = 0.95 per interval, an
	// integrated autocorrelation time of 39 intervals) is far below one interval's noise in the
	// tail indicator, so no within-run estimate sees it, and blocks of 15 (a 120-interval run
	// cannot afford more than n/MinBlocks) leave part of its variance out. Between-run variance
	// (issue 13 item 4) is where slow drift belongs. At 1.02 L the share is under 1 % (0.4 %).
	for _, tc := range []struct {
		name            string
		intervals, rate int     // 1 s intervals at rate inferences/s
		truth           float64 // true p99 / L
		div             int     // cells run runs/div runs (long runs cost more)
		maxPass         float64 // share of runs that may pass
		minPass         float64
	}{
		{"2-minute PR, true p99 1.02 L", 120, 300, 1.02, 1, 0.01, 0},
		{"2-minute PR, true p99 at L", 120, 300, 1.00, 1, 0.025, 0},
		{"10-minute, true p99 1.02 L", 600, 300, 1.02, 4, 0.01, 0},
		{"10-minute, true p99 at L", 600, 300, 1.00, 4, 0.02, 0},
		{"10-minute, true p99 0.8 L", 600, 300, 0.80, 4, 1, 0.9},
		{"2-minute PR, true p99 0.8 L", 120, 300, 0.80, 1, 1, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := max(runs/tc.div, 1)
			scale := tc.truth * limitNs / arTrueQuantile(0.99)
			count := map[gate.Verdict]int{}
			for i := range n {
				run := arRun(t, uint64(i+1), tc.intervals, tc.rate, scale)
				rep, err := gate.Compare(nil, run, rules, gate.Options{})
				if err != nil {
					t.Fatal(err)
				}
				count[rep.Verdict]++
				if i < 3 {
					t.Logf("%s", rep.Rules[0].Reason)
				}
			}
			pass := float64(count[gate.VerdictPass]) / float64(n)
			t.Logf("%d runs: pass %.1f%%, regression %.1f%%, inconclusive %.1f%%", n, 100*pass,
				100*float64(count[gate.VerdictRegression])/float64(n), 100*float64(count[gate.VerdictInconclusive])/float64(n))
			if pass > tc.maxPass {
				t.Errorf("pass share %.3f, want ≤ %.3f", pass, tc.maxPass)
			}
			if pass < tc.minPass {
				t.Errorf("pass share %.3f, want ≥ %.3f", pass, tc.minPass)
			}
		})
	}
}
