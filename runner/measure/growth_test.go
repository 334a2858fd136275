package measure

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/progress"
)

// maxAllocPerInterval bounds what the whole measurement path (harness writer, log, telemetry
// sampler and file, metrics fold, progress line) may allocate per interval once warmed up. The
// GC is off while timing, so every byte allocated per interval stays resident until the run
// ends (or the GC budget forces a collection): a 48-hour run at 100 ms intervals has 1.7 million
// of them. Issue 16 measured ~1.35 KB of RSS per interval; the path is meant to allocate
// nothing, and the bound is generous only to stay clear of runtime noise (a timer, a goroutine
// stack growing).
const maxAllocPerInterval = 64 // bytes

// maxAllocPerScrape bounds what a scrape of --metrics-addr allocates on the serving side
// (net/http's own per-request work included); issue 16's run scraped every 10 s and the
// Prometheus client library's handler allocated ~200 KB per scrape.
const maxAllocPerScrape = 16 << 10 // bytes

// TestRunMemoryDoesNotGrow times a synthetic run at 5 ms intervals through Measure with
// telemetry, a metrics endpoint and plain progress, and reads the runtime's cumulative
// allocation counter at interval swaps. With the GC off while timing, allocation is growth:
// the steady-state allocation per interval must be about zero, and per scrape small.
func TestRunMemoryDoesNotGrow(t *testing.T) {
	const (
		warm     = 40  // intervals before the first reading
		n        = 200 // intervals between the readings
		interval = 5 * time.Millisecond
		scrapeAt = warm + n + 1 // the scrapes start after the last reading
		scrapes  = 10
	)
	// The run is ended by the test once the scrapes are done (an interval can run long when
	// the writer is late, so the count of intervals in a duration is not fixed).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := Resolve(Request{Name: "growth", Out: t.TempDir(), Overrides: Overrides{
		Backend: ptr("synthetic"), Synthetic: ptr("const:d=200us"), Duration: ptr(2 * time.Minute),
		Interval: ptr(interval), Warmup: ptr("50"), Sched: ptr("other"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Readings by interval index; the slice is allocated before the run.
	allocs := make([]uint64, warm+n+1)
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	scrapeNow := make(chan struct{})
	var scrapesDone atomic.Bool
	afterInterval = func(st harness.IntervalStats) {
		if st.Index < len(allocs) {
			metrics.Read(sample)
			allocs[st.Index] = sample[0].Value.Uint64()
		}
		if st.Index == scrapeAt {
			close(scrapeNow)
		}
		if scrapesDone.Load() {
			cancel()
		}
	}
	defer func() { afterInterval = nil }()

	// The scraper is a raw TCP client with its buffers allocated up front, so the allocation it
	// adds to the counter is a connection's, not an HTTP client's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	var scraped atomic.Int32
	var scrapeAllocs atomic.Uint64
	go func() {
		<-scrapeNow
		req := []byte("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		buf := make([]byte, 64<<10)
		s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
		metrics.Read(s)
		a0 := s[0].Value.Uint64()
		defer scrapesDone.Store(true)
		for range scrapes {
			c, err := net.Dial("tcp", metricsAddr)
			if err != nil {
				return
			}
			_, _ = c.Write(req)
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			c.Close()
			scraped.Add(1)
		}
		metrics.Read(s)
		scrapeAllocs.Store(s[0].Value.Uint64() - a0)
		scrapesDone.Store(true)
	}()

	_, err = Measure(ctx, p, Options{MetricsAddr: metricsAddr, Log: io.Discard, Progress: progress.Plain})
	if err != nil && !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	a, b := allocs[warm], allocs[warm+n]
	if a == 0 || b == 0 {
		t.Fatalf("no readings at intervals %d and %d: %v", warm, warm+n, allocs[:warm+n+1])
	}
	per := float64(b-a) / n
	t.Logf("allocated %.1f B per interval over intervals %d-%d", per, warm, warm+n)
	if per > maxAllocPerInterval {
		t.Errorf("the run allocates %.0f B per interval (bound %d): with the GC off while timing that is resident growth", per, maxAllocPerInterval)
	}
	if got := scraped.Load(); got != scrapes {
		t.Fatalf("%d of %d scrapes done", got, scrapes)
	}
	perScrape := float64(scrapeAllocs.Load()) / scrapes
	t.Logf("allocated %.0f B per scrape (client side included, and the run's own allocation meanwhile)", perScrape)
	if perScrape > maxAllocPerScrape {
		t.Errorf("a scrape allocates %.0f B (bound %d)", perScrape, maxAllocPerScrape)
	}
}

func ptr[T any](v T) *T { return &v }
