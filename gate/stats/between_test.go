package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBetweenRunSD(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	const sigma = 0.02
	series := func(n int, f func(i int) float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = math.Log(3e6) + f(i) + sigma*rng.NormFloat64()
		}
		return xs
	}
	// Averaged over many histories the estimate is σ within a few percent (the MAD's bias on
	// a short series is small); a trend and one outlier barely move it.
	cases := []struct {
		name string
		f    func(int) float64
	}{
		{"stable", func(int) float64 { return 0 }},
		{"trend", func(i int) float64 { return 0.002 * float64(i) }},
		{"one outlier night", func(i int) float64 {
			if i == 30 {
				return 0.5
			}
			return 0
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sum float64
			const reps = 400
			for range reps {
				sum += BetweenRunSD(series(60, c.f))
			}
			if got := sum / reps; math.Abs(got/sigma-1) > 0.08 {
				t.Errorf("mean estimate %.4f, want %.4f ± 8%%", got, sigma)
			}
		})
	}
	if v := BetweenRunSD([]float64{1, 2}); !math.IsNaN(v) {
		t.Errorf("two values give %v, want NaN", v)
	}
	if v := BetweenRunSD([]float64{1, math.NaN(), 1, 1, math.Inf(1)}); v != 0 {
		t.Errorf("constant series with NaN and Inf gives %v, want 0", v)
	}
}
