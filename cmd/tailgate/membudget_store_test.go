package main

import (
	"path/filepath"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestCompareStoreMemoryBudget: compare --store streams the stored baseline. On a long pair
// (600 intervals a side: 160 MB as the dense interval histograms a whole-result read builds)
// the heap stays within a budget a streamed read keeps with room to spare (it needs a few MB),
// so a path that materialises the stored log again fails here.
func TestCompareStoreMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a long pair")
	}
	const budget = 48 << 20
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	mk := func(name string, seed uint64) string {
		return gatetest.Write(t, filepath.Join(dir, name), gatetest.Spec{Suite: "long", Intervals: 600, PerIv: 100, Seed: seed,
			Process: tailProcess(1)}).Dir
	}
	base, cand := mk("base", 1), mk("cand", 2)
	if code, out, errs := runCLI(t, "baseline", "promote", base, "--store", store, "--force", "--reason", "budget"); code != 0 {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errs)
	}
	var code int
	var stderr string
	peak := gatetest.HeapPeak(func() { code, _, stderr = runCLI(t, "compare", cand, "--store", store, "--format", "json") })
	if code != exitPass && code != exitRegression && code != exitInconclusive {
		t.Fatalf("compare --store: exit %d\n%s", code, stderr)
	}
	t.Logf("compare --store of a 600-interval pair: heap peak %.1f MB above the start", float64(peak)/(1<<20))
	if peak > budget {
		t.Errorf("compare --store: heap peak %.1f MB, budget %d MB: is the stored baseline read whole again?", float64(peak)/(1<<20), budget>>20)
	}
}
