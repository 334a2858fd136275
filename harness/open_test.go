package harness

import (
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// spinBackend busy-waits d per run: a workload whose service time is known.
type spinBackend struct{ d int64 }

func (spinBackend) Classes() []string { return nopClasses }
func (s spinBackend) Run(int) error {
	t := nanotime()
	for nanotime()-t < s.d {
	}
	return nil
}
func (spinBackend) Close() error { return nil }

func TestOpenLoopDoesNotAllocate(t *testing.T) {
	for _, arrivals := range []string{ArrivalsFixed, ArrivalsPoisson} {
		l := &loop{b: Nop{}, nclass: 1, cur: newBuffer(1), stop: new(atomic.Bool), highest: result.HighestNs, intervalNs: 1, breakAt: math.MaxInt64}
		l.spare.Store(newBuffer(1))
		s := newOpenState(OpenLoop{Rate: 1e6, Arrivals: arrivals, Overrun: OverrunDrop, Deadline: time.Microsecond})
		s.next = nanotime()
		allocs := testing.AllocsPerRun(20, func() {
			_ = l.runOpen(s, 100, math.MaxInt64)
			if b := l.full.Swap(nil); b != nil {
				b.reset()
				l.spare.Store(b)
			}
		})
		if allocs != 0 {
			t.Fatalf("%s open loop allocated %.1f times per 100 samples", arrivals, allocs)
		}
	}
}

func TestOpenLoopOverload(t *testing.T) {
	// A 2ms service time at 1000 arrivals/s cannot keep up. The assertions are one-sided
	// (a slower machine only makes them truer), so they hold on a loaded CI box.
	b := spinBackend{d: int64(2 * time.Millisecond)}
	t.Run("queue: latency from the scheduled arrival grows and deadlines are missed", func(t *testing.T) {
		rep, err := Run(b, Options{Iterations: 100, Calibration: -1, Sink: &memSink{},
			Open: OpenLoop{Rate: 1000, Deadline: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		// Sample k starts no earlier than 2ms·k and was scheduled at 1ms·k: the last waits ≥ 99ms.
		if max := rep.Totals[0].Max(); max < int64(99*time.Millisecond) {
			t.Errorf("max %s: coordinated omission is not corrected", time.Duration(max))
		}
		if rep.Missed < 85 || rep.Dropped != 0 {
			t.Errorf("missed %d (want ≥ 85 of 100), dropped %d (want 0)", rep.Missed, rep.Dropped)
		}
	})
	t.Run("drop: arrivals during an inference are dropped", func(t *testing.T) {
		rep, err := Run(b, Options{Iterations: 100, Calibration: -1, Sink: &memSink{},
			Open: OpenLoop{Rate: 1000, Deadline: 10 * time.Millisecond, Overrun: OverrunDrop}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Dropped < 90 {
			t.Errorf("dropped %d arrivals, want ≥ 90 (about one per 2ms sample)", rep.Dropped)
		}
		if p50 := rep.Totals[0].ValueAtQuantile(50); p50 >= int64(10*time.Millisecond) {
			t.Errorf("p50 %s: dropping should keep latency near the service time", time.Duration(p50))
		}
	})
	t.Run("sustainable rate: nothing missed or dropped", func(t *testing.T) {
		rep, err := Run(Nop{}, Options{Iterations: 50, Calibration: -1, Sink: &memSink{},
			Open: OpenLoop{Rate: 500, Arrivals: ArrivalsPoisson, Overrun: OverrunDrop}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Samples != 50 || rep.Missed != 0 {
			t.Errorf("samples %d missed %d", rep.Samples, rep.Missed)
		}
	})
}

func TestOpenLoopValidate(t *testing.T) {
	err := OpenLoop{Rate: -1, Arrivals: "bursty", Overrun: "skip", Deadline: -1}.Validate()
	for _, want := range []string{"rate -1/s", "arrivals \"bursty\"", "overrun \"skip\"", "deadline -1ns"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
