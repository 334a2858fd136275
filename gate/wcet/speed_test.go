package wcet

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkFitGEV is one maximum-likelihood fit of 100 block maxima (gonum Nelder–Mead, two
// starts); an analysis makes 1 + Bootstrap of them (the refits warm-started, one start).
func BenchmarkFitGEV(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 100)
	w := make([]float64, 100)
	for i := range x {
		x[i] = expTail.blockMax(r, 1000)
		w[i] = 1
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := fitGEV(x, w, false, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyze is a whole default analysis (GEV, 199 bootstrap refits) of 100 intervals.
func BenchmarkAnalyze(b *testing.B) {
	ivs := maximaOf(expTail, rand.New(rand.NewPCG(2, 2)), 100, 1000)
	b.ReportAllocs()
	for b.Loop() {
		a, err := Analyze(ivs, Options{})
		if err != nil || !a.Valid {
			b.Fatal(err, a.Reason)
		}
	}
}
