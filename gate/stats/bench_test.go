package stats

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// A 48-hour nightly run: 17,280 ten-second intervals of about 5,800 inferences (≈100M samples).
const (
	nightlyIntervals = 17280
	nightlyPer       = 5787
)

var nightly struct {
	once       sync.Once
	base, cand *Sample
	err        error
}

// nightlyPair generates the two 48-hour runs once per test binary (outside any timer): the
// autocorrelated process, the candidate 2 % slower.
func nightlyPair(b *testing.B) (*Sample, *Sample) {
	nightly.once.Do(func() {
		gen := func(seed uint64, scale float64) *Sample {
			s := &Sample{}
			spec := synth.Spec{Process: synth.AR1, Seed: seed, Intervals: nightlyIntervals, PerIntvl: nightlyPer, Scale: scale}
			if err := synth.Each(spec, s.Add); err != nil {
				nightly.err = err
			}
			return s
		}
		nightly.base, nightly.cand = gen(1, 1), gen(2, 1.02)
	})
	if nightly.err != nil {
		b.Fatal(nightly.err)
	}
	return nightly.base, nightly.cand
}

// gateStats are the statistics a typical nightly gate compares.
var gateStats = []Stat{P(50), P(99), P(99.9), P(99.99), {Kind: Mean}}

// BenchmarkCompare48h gates a pair of 48-hour nightly runs on p50, p99, p99.9, p99.99 and the
// mean, from the compact samples: block building, windows and 2,000 resamples per run and
// statistic. Reported: ns/op for the whole gate, and the samples' resident size.
func BenchmarkCompare48h(b *testing.B) {
	base, cand := nightlyPair(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		base.dropCaches()
		cand.dropCaches()
		for _, st := range gateStats {
			r := Compare(base, cand, st, 0.99, DefaultOptions)
			if !(r.Point > 0) {
				b.Fatalf("%v: %+v", st, r)
			}
		}
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heapMB")
	b.ReportMetric(float64(base.Bytes()+cand.Bytes())/1e6, "sampleMB")
	// Peak resident memory of the whole test process so far (generation included): the upper
	// bound on what gating the pair took.
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 64); err == nil {
					b.ReportMetric(v/1e3, "peakRSS_MB")
				}
			}
		}
	}
}

// intervalPool returns 32 distinct dense intervals of the nightly process, which the Add
// benchmarks cycle through 17,280 times.
func intervalPool(b *testing.B) []*hdrhistogram.Histogram {
	g, err := synth.New(synth.Spec{Process: synth.AR1, Seed: 9, Intervals: 32, PerIntvl: nightlyPer})
	if err != nil {
		b.Fatal(err)
	}
	var pool []*hdrhistogram.Histogram
	for h := result.NewHistogram(); g.Next(h); h = result.NewHistogram() {
		pool = append(pool, h)
	}
	return pool
}

// benchAdd times adding a 48-hour run's intervals to a fresh Sample.
func benchAdd(b *testing.B, add func(s *Sample, i int) error) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s := &Sample{}
		for i := range nightlyIntervals {
			if err := add(s, i); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAdd48h reduces one 48-hour run's 17,280 dense interval histograms to a Sample: the
// cost a reader pays per run while decoding the log, on top of decoding.
func BenchmarkAdd48h(b *testing.B) {
	pool := intervalPool(b)
	benchAdd(b, func(s *Sample, i int) error { return s.Add(pool[i%len(pool)]) })
}

// BenchmarkAddPacked48h is BenchmarkAdd48h for a reader that decodes each interval straight
// into a packed histogram (hdrhistogram.DecodePacked): no dense 33k-bucket scan per interval.
func BenchmarkAddPacked48h(b *testing.B) {
	var pool []*hdrhistogram.PackedHistogram
	for _, h := range intervalPool(b) {
		p := hdrhistogram.NewPacked(result.LowestNs, result.HighestNs, result.SigFigs)
		p.MergeFrom(h)
		pool = append(pool, p)
	}
	benchAdd(b, func(s *Sample, i int) error { return s.AddPacked(pool[i%len(pool)]) })
}
