package result

import (
	"math/rand/v2"
	"testing"
)

// TestBucketsValueAtQuantile checks ValueAtQuantile against hdrhistogram's on random
// histograms of random geometries, decoded into Buckets, at the quantiles the report draws and
// at the edges.
func TestBucketsValueAtQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	d := NewDecoder()
	enc, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	qs := []float64{0, 1e-9, 25, 50, 90, 99, 99.9, 99.99, 100, 150}
	for i := range 200 {
		h := randomHist(rng)
		payload, err := enc.AppendPayload(nil, h)
		if err != nil {
			t.Fatal(err)
		}
		b, err := d.Decode(payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range append(qs, 100*rng.Float64()) {
			if got, want := b.ValueAtQuantile(q), h.ValueAtQuantile(q); got != want {
				t.Fatalf("histogram %d (%d samples): q %g: %d, library %d", i, h.TotalCount(), q, got, want)
			}
		}
	}
	if v := (&Buckets{Lowest: 1, Highest: 1000, SigFigs: 2}).ValueAtQuantile(50); v != 0 {
		t.Errorf("empty: %d", v)
	}
}
