package harness

import "testing"

// The writer reads these once per interval while the GC is off: they must not allocate.
func TestRuntimeCounterAllocatesNothing(t *testing.T) {
	for _, name := range []string{gcCyclesMetric, heapObjectsMetric} {
		c := newRuntimeCounter(name)
		if c.read() == 0 && name == heapObjectsMetric {
			t.Errorf("%s read 0", name)
		}
		if n := testing.AllocsPerRun(100, func() { c.read() }); n != 0 {
			t.Errorf("%s: %v allocations per read, want 0", name, n)
		}
	}
}
