package gate_test

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// nightly48h builds a Run shaped like a 48-hour nightly: 17,280 ten-second intervals of 5,787
// samples (100M in all). Recording 100M values would dominate the benchmark, so 96 distinct
// interval histograms are recorded and appended in a seeded random order; the gate sees 17,280
// intervals either way.
func nightly48h(b *testing.B, seed uint64, scale float64) *gate.Run {
	b.Helper()
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
	run := &gate.Run{Dir: "nightly", Meta: &result.Meta{Suite: "vision", Health: result.Health{Healthy: true}}, Merged: result.NewHistogram()}
	run.Sample = &stats.Sample{}
	for i := range intervals {
		s := start.Add(time.Duration(i) * 10 * time.Second)
		if err := run.Add(result.Interval{Start: s, End: s.Add(10 * time.Second), Hist: hs[rng.IntN(distinct)]}); err != nil {
			b.Fatal(err)
		}
	}
	return run
}

// BenchmarkGate48h gates a pair of 48-hour nightly runs with the default rules plus mean and
// miss rules: what the nightly job pays per suite once the runs are in memory as Samples.
func BenchmarkGate48h(b *testing.B) {
	base := nightly48h(b, 1, 1)
	cand := nightly48h(b, 2, 1.03)
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
