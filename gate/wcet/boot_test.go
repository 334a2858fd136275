package wcet

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestWorkersSameResult analyses the same blocks with the bootstrap refits on 1 and on 4
// goroutines, for every method, and requires the same JSON (fit, tests, refit counts) and the
// same bounds to the last bit: the refits' samples are drawn in order from the one generator.
func TestWorkersSameResult(t *testing.T) {
	ivs := maximaOf(expTail, rand.New(rand.NewPCG(11, 12)), 120, 800)
	for _, m := range []Method{GEV, Gumbel, GPD} {
		var outs [][]byte
		for _, workers := range []int{1, 4} {
			a, err := Analyze(ivs, Options{Method: m, Bootstrap: 59, TailSize: 200, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if !a.Valid && m != GPD { // the GPD's fit test fails on these maxima-only histograms
				t.Fatalf("%s: %s", m, a.Reason)
			}
			b, err := json.Marshal(struct {
				A *Analysis
				B []Bound
			}{a, a.Bounds(DefaultProbs)})
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, b)
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: 1 worker\n%s\n4 workers\n%s", m, outs[0], outs[1])
		}
	}
	if err := (Options{Method: GEV, Alpha: 0.05, Confidence: 0.95, Bootstrap: 99, MinBlocks: 30, MinBlockFill: 0.1, TailSize: 500, Workers: -1}).Validate(); err == nil {
		t.Error("negative workers: no error")
	}
}

// TestNegLogLikPow checks the fits' likelihood sum is, bit for bit, the sum of logPDFPow it
// replaces, inside and outside the support and at ξ = 0.
func TestNegLogLikPow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	z, w, lw := make([]float64, 500), make([]float64, 500), make([]float64, 500)
	for i := range z {
		z[i], w[i] = 3*r.NormFloat64(), 0.5+r.Float64()
		lw[i] = math.Log(w[i])
	}
	for _, d := range []gev{{0.1, 1.3, 0.2}, {-0.2, 0.7, -0.3}, {0, 1, 0}, {0.3, 0.9, 1e-12}, {0, 0.2, 0.9}} {
		var want float64
		for i, v := range z {
			want -= d.logPDFPow(v, w[i])
		}
		if got := d.negLogLikPow(z, w, lw); math.Float64bits(got) != math.Float64bits(want) && !(math.IsInf(got, 1) && math.IsInf(want, 1)) {
			t.Errorf("%+v: %v, want %v", d, got, want)
		}
	}
}
