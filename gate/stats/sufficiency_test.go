package stats

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

func TestNeedSamples(t *testing.T) {
	for _, tc := range []struct {
		q, conf float64
		t       int64
		vif     float64
		want    int64
	}{
		{0.99, 0.99, 0, 1, 459},
		{0.99, 0.99, 0, 2, 918},
		{0.99, 0.99, 0, 0.5, 459}, // never credited with more than independence
		{0.999, 0.99, 0, 3.5, int64(math.Ceil(4603 * 3.5))},
		{0.99, 0.99, 10, 1, RequiredSamples(0.99, 0.99, 10)},
		// 10 exceedances among autocorrelated samples with VIF 5 weigh as 2 independent ones.
		{0.99, 0.99, 10, 5, 5 * RequiredSamples(0.99, 0.99, 2)},
		{0.99, 0.99, 11, 5, 5 * RequiredSamples(0.99, 0.99, 3)}, // rounded up: the safe side
		{1.5, 0.99, 0, 2, -1},
		{0.99, 0.99, 0, math.Inf(1), -1},
	} {
		if got := NeedSamples(tc.q, tc.conf, tc.t, tc.vif); got != tc.want {
			t.Errorf("NeedSamples(%v, %v, %d, %v) = %d, want %d", tc.q, tc.conf, tc.t, tc.vif, got, tc.want)
		}
	}
}

// shares returns per-interval counts: n samples an interval, of which a share p_i counts, where
// p_i follows an AR(1) with coefficient phi around 0.5 (phi 0: independent intervals).
func shares(seed uint64, intervals int, phi float64) (a, n []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	a, n = make([]float64, intervals), make([]float64, intervals)
	x := 0.0
	for i := range intervals {
		x = phi*x + math.Sqrt(1-phi*phi)*rng.NormFloat64()
		p := 0.5 + 0.1*x
		n[i] = 1000
		for range 1000 {
			if rng.Float64() < p {
				a[i]++
			}
		}
	}
	return a, n
}

func TestChooseBlocks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		intervals int
		phi       float64
		tooShort  bool
		wantLen   int // 0: not checked
	}{
		// Independent intervals: Politis–White's length is short and the n^(2/3) floor, capped
		// at n/MinBlocks, sets the length; never too short.
		{"independent, 120 intervals", 120, 0, false, 15},
		{"independent, 1000 intervals", 1000, 0, false, 100},
		// A share that wanders over ~100 intervals: 120 intervals cannot hold 8 such blocks.
		{"AR(1) 0.99, 120 intervals", 120, 0.99, true, 0},
		{"AR(1) 0.9, 4000 intervals", 4000, 0.9, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, n := shares(1, tc.intervals, tc.phi)
			c := ChooseBlocks(a, n)
			if c.TooShort() != tc.tooShort {
				t.Fatalf("%+v: too short %v, want %v", c, c.TooShort(), tc.tooShort)
			}
			if tc.wantLen != 0 && c.Len != tc.wantLen {
				t.Errorf("%+v: length %d, want %d", c, c.Len, tc.wantLen)
			}
			if c.Len < c.Needed {
				t.Errorf("%+v: shorter than needed", c)
			}
			if c.TooShort() {
				if c.NeedIntervals != MinBlocks*c.Needed || c.NeedIntervals <= tc.intervals {
					t.Errorf("%+v: need %d intervals", c, c.NeedIntervals)
				}
				if r := c.Reason(tc.intervals); !strings.Contains(r, "run too short for its autocorrelation: need ≥ ") {
					t.Errorf("reason %q", r)
				}
			} else if c.Blocks < MinBlocks {
				t.Errorf("%+v: %d blocks", c, c.Blocks)
			}
		})
	}
}

// A quantile whose samples all sit in one bucket still gets bounds a bucket apart: zero
// variance must not make a zero-width interval.
func TestQuantileBoundOneBucket(t *testing.T) {
	s := &Sample{}
	for range 64 {
		h := hdrhistogram.New(1, 3_600_000_000_000, 3)
		for range 100 {
			h.RecordValue(5_000_000)
		}
		if err := s.Add(h); err != nil {
			t.Fatal(err)
		}
	}
	b := QuantileBound(s, 0.99, 0.99)
	idx := s.geom.index(5_000_000)
	if b.Lo != float64(s.geom.lowest(idx)) || b.Hi != float64(s.geom.top(idx)) || b.Point != b.Hi {
		t.Errorf("%+v, want [%d, %d]", b, s.geom.lowest(idx), s.geom.top(idx))
	}
	if b.VIF != 1 {
		t.Errorf("VIF %v with no variance at all, want 1", b.VIF)
	}
}

// The one-sided bounds of the miss share and the p99 cover the truth at least as often as their
// confidence says on independent runs (seeded; 120 runs of 240 intervals). synth's AR1 starts
// every run at zero drift, so its short runs are not draws from the long run's distribution;
// the autocorrelated case is gate's TestAbsoluteCalibration, on a process started stationary.
func TestTailBoundCoverage(t *testing.T) {
	const runs, intervals, per = 120, 240, 300
	for _, pr := range []synth.Process{synth.IID} {
		// The truth is the quantile of a long run of the same process.
		long := &Sample{}
		if err := synth.Each(synth.Spec{Process: pr, Seed: 999, Intervals: 4000, PerIntvl: per}, long.Add); err != nil {
			t.Fatal(err)
		}
		p99 := Point(long, P(99))
		deadline := int64(p99)
		truthMiss := MissBound(long, deadline, 0.9).Point
		var hiQ, loQ, hiM, loM, short int
		for seed := range runs {
			s := &Sample{}
			if err := synth.Each(synth.Spec{Process: pr, Seed: uint64(seed + 1), Intervals: intervals, PerIntvl: per}, s.Add); err != nil {
				t.Fatal(err)
			}
			q := QuantileBound(s, 0.99, 0.95)
			m := MissBound(s, deadline, 0.95)
			if q.Blocks.TooShort() {
				short++
				continue
			}
			if q.Hi < p99 {
				hiQ++
			}
			if q.Lo > p99 {
				loQ++
			}
			if m.Hi < truthMiss {
				hiM++
			}
			if m.Lo > truthMiss {
				loM++
			}
		}
		t.Logf("%s: misses of one-sided 0.95 bounds in %d runs (%d too short): p99 upper %d lower %d; miss share upper %d lower %d",
			pr, runs, short, hiQ, loQ, hiM, loM)
		// Nominal 5 % each (6 of 120); allow binomial noise up to 10 %.
		for name, k := range map[string]int{"p99 upper": hiQ, "p99 lower": loQ, "miss upper": hiM, "miss lower": loM} {
			if k > runs/10 {
				t.Errorf("%s: %s bound missed the truth in %d of %d runs", pr, name, k, runs)
			}
		}
	}
}
