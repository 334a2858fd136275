package gate_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// memRun records a synthetic run straight into a gate.Run, without files.
func memRun(tb testing.TB, seed uint64, intervals, perIv int, p gatetest.Process) *gate.Run {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xca1))
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	run := &gate.Run{Dir: fmt.Sprint("mem-", seed), Meta: &result.Meta{Suite: "calib", Env: gatetest.Env(), Health: result.Health{Healthy: true}}}
	var st float64
	for i := range intervals {
		h := result.NewHistogram()
		for range perIv {
			h.RecordValue(int64(max(p(rng, &st), 1)))
		}
		s := start.Add(time.Duration(i) * time.Second)
		if err := run.Add(result.Interval{Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
			tb.Fatal(err)
		}
	}
	return run
}

// TestGateCalibration judges pairs of runs with a known truth through the whole gate (default
// rules, Holm, materiality) and counts verdicts: A/A pairs must almost never read as a
// regression, and a +10 % shift of p99 must be caught in at least 80 % of pairs. It runs 16 pairs per process in
// `go test`; TAILGATE_CALIBRATE=N runs N (make calibrate) and prints the rates.
func TestGateCalibration(t *testing.T) {
	pairs := 16
	if v := os.Getenv("TAILGATE_CALIBRATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TAILGATE_CALIBRATE=%q: want a number of pairs", v)
		}
		pairs = n
	}
	rules, err := gate.ParseRules(gate.DefaultRuleSources())
	if err != nil {
		t.Fatal(err)
	}
	processes := []struct {
		name string
		p    func(scale float64) gatetest.Process
	}{
		{"iid tail", body},
		{"autocorrelated", func(s float64) gatetest.Process { return gatetest.Drift(body(s), 0.99995, 0.03) }},
		{"bimodal", func(s float64) gatetest.Process {
			return gatetest.Tail(gatetest.Tail(gatetest.Lognormal(1e6, 0.03), 0.3, gatetest.Lognormal(1.4e6, 0.03)), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), s))
		}},
	}
	for _, pr := range processes {
		t.Run(pr.name, func(t *testing.T) {
			count := func(scale float64) map[gate.Verdict]int {
				out := map[gate.Verdict]int{}
				for i := range pairs {
					base := memRun(t, uint64(2*i+1), 60, 2000, pr.p(1))
					cand := memRun(t, uint64(2*i+2), 60, 2000, pr.p(scale))
					rep, err := gate.Compare(base, cand, rules, gate.Options{})
					if err != nil {
						t.Fatal(err)
					}
					out[rep.Verdict]++
				}
				return out
			}
			aa, shift := count(1), count(1.1)
			t.Logf("%d pairs of 120k samples: A/A %v; p99 +10%% %v", pairs, aa, shift)
			if alarms := aa[gate.VerdictRegression]; float64(alarms) > 0.025*float64(pairs)+1 {
				t.Errorf("A/A false alarms: %d of %d", alarms, pairs)
			}
			// Drift that lasts ~10 intervals leaves a 60-interval run ~6 independent blocks'
			// worth of evidence, so its power is lower by design: the interval is honest.
			if caught := shift[gate.VerdictRegression]; float64(caught) < 0.8*float64(pairs) {
				t.Errorf("+10%% p99 caught in %d of %d", caught, pairs)
			}
		})
	}
}
