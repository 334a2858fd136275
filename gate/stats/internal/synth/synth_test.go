package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// TestProcesses checks each process's median and the effect of Scale and Seed: a calibration
// on a process that is not what its name says would measure nothing.
func TestProcesses(t *testing.T) {
	for _, p := range Processes {
		t.Run(string(p), func(t *testing.T) {
			merge := func(seed uint64, scale float64) *hdrhistogram.Histogram {
				m := result.NewHistogram()
				if err := Each(Spec{Process: p, Seed: seed, Intervals: 100, PerIntvl: 500, Scale: scale}, func(h *hdrhistogram.Histogram) error {
					m.Merge(h)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return m
			}
			a, again, other, slow := merge(1, 1), merge(1, 1), merge(2, 1), merge(1, 1.1)
			if a.TotalCount() != 50000 || !a.Equals(again) {
				t.Fatalf("count %d, same seed equal: %v", a.TotalCount(), a.Equals(again))
			}
			if a.Equals(other) {
				t.Error("seeds 1 and 2 gave the same run")
			}
			if med := float64(a.ValueAtQuantile(50)); math.Abs(med/MedianNs-1) > 0.08 {
				t.Errorf("median %.0f, want about %.0f", med, MedianNs)
			}
			if r := float64(slow.ValueAtQuantile(99)) / float64(a.ValueAtQuantile(99)); math.Abs(r-1.1) > 0.005 {
				t.Errorf("Scale 1.1 moved p99 by %.4f, want 1.1", r)
			}
		})
	}
	if _, err := New(Spec{Process: "brownian"}); err == nil {
		t.Error("unknown process accepted")
	}
}

// TestQuantile checks the closed-form true quantiles against many short runs pooled: the
// absolute rules' truth is only as good as these numbers.
func TestQuantile(t *testing.T) {
	for _, p := range Processes {
		t.Run(string(p), func(t *testing.T) {
			var all []float64
			buf := make([]float32, 1000)
			for seed := range uint64(200) {
				g, _ := New(Spec{Process: p, Seed: seed, Intervals: 5, PerIntvl: len(buf), Rate: 1000})
				for g.Draw(buf) {
					for _, v := range buf {
						all = append(all, float64(v)*MedianNs)
					}
				}
			}
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.99, 0.999} {
				emp := all[int(q*float64(len(all)))]
				tru := Quantile(p, q)
				if math.Abs(emp/tru-1) > 0.02 {
					t.Errorf("q=%v: empirical %.0f, Quantile %.0f", q, emp, tru)
				}
				if c := CDF(p, tru); math.Abs(c-q) > 1e-9 {
					t.Errorf("CDF(Quantile(%v)) = %v", q, c)
				}
			}
		})
	}
}

// TestStationaryStart: the drift of the first second is drawn from its stationary law, not
// zero, and the run offset moves the whole run by exp(sd·Z).
func TestStationaryStart(t *testing.T) {
	var logs []float64
	buf := make([]float32, 300)
	for seed := range uint64(400) {
		g, _ := New(Spec{Process: AR1, Seed: seed, Intervals: 1, PerIntvl: 300})
		g.Draw(buf)
		var s float64
		for _, v := range buf {
			s += math.Log(float64(v))
		}
		logs = append(logs, s/float64(len(buf)))
	}
	var m, v float64
	for _, x := range logs {
		m += x
	}
	m /= float64(len(logs))
	for _, x := range logs {
		v += (x - m) * (x - m)
	}
	// The mean log of the first second holds the drift (sd 0.04) and the burst state, which
	// is slow over 300 samples; without a stationary start its sd would be well under 0.06.
	if sd := math.Sqrt(v / float64(len(logs)-1)); sd < 0.07 {
		t.Errorf("first-second mean log sd %.3f: the process starts from a fixed state", sd)
	}
	h1, h2 := result.NewHistogram(), result.NewHistogram()
	g1, _ := New(Spec{Process: IID, Seed: 5, Intervals: 1, PerIntvl: 1000})
	g2, _ := New(Spec{Process: IID, Seed: 5, Intervals: 1, PerIntvl: 1000, OffsetSD: 0.02})
	g1.Next(h1)
	g2.Next(h2)
	want := math.Exp(0.02 * g1.OffsetZ())
	if r := float64(h2.ValueAtQuantile(50)) / float64(h1.ValueAtQuantile(50)); math.Abs(r/want-1) > 0.002 {
		t.Errorf("offset moved the median by %.4f, want %.4f", r, want)
	}
}

// TestBinner: the sparse buckets are exactly what HdrHistogram records.
func TestBinner(t *testing.T) {
	b := NewBinner()
	rng := rand.New(rand.NewPCG(1, 2))
	draws := make([]float32, 20000)
	for i := range draws {
		draws[i] = float32(math.Exp(3 * rng.NormFloat64()))
	}
	draws = append(draws, 0, 1e-9, 1e12)
	for _, f := range []float64{1, 2e6, 1.07e6} {
		h := result.NewHistogram()
		for _, d := range draws {
			if err := h.RecordValue(clamp(float64(d) * f)); err != nil {
				t.Fatal(err)
			}
		}
		want := h.Export().Counts
		got := b.Bin(draws, f)
		if got.Total != int64(len(draws)) {
			t.Fatalf("total %d", got.Total)
		}
		n := 0
		for i, idx := range got.Index {
			if want[idx] != got.Count[i] {
				t.Fatalf("f=%v: bucket %d (value %d): %d, want %d", f, idx, got.Value(i), got.Count[i], want[idx])
			}
			n++
		}
		nz := 0
		for _, c := range want {
			if c > 0 {
				nz++
			}
		}
		if nz != n {
			t.Fatalf("f=%v: %d buckets, want %d", f, n, nz)
		}
	}
}
