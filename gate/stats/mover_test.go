package stats

import (
	"math"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// TestMoverFloorAndBetweenRun: runs whose every sample falls in one bucket still get an
// interval of at least a bucket each way (never se = 0, never a certain change), and a
// between-run SD widens the log interval by z·√2·σ in quadrature.
func TestMoverFloorAndBetweenRun(t *testing.T) {
	flat := func() *Sample {
		var hs []*hdrhistogram.Histogram
		for range 40 {
			h := result.NewHistogram()
			for range 500 {
				_ = h.RecordValue(2_000_000)
			}
			hs = append(hs, h)
		}
		return mustSample(t, hs)
	}
	a, b := flat(), flat()
	r := Compare(a, b, P(99), 0.99, DefaultOptions)
	bucket := a.bucketFloor(r.Base.Point)
	if !(bucket > 1.0/2100 && bucket < 1.0/1000) {
		t.Fatalf("bucket floor %v, want about 1/2048..1/1024", bucket)
	}
	if got := math.Log(r.Hi); math.Abs(got-math.Sqrt2*bucket) > 1e-12 || math.Abs(math.Log(r.Lo)+got) > 1e-12 {
		t.Errorf("one-bucket runs: [%v, %v], want ±√2 buckets (%v)", r.Lo, r.Hi, math.Sqrt2*bucket)
	}
	if r.PSlower != 0.5 || r.PFaster != 0.5 {
		t.Errorf("identical one-bucket runs: p %v %v, want 0.5 0.5", r.PSlower, r.PFaster)
	}

	base := mustSample(t, lognormalIntervals(1, 100, 2000, 2e6, 0.3, 1))
	cand := mustSample(t, lognormalIntervals(2, 100, 2000, 2e6, 0.3, 1.03))
	o := DefaultOptions
	r0 := Compare(base, cand, P(99), 0.99, o)
	o.BetweenRunSD = 0.02
	r1 := Compare(base, cand, P(99), 0.99, o)
	z := normalQ(0.995) * math.Sqrt2 * 0.02
	lo0, lo1 := math.Log(r0.Point/r0.Lo), math.Log(r1.Point/r1.Lo)
	if math.Abs(lo1*lo1-lo0*lo0-z*z) > 1e-9 || r1.BetweenRunSD != 0.02 {
		t.Errorf("lower distance %v → %v, want the between-run term %v added in quadrature", lo0, lo1, z)
	}
	if !(r1.PSlower > r0.PSlower) {
		t.Errorf("between-run variance did not weaken the evidence: p %v → %v", r0.PSlower, r1.PSlower)
	}
}

// TestMoverPValuesAgreeWithIntervals: at several confidences and shifts the inverted p-values
// and the intervals never disagree, and the interval is asymmetric in the tail as the runs'
// Woodruff limits are.
func TestMoverPValuesAgreeWithIntervals(t *testing.T) {
	base := mustSample(t, lognormalIntervals(11, 120, 300, 2e6, 0.4, 1))
	for i, scale := range []float64{0.95, 0.99, 1, 1.01, 1.03, 1.06, 1.1} {
		cand := mustSample(t, lognormalIntervals(uint64(20+i), 120, 300, 2e6, 0.4, scale))
		for _, st := range []Stat{P(50), P(99), P(99.9)} {
			for _, conf := range []float64{0.8, 0.9, 0.95, 0.99, 0.999} {
				r := Compare(base, cand, st, conf, DefaultOptions)
				a := (1 - conf) / 2
				if (r.Lo > 1) != (r.PSlower < a) || (r.Hi < 1) != (r.PFaster < a) {
					t.Errorf("%v ×%v @%v: [%v, %v] but p %v %v", st, scale, conf, r.Lo, r.Hi, r.PSlower, r.PFaster)
				}
				if !(r.Lo < r.Point && r.Point < r.Hi) {
					t.Errorf("%v ×%v @%v: %v not inside [%v, %v]", st, scale, conf, r.Point, r.Lo, r.Hi)
				}
			}
		}
	}
}
