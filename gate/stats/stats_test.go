package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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
		for i := range 2000 {
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
			if i%16 == 0 { // Mean walks every bucket: check a sixteenth of the values
				if got, want := float64(g.median(idx)), h.Mean(); got != want {
					t.Fatalf("%+v: middle of bucket of %d = %v, library mean %v", tc, v, got, want)
				}
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
	fast := mustSample(t, lognormalIntervals(4, 100, 2000, 2e6, 0.3, 0.8))
	for _, m := range []Method{Woodruff, Bootstrap} {
		for _, st := range []Stat{P(50), P(99), P(99.9), {Kind: Mean}} {
			t.Run(fmt.Sprintf("method%d/%v", m, st), func(t *testing.T) {
				o := DefaultOptions
				o.Method = m
				r1 := Compare(base, slow, st, 0.99, o)
				if r2 := Compare(base, slow, st, 0.99, o); r1 != r2 {
					t.Fatalf("not deterministic: %+v vs %+v", r1, r2)
				}
				if !(r1.Lo > 1.1 && r1.Point > 1.15 && r1.PSlower < 0.001 && r1.PFaster > 0.999) {
					t.Errorf("+20%% shift not detected: %+v", r1)
				}
				if r := Compare(base, fast, st, 0.99, o); !(r.Hi < 0.9 && r.PFaster < 0.001) {
					t.Errorf("−20%% improvement not detected: %+v", r)
				}
				for _, r := range []Ratio{r1, Compare(base, same, st, 0.99, o), Compare(same, base, st, 0.9, o)} {
					// The interval and the one-sided p-values must tell the same story.
					if (r.Lo > 1) != (r.PSlower < (1-r.Conf)/2) || (r.Hi < 1) != (r.PFaster < (1-r.Conf)/2) {
						t.Errorf("interval and p-values disagree: %+v", r)
					}
				}
				aa := Compare(base, same, st, 0.99, o)
				if !(aa.Lo < 1 && aa.Hi > 1 && aa.PSlower > 0.005 && aa.PFaster > 0.005) {
					t.Errorf("A/A interval excludes 1: %+v", aa)
				}
				if !(aa.Base.Lo < aa.Base.Point && aa.Base.Point < aa.Base.Hi) {
					t.Errorf("base estimate %v does not bracket its point", aa.Base)
				}
			})
		}
	}
	if n := base.fallbck + slow.fallbck + same.fallbck + fast.fallbck; n != 0 {
		t.Errorf("%d bootstrap resamples fell outside the quantile window", n)
	}
}

// TestWindowHoldsEveryResample drives the bootstrap's quantile window with awkward inputs
// (tiny and uneven intervals, empty ones, extreme quantiles) and checks each resample's
// quantile against an exact merge.
func TestWindowHoldsEveryResample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 30 {
		var hs []*hdrhistogram.Histogram
		for range 5 + rng.IntN(40) {
			h := result.NewHistogram()
			for range rng.IntN(30) {
				_ = h.RecordValue(1000 + int64(rng.ExpFloat64()*1e5))
			}
			hs = append(hs, h)
		}
		s := mustSample(t, hs)
		if s.Count() == 0 {
			continue
		}
		bs := s.blockSet(1 + rng.IntN(4))
		for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.9999, 1} {
			w := bs.window(s, q)
			mult := make([]int32, len(bs.blocks))
			for range 50 {
				bs.draw(rng, mult)
				var n int64
				for b, k := range mult {
					n += int64(k) * bs.blocks[b].total
				}
				if n == 0 {
					continue
				}
				got := w.quantile(s, bs, mult)
				if want := w.exact(s, bs, mult, percentileRank(q, n)); got != want {
					t.Fatalf("trial %d q=%v: window gives %v, exact merge %v", trial, q, got, want)
				}
			}
		}
	}
}

func TestIntervalAndMissRate(t *testing.T) {
	s := mustSample(t, lognormalIntervals(5, 80, 1000, 2e6, 0.3, 1))
	e := Interval(s, P(99), 0.99, DefaultOptions)
	if !(e.Lo < e.Point && e.Point < e.Hi) || e.N != 80000 || e.Intervals != 80 || e.Blocks < MinBlocks {
		t.Errorf("Interval = %v", e)
	}
	// The true p99 of the lognormal: 2ms·exp(0.3·2.326) ≈ 4.02 ms.
	if truth := 2e6 * math.Exp(0.3*2.3263); !(e.Lo < truth && truth < e.Hi) {
		t.Errorf("Interval %v misses the true p99 %.0f", e, truth)
	}
	m := MissRate(s, int64(e.Point), 0.99, DefaultOptions)
	if !(m.Point > 0.005 && m.Point < 0.011 && m.Lo < m.Point && m.Point < m.Hi) {
		t.Errorf("MissRate at the p99 = %v, want about 1%%", m)
	}
	if m := MissRate(s, s.Max(), 0.99, DefaultOptions); m.Point != 0 {
		t.Errorf("MissRate above the max = %v, want 0", m)
	}
	empty := &Sample{}
	if e := Interval(empty, P(99), 0.99, DefaultOptions); !math.IsNaN(e.Point) || !math.IsNaN(e.Lo) {
		t.Errorf("empty Interval = %v, want NaN", e)
	}
	if r := Compare(empty, s, P(99), 0.99, DefaultOptions); !math.IsNaN(r.Point) || !math.IsNaN(r.PSlower) {
		t.Errorf("Compare with an empty base = %+v, want NaN", r)
	}
	bound, tt, ok := EarlyStopBound(s, 0.99, 0.99)
	if !ok || tt <= 0 || bound < e.Point {
		t.Errorf("EarlyStopBound = %v, %d, %v; want a bound ≥ the p99 %v", bound, tt, ok, e.Point)
	}
}

func TestAddRejectsMismatchedGeometry(t *testing.T) {
	a := result.NewHistogram()
	_ = a.RecordValue(1000)
	b := hdrhistogram.New(1, int64(3600e9), 2)
	_ = b.RecordValue(1000)
	_, err := NewSample(a, nil, b)
	if err == nil || !strings.Contains(err.Error(), "interval 1: nil histogram") || !strings.Contains(err.Error(), "interval 2: histogram geometry") {
		t.Errorf("NewSample(mixed) error = %v; want both intervals named", err)
	}
}

func TestAutoBlockLen(t *testing.T) {
	for _, tc := range []struct {
		intervals, want int
	}{{5, 1}, {50, 6}, {400, 50}, {1000, 100}} { // ⌈n^(2/3)⌉, at most n/MinBlocks
		s := &Sample{}
		h := result.NewHistogram()
		rng := rand.New(rand.NewPCG(6, uint64(tc.intervals)))
		for range tc.intervals {
			h.Reset()
			for range 50 {
				_ = h.RecordValue(int64(2e6 * math.Exp(0.3*rng.NormFloat64())))
			}
			if err := s.Add(h); err != nil {
				t.Fatal(err)
			}
		}
		if l := AutoBlockLen(s); l != tc.want {
			t.Errorf("AutoBlockLen(%d independent intervals) = %d, want %d", tc.intervals, l, tc.want)
		}
	}
}

func TestPolitisWhite(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	iid := make([]float64, 2000)
	ar := make([]float64, 2000)
	for i := range iid {
		iid[i] = rng.NormFloat64()
		if i > 0 {
			ar[i] = 0.9*ar[i-1] + rng.NormFloat64()
		}
	}
	if l := politisWhite(iid); l > 3 {
		t.Errorf("politisWhite(iid) = %d, want ≤ 3", l)
	}
	// For AR(1) with φ = 0.9, G/g(0) = 2φ/(1−φ²) and b = (1.5·(G/g)²)^(1/3)·n^(1/3) ≈ 65.
	if l := politisWhite(ar); l < 40 || l > 100 {
		t.Errorf("politisWhite(AR(1) 0.9) = %d, want about 65", l)
	}
}

// FuzzPoint records arbitrary values into a few intervals and checks that the Sample's
// quantiles, count and extremes agree with HdrHistogram's merged histogram.
func FuzzPoint(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 7}, uint8(3))
	f.Add([]byte{255, 0, 0, 0, 255}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, nIntervals uint8) {
		k := int(nIntervals%8) + 1
		hs := make([]*hdrhistogram.Histogram, k)
		merged := result.NewHistogram()
		for i := range hs {
			hs[i] = result.NewHistogram()
		}
		for i := 0; i+1 < len(data); i += 2 {
			v := int64(data[i])<<uint(data[i+1]%40) + 1
			if v > result.HighestNs {
				continue
			}
			_ = hs[i/2%k].RecordValue(v)
			_ = merged.RecordValue(v)
		}
		s, err := NewSample(hs...)
		if err != nil {
			t.Fatal(err)
		}
		if s.Count() != merged.TotalCount() || s.Max() != merged.Max() || s.Min() != merged.Min() {
			t.Fatalf("count/min/max %d/%d/%d, merged %d/%d/%d", s.Count(), s.Min(), s.Max(), merged.TotalCount(), merged.Min(), merged.Max())
		}
		if s.Count() == 0 {
			return
		}
		for _, q := range []float64{0.001, 0.5, 0.99, 0.999, 1} {
			if got, want := Point(s, Stat{Kind: Quantile, Q: q}), float64(merged.ValueAtQuantile(q*100)); got != want {
				t.Fatalf("p%v = %v, merged %v", q*100, got, want)
			}
		}
	})
}

// TestPolitisWhiteShortWhiteNoise: on 60 independent points Politis and White's estimate is
// noise, and a long length would call a run of independent intervals too short for its
// autocorrelation. A series whose long-run variance estimate is not above its variance (no
// positive dependence) gets blocks of one; every length is capped at min(3√n, n/3).
func TestPolitisWhiteShortWhiteNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	long := 0
	const runs = 500
	for range runs {
		x := make([]float64, 60)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		l := politisWhite(x)
		if l > 20 {
			t.Fatalf("politisWhite(60 points) = %d, above the cap min(3√60, 60/3) = 20", l)
		}
		if l > 60/MinBlocks {
			long++
		}
	}
	if long > runs/50 {
		t.Errorf("%d of %d white series of 60 points got blocks longer than 60/%d", long, runs, MinBlocks)
	}
	// Alternating signs: strongly negative dependence, blocks of one are conservative.
	x := make([]float64, 200)
	for i := range x {
		x[i] = float64(1-2*(i%2)) + 0.1*rng.NormFloat64()
	}
	if l := politisWhite(x); l != 1 {
		t.Errorf("politisWhite(alternating) = %d, want 1", l)
	}
}

func TestRatioBlockLen(t *testing.T) {
	for _, tc := range []struct {
		c    BlockChoice
		n    int
		want int
	}{
		{BlockChoice{Needed: 2}, 120, 4},                       // a 2-minute PR run keeps 30 blocks
		{BlockChoice{Needed: 9}, 120, 9},                       // its autocorrelation needs more: 14 blocks
		{BlockChoice{Needed: 3}, 3600, 120},                    // an hour: raised towards n^(2/3) = 235, 30 blocks
		{BlockChoice{Needed: 3}, 100000, 2155},                 // n^(2/3) binds
		{BlockChoice{Needed: 20, NeedIntervals: 160}, 120, 15}, // too short: capped at n/MinBlocks
	} {
		if got := RatioBlockLen(tc.c, tc.n); got != tc.want {
			t.Errorf("RatioBlockLen(%+v, %d) = %d, want %d", tc.c, tc.n, got, tc.want)
		}
	}
}
