package harness

import (
	"math"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
)

// TestLoopOverORTDoesNotAllocate runs the real timed loop over the real ONNX Runtime backend
// on the fixture models, adversarial classes included, and requires zero Go allocations.
func TestLoopOverORTDoesNotAllocate(t *testing.T) {
	ortlibtest.Load(t)
	root := ortlibtest.RepoRoot(t)
	for _, tc := range []struct {
		model  string
		inputs []string
	}{
		{"vision-fp32.onnx", []string{"x=1x3x96x96:adversarial"}},
		{"tinylm.onnx", nil},
		{"dynamic.onnx", []string{"x=4x16", "k=scalar:const=3"}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			specs, err := inputs.ParseSpecs(tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ortbackend.Open(ortbackend.Options{Model: filepath.Join(root, "fixtures/models", tc.model), Inputs: specs, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			n := len(b.Classes())
			l := &loop{b: b, nclass: n, cur: newBuffer(n), stop: new(atomic.Bool), highest: result.HighestNs, intervalNs: 1, breakAt: math.MaxInt64}
			l.spare.Store(newBuffer(n))
			allocs := testing.AllocsPerRun(5, func() {
				if err := l.run(int64(2*n), math.MaxInt64); err != nil {
					t.Fatal(err)
				}
				if full := l.full.Swap(nil); full != nil {
					full.reset()
					l.spare.Store(full)
				}
			})
			if allocs != 0 {
				t.Fatalf("timed loop over ONNX Runtime allocated %.1f times per %d samples, want 0", allocs, 2*n)
			}
		})
	}
}
