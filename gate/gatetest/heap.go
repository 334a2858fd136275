package gatetest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// HeapPeak runs fn while sampling the live heap every millisecond, and returns the highest heap
// seen above the heap before fn (after a collection): a memory budget for a test, not a timing.
func HeapPeak(fn func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	peak := before
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	return peak - before
}
