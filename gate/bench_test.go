package gate_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// nightly is a synthetic 48-hour run: the gate's Run and the intervals it was built from.
type nightly struct {
	*gate.Run
	intervals []result.Interval
}

// nightly48h builds a Run shaped like a 48-hour nightly: 17,280 ten-second intervals of 5,787
// samples (100M in all). Recording 100M values would dominate the benchmark, so 96 distinct
// interval histograms are recorded and appended in a seeded random order; the gate sees 17,280
// intervals either way.
func nightly48h(tb testing.TB, seed uint64, scale float64) nightly {
	tb.Helper()
	const intervals, perIv, distinct = 17280, 5787, 96
	rng := rand.New(rand.NewPCG(seed, 48))
	proc := body(scale)
	hs := make([]*hdrhistogram.Histogram, distinct)
	var st float64
	for i := range hs {
		hs[i] = result.NewHistogram()
		for range perIv {
			hs[i].RecordValue(int64(proc(rng, &st)))
		}
	}
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	n := nightly{Run: &gate.Run{Dir: "nightly", Meta: &result.Meta{Suite: "vision", Start: start, End: start.Add(48 * time.Hour),
		Health: result.Health{Healthy: true}}}}
	for i := range intervals {
		s := start.Add(time.Duration(i) * 10 * time.Second)
		iv := result.Interval{Start: s, End: s.Add(10 * time.Second), Hist: hs[rng.IntN(distinct)]}
		if err := n.Add(iv); err != nil {
			tb.Fatal(err)
		}
		n.intervals = append(n.intervals, iv)
	}
	return n
}

// TestWrite48h writes a pair of 48-hour nightly result directories (base, and cand with a +3 %
// slower tail) into $TAILGATE_WRITE_48H, for measuring `tailgate compare` on them end to end
// (make bench-gate). It does nothing without the variable.
func TestWrite48h(t *testing.T) {
	dir := os.Getenv("TAILGATE_WRITE_48H")
	if dir == "" {
		t.Skip("set TAILGATE_WRITE_48H=DIR to write two 48-hour results there")
	}
	for _, side := range []struct {
		name  string
		seed  uint64
		scale float64
	}{{"base", 1, 1}, {"cand", 2, 1.03}} {
		run := nightly48h(t, side.seed, side.scale)
		w, err := resulttest.Create(filepath.Join(dir, side.name), run.Meta.Start)
		if err != nil {
			t.Fatal(err)
		}
		for _, iv := range run.intervals {
			if err := w.Write(iv); err != nil {
				t.Fatal(err)
			}
		}
		m := *run.Meta
		m.Env = gatetest.Env()
		m.Tool = result.Tool{Name: "tailgate", Version: "bench", Go: "go"}
		if err := w.Finish(&m); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkGate48h gates a pair of 48-hour nightly runs with the default rules plus mean and
// miss rules: what the nightly job pays per suite once the runs are in memory as Samples.
func BenchmarkGate48h(b *testing.B) {
	base := nightly48h(b, 1, 1).Run
	cand := nightly48h(b, 2, 1.03).Run
	rules, err := gate.ParseRules(gate.FlagRules(append(append([]string{}, gate.DefaultRules...), "mean < +5%", "miss(5ms) < 0.1%", "max < 40ms")))
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := gate.Compare(base, cand, rules, gate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Candidate.Samples != 17280*5787 {
			b.Fatalf("%d samples", rep.Candidate.Samples)
		}
	}
	b.ReportMetric(float64(base.Sample.Bytes()+cand.Sample.Bytes())/1e6, "sample-MB")
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
}

// BenchmarkLoadCompare48h is `tailgate compare` on two 48-hour result directories written by
// TestWrite48h into $TAILGATE_48H: streaming both logs and gating them with the default rules.
func BenchmarkLoadCompare48h(b *testing.B) {
	dir := os.Getenv("TAILGATE_48H")
	if dir == "" {
		b.Skip("set TAILGATE_48H=DIR (written by TestWrite48h) to benchmark on 48-hour logs")
	}
	rules, err := gate.ParseRules(gate.DefaultRuleSources())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		base, err := gate.LoadRun(filepath.Join(dir, "base"))
		if err != nil {
			b.Fatal(err)
		}
		cand, err := gate.LoadRun(filepath.Join(dir, "cand"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := gate.Compare(base, cand, rules, gate.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
