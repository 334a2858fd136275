package synth

import (
	"math"
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
