package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// lognormalIntervals returns n interval histograms of per samples each, from a seeded
// lognormal with median medNs and log-sd sigma, scaled by scale.
func lognormalIntervals(seed uint64, n, per int, medNs, sigma, scale float64) []*hdrhistogram.Histogram {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([]*hdrhistogram.Histogram, n)
	for i := range out {
		h := result.NewHistogram()
		for range per {
			v := scale * medNs * math.Exp(sigma*rng.NormFloat64())
			_ = h.RecordValue(int64(v))
		}
		out[i] = h
	}
	return out
}

func mustSample(t testing.TB, hs []*hdrhistogram.Histogram) *Sample {
	t.Helper()
	s, err := NewSample(hs...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGeometryMatchesLibrary(t *testing.T) {
	for _, tc := range []struct {
		lowest, highest int64
		sig             int
	}{{1, int64(3600e9), 3}, {1000, int64(3600e9), 3}, {1, 1e6, 2}, {7, 1e9, 4}} {
		h := hdrhistogram.New(tc.lowest, tc.highest, tc.sig)
		g, err := newGeometry(h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			v := int64(math.Exp(rng.Float64() * math.Log(float64(tc.highest))))
			v = max(v, 1)
			h.Reset()
			_ = h.RecordValue(v)
			idx := g.index(v)
			if got, want := g.top(idx), h.ValueAtQuantile(100); got != want {
				t.Fatalf("%+v: top of bucket of %d = %d, library says %d", tc, v, got, want)
			}
			if got, want := g.lowest(idx), h.ValueAtQuantile(0); got != want {
				t.Fatalf("%+v: bottom of bucket of %d = %d, library says %d", tc, v, got, want)
			}
			if got, want := float64(g.median(idx)), h.Mean(); got != want {
				t.Fatalf("%+v: middle of bucket of %d = %v, library mean %v", tc, v, got, want)
			}
		}
	}
}

func TestPointMatchesMergedHistogram(t *testing.T) {
	hs := lognormalIntervals(7, 40, 2000, 2e6, 0.4, 1)
	s := mustSample(t, hs)
	merged := result.NewHistogram()
	for _, h := range hs {
		merged.Merge(h)
	}
	for _, q := range []float64{0.001, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		if got, want := Point(s, Stat{Kind: Quantile, Q: q}), float64(merged.ValueAtQuantile(q*100)); got != want {
			t.Errorf("Point(p%v) = %v, merged ValueAtQuantile = %v", q*100, got, want)
		}
	}
	if got, want := Point(s, Stat{Kind: Mean}), merged.Mean(); math.Abs(got-want) > 1e-9*want {
		t.Errorf("Point(mean) = %v, merged Mean = %v", got, want)
	}
	if s.Count() != merged.TotalCount() || s.Max() != merged.Max() || s.Min() != merged.Min() {
		t.Errorf("count/min/max = %d/%d/%d, merged %d/%d/%d", s.Count(), s.Min(), s.Max(), merged.TotalCount(), merged.Min(), merged.Max())
	}
}

func TestRequiredSamples(t *testing.T) {
	for _, tc := range []struct {
		q, conf float64
		t       int64
		want    int64
	}{
		{0.99, 0.99, 0, 459},
		{0.999, 0.99, 0, 4603},
		{0.9999, 0.99, 0, 46050},
		{0.99, 0.95, 0, 299},
		{0.5, 0.99, 0, 7},
		{0.99, 0.99, -1, -1},
		{1, 0.99, 0, -1},
	} {
		if got := RequiredSamples(tc.q, tc.conf, tc.t); got != tc.want {
			t.Errorf("RequiredSamples(%v, %v, %d) = %d, want %d", tc.q, tc.conf, tc.t, got, tc.want)
		}
	}
	// With exceedances: the result is the first n whose binomial tail is at most 1−conf.
	for _, tt := range []int64{1, 5, 50, 500} {
		n := RequiredSamples(0.999, 0.99, tt)
		if binomTail(n, tt, 0.999) > 0.01 || binomTail(n-1, tt, 0.999) <= 0.01 {
			t.Errorf("RequiredSamples(0.999, 0.99, %d) = %d is not the first n with tail ≤ 0.01", tt, n)
		}
		if got, ok := MaxExceedances(n, 0.999, 0.99); !ok || got != tt {
			t.Errorf("MaxExceedances(%d) = %d, %v; want %d", n, got, ok, tt)
		}
	}
	if ok, need := Sufficient(2000, 0.9999, 0.99); ok || need != 46050 {
		t.Errorf("Sufficient(2000, p99.99) = %v, %d; want false, 46050", ok, need)
	}
}

func TestHolm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     []float64
		alpha float64
		want  []bool
	}{
		{"none", []float64{0.2, 0.5}, 0.05, []bool{false, false}},
		{"step", []float64{0.01, 0.04, 0.03, 0.005}, 0.05, []bool{true, false, false, true}},
		{"all", []float64{0.01, 0.02, 0.025}, 0.05, []bool{true, true, true}},
		{"nan", []float64{math.NaN(), 0.001}, 0.01, []bool{false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Holm(tc.p, tc.alpha)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("Holm(%v) = %v, want %v", tc.p, got, tc.want)
				}
			}
		})
	}
}

func TestCompareDetectsShiftAndIsDeterministic(t *testing.T) {
	base := mustSample(t, lognormalIntervals(1, 100, 2000, 2e6, 0.3, 1))
	same := mustSample(t, lognormalIntervals(2, 100, 2000, 2e6, 0.3, 1))
	slow := mustSample(t, lognormalIntervals(3, 100, 2000, 2e6, 0.3, 1.2))
	st := P(99)
	r1 := Compare(base, slow, st, 0.99, DefaultOptions)
	r2 := Compare(base, slow, st, 0.99, DefaultOptions)
	if r1 != r2 {
		t.Fatalf("not deterministic: %+v vs %+v", r1, r2)
	}
	if !(r1.Lo > 1.1 && r1.Point > 1.15 && r1.PSlower < 0.001) {
		t.Errorf("+20%% shift not detected: %+v", r1)
	}
	aa := Compare(base, same, st, 0.99, DefaultOptions)
	if !(aa.Lo < 1 && aa.Hi > 1) {
		t.Errorf("A/A interval excludes 1: %+v", aa)
	}
	if base.fallbck+slow.fallbck+same.fallbck != 0 {
		t.Errorf("%d resamples fell outside the window", base.fallbck+slow.fallbck+same.fallbck)
	}
}
