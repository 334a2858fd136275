package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/harness"
)

func TestPrinter(t *testing.T) {
	st := harness.IntervalStats{Index: 1, Elapsed: 2 * time.Second, Samples: 1000, Total: 2000,
		P50: 1_000_000, P99: 1_230_000, Max: 5_120_000}
	for _, tc := range []struct {
		name  string
		mode  Mode
		dur   time.Duration
		iters int64
		want  string
	}{
		{"plain with duration", Plain, 10 * time.Second, 0, "interval 2  elapsed 2s  eta 8s  samples 2000 (+1000)  p50 1ms  p99 1.23ms  max 5.12ms\n"},
		{"plain with iterations", Plain, 0, 3000, "interval 2  elapsed 2s  eta 1s  samples 2000 (+1000)  p50 1ms  p99 1.23ms  max 5.12ms\n"},
		{"plain open-ended", Plain, 0, 0, "interval 2  elapsed 2s  samples 2000 (+1000)  p50 1ms  p99 1.23ms  max 5.12ms\n"},
		{"live redraws in place", Live, 10 * time.Second, 0, "\r\x1b[Kinterval 2  elapsed 2s  eta 8s  samples 2000 (+1000)  p50 1ms  p99 1.23ms  max 5.12ms\n"},
		{"quiet", Quiet, 10 * time.Second, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := New(&b, tc.mode, tc.dur, tc.iters)
			p.Interval(st)
			p.Done()
			if b.String() != tc.want {
				t.Fatalf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
	if s := Format(harness.IntervalStats{GCCycles: 2}, -1); !strings.Contains(s, "GC 2!") {
		t.Errorf("GC cycles not flagged: %q", s)
	}
}

func TestNs(t *testing.T) {
	for v, want := range map[int64]string{999: "999ns", 1500: "1.5µs", 2_340_000: "2.34ms", 3_000_000_000: "3s"} {
		if got := Ns(v); got != want {
			t.Errorf("Ns(%d) = %q, want %q", v, got, want)
		}
	}
}
