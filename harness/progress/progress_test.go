package progress

import (
	"bytes"
	"fmt"
	"io"
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

// TestRound: an A/B round shows its place in the schedule, the arms' order and each arm's p50.
func TestRound(t *testing.T) {
	st := harness.RoundStats{Index: 2, Order: "BA", Samples: [2]int64{1200, 1190}, P50: [2]int64{710_000, 702_000}}
	for _, tc := range []struct {
		name string
		mode Mode
		sc   Schedule
		s    int
		want string
	}{
		{"one session", Plain, Schedule{Sessions: 1, Rounds: 30, Round: time.Second}, 0,
			"round 3/30 BA  eta 54s  A p50 710µs (1200)  B p50 702µs (1190)\n"},
		{"sessions count down the whole schedule", Plain, Schedule{Sessions: 4, Rounds: 8, Round: 250 * time.Millisecond}, 1,
			"session 2/4  round 3/8 BA  eta 10.5s  A p50 710µs (1200)  B p50 702µs (1190)\n"},
		{"live redraws in place", Live, Schedule{Sessions: 1, Rounds: 3, Round: time.Second}, 0,
			"\r\x1b[Kround 3/3 BA  eta 0s  A p50 710µs (1200)  B p50 702µs (1190)\n"},
		{"quiet", Quiet, Schedule{Sessions: 1, Rounds: 3, Round: time.Second}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := New(&b, tc.mode, 0, 0)
			p.Round(tc.sc, tc.s, st)
			p.Done()
			if b.String() != tc.want {
				t.Fatalf("got  %q\nwant %q", b.String(), tc.want)
			}
		})
	}
}

func TestNs(t *testing.T) {
	for v, want := range map[int64]string{999: "999ns", 1500: "1.5µs", 2_340_000: "2.34ms", 3_000_000_000: "3s"} {
		if got := Ns(v); got != want {
			t.Errorf("Ns(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestFormatMatchesFmt: the append-based line renders durations and latencies exactly as
// time.Duration.String and fmt's %.3g did.
func TestFormatMatchesFmt(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, time.Microsecond, 1500 * time.Nanosecond, time.Millisecond, 100 * time.Millisecond,
		time.Second, 1500 * time.Millisecond, 59*time.Second + 900*time.Millisecond, 61 * time.Second, 2*time.Hour + 3*time.Minute + 4*time.Second,
		48 * time.Hour, -time.Second, -1500 * time.Microsecond} {
		if got := string(appendDuration(nil, d)); got != d.String() {
			t.Errorf("appendDuration(%d) = %q, want %q", d, got, d.String())
		}
	}
	for _, v := range []int64{1, 999, 1000, 1234, 999_999, 1_000_000, 1_005_000, 12_345_678, 999_499_999, 1e9, 5e12} {
		f := float64(v)
		var want string
		switch {
		case f >= 1e9:
			want = fmt.Sprintf("%.3gs", f/1e9)
		case f >= 1e6:
			want = fmt.Sprintf("%.3gms", f/1e6)
		case f >= 1e3:
			want = fmt.Sprintf("%.3gµs", f/1e3)
		default:
			want = fmt.Sprintf("%dns", v)
		}
		if got := Ns(v); got != want {
			t.Errorf("Ns(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestIntervalAllocatesNothing: a plain or live line per interval, while the GC is off.
func TestIntervalAllocatesNothing(t *testing.T) {
	st := harness.IntervalStats{Index: 12345, Elapsed: 2*time.Hour + 3*time.Second, Samples: 1000, Total: 20000000,
		P50: 1_000_000, P99: 1_230_000, Max: 5_120_000, GCCycles: 1}
	for _, mode := range []Mode{Plain, Live} {
		p := New(io.Discard, mode, 48*time.Hour, 0)
		p.Interval(st)
		if n := testing.AllocsPerRun(100, func() { p.Interval(st) }); n != 0 {
			t.Errorf("mode %d: %v allocations per interval", mode, n)
		}
	}
}
