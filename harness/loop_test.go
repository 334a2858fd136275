package harness

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// memSink keeps every interval it is given (copies, since the loop reuses histograms).
type memSink struct {
	mu  sync.Mutex
	ivs []result.Interval
	err error
}

func (s *memSink) WriteInterval(iv result.Interval) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	iv.Hist = hdrhistogram.Import(iv.Hist.Export())
	s.ivs = append(s.ivs, iv)
	return nil
}

// countBackend counts its runs per class and fails after failAt runs when failAt > 0.
type countBackend struct {
	classes []string
	runs    []int64
	failAt  int64
	total   int64
	// stop, when set, is raised once stopAt runs have been made: a stop request that does not
	// depend on how fast a loaded machine gets through a sleep.
	stop   *atomic.Bool
	stopAt int64
}

func (b *countBackend) Classes() []string { return b.classes }
func (b *countBackend) Run(c int) error {
	b.runs[c]++
	b.total++
	if b.failAt > 0 && b.total >= b.failAt {
		return errors.New("boom")
	}
	if b.stop != nil && b.total == b.stopAt {
		b.stop.Store(true)
	}
	return nil
}
func (b *countBackend) Close() error { return nil }

func TestLoopDoesNotAllocate(t *testing.T) {
	// The writer is played inline by the test (between AllocsPerRun calls would not exercise
	// the swap), so swaps happen inside the measured function and must not allocate either.
	l := &loop{b: Nop{}, nclass: 1, cur: newBuffer(1), stop: new(atomic.Bool), highest: result.HighestNs,
		intervalNs: 1, yieldNs: 0}
	l.spare.Store(newBuffer(1))
	l.breakAt = math.MaxInt64
	allocs := testing.AllocsPerRun(100, func() {
		_ = l.run(1000, math.MaxInt64)
		if b := l.full.Swap(nil); b != nil {
			b.reset()
			l.spare.Store(b)
		}
	})
	if allocs != 0 {
		t.Fatalf("timed loop allocated %.1f times per 1000 samples, want 0", allocs)
	}
	if l.samples != 101*1000 {
		t.Fatalf("samples = %d, want %d", l.samples, 101*1000)
	}
	if l.swaps == 0 {
		t.Fatal("no interval swap happened; the test does not cover the swap path")
	}
}

func TestRunIterationsAndClasses(t *testing.T) {
	b := &countBackend{classes: []string{"zeros", "random", "subnormal"}, runs: make([]int64, 3)}
	sink := &memSink{}
	var calls atomic.Int32
	rep, err := Run(b, Options{
		Iterations: 30000, WarmupIterations: 300, Interval: 2 * time.Millisecond,
		Calibration: 5 * time.Millisecond, Sink: sink,
		OnInterval: func(IntervalStats) { calls.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Samples != 30000 || rep.Warmup != 300 {
		t.Fatalf("samples=%d warmup=%d, want 30000 and 300", rep.Samples, rep.Warmup)
	}
	for c, n := range b.runs {
		if n != 10100 {
			t.Errorf("class %d ran %d times, want 10100 (round robin incl. warm-up)", c, n)
		}
	}
	var logged int64
	tags := map[string]int64{}
	for i, iv := range sink.ivs {
		logged += iv.Hist.TotalCount()
		tags[iv.Tag] += iv.Hist.TotalCount()
		if iv.End.Before(iv.Start) {
			t.Errorf("interval line %d ends before it starts", i)
		}
	}
	if logged != rep.Samples {
		t.Fatalf("sink got %d samples, report says %d", logged, rep.Samples)
	}
	for _, tag := range b.classes {
		if tags[tag] != 10000 {
			t.Errorf("tag %q holds %d samples, want 10000", tag, tags[tag])
		}
	}
	if int(calls.Load()) != rep.Intervals || len(sink.ivs) != 3*rep.Intervals {
		t.Errorf("OnInterval called %d times, %d interval lines, report says %d intervals", calls.Load(), len(sink.ivs), rep.Intervals)
	}
	if rep.GCCycles != 0 {
		t.Errorf("GC ran %d times during timing, want 0", rep.GCCycles)
	}
	if rep.Calibration.ClockReadNs <= 0 || rep.Calibration.LoopRecordNs <= 0 || rep.Calibration.TimerResolutionNs <= 0 {
		t.Errorf("calibration incomplete: %+v", rep.Calibration)
	}
}

func TestRunStopsAndKeepsWhatWasMeasured(t *testing.T) {
	var stop atomic.Bool
	sink := &memSink{}
	b := &countBackend{classes: []string{"default"}, runs: make([]int64, 1), stop: &stop, stopAt: 5000}
	rep, err := Run(b, Options{Duration: time.Hour, Interval: 10 * time.Millisecond, Calibration: -1, Sink: sink, Stop: &stop})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Stopped || rep.Samples == 0 {
		t.Fatalf("stopped=%v samples=%d, want a stopped run with samples", rep.Stopped, rep.Samples)
	}
	var n int64
	for _, iv := range sink.ivs {
		n += iv.Hist.TotalCount()
	}
	if n != rep.Samples || rep.Totals[0].TotalCount() != rep.Samples {
		t.Fatalf("logged %d, totals %d, samples %d: the last partial interval was lost", n, rep.Totals[0].TotalCount(), rep.Samples)
	}
}

func TestRunErrors(t *testing.T) {
	t.Run("backend fails mid-run", func(t *testing.T) {
		b := &countBackend{classes: []string{"default"}, runs: make([]int64, 1), failAt: 500}
		sink := &memSink{}
		rep, err := Run(b, Options{Iterations: 1000, Calibration: -1, Sink: sink})
		if err == nil || rep == nil || rep.Samples != 499 {
			t.Fatalf("err=%v rep=%+v, want the backend error and 499 samples kept", err, rep)
		}
	})
	t.Run("sink fails", func(t *testing.T) {
		b := &countBackend{classes: []string{"default"}, runs: make([]int64, 1)}
		sink := &memSink{err: errors.New("disk full")}
		_, err := Run(b, Options{Duration: time.Hour, Interval: time.Millisecond, Calibration: -1, Sink: sink})
		if err == nil {
			t.Fatal("a failing sink did not fail the run")
		}
	})
	t.Run("no classes", func(t *testing.T) {
		if _, err := Run(&countBackend{}, Options{Sink: &memSink{}}); err == nil {
			t.Fatal("want an error for a backend without classes")
		}
	})
	t.Run("pinning to a CPU that does not exist", func(t *testing.T) {
		_, err := Run(Nop{}, Options{Iterations: 1, CPUs: []int{runtime.NumCPU() + 7}, Sink: &memSink{}})
		if err == nil {
			t.Fatal("want an error pinning to a missing CPU")
		}
	})
}

func TestRunUnderFIFOIsPaced(t *testing.T) {
	// Real SCHED_FIFO on the test machine: run as root in CI (make test). The pacing is
	// asserted from the report, never from timing.
	rep, err := Run(Nop{}, Options{
		Iterations: 2000, Calibration: -1, Sink: &memSink{},
		Sched:    sched.Policy{Kind: sched.FIFO, Priority: 10},
		Throttle: sched.Throttle{Runtime: 950 * time.Millisecond, Period: time.Second},
	})
	var pe *sched.PrivilegeError
	if errors.As(err, &pe) {
		t.Fatalf("this test needs SCHED_FIFO (run as root or with CAP_SYS_NICE): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.RTPacing == "" {
		t.Fatal("a FIFO run under RT throttling recorded no pacing")
	}
}

// benchThread puts the benchmark's thread where a run's timing thread would be when
// TAILGATE_BENCH_CPU and TAILGATE_BENCH_FIFO are set (.ci/bench.sh sets them), so the numbers
// are not the shared machine's scheduling noise. The thread is never unlocked: it ends with
// the benchmark goroutine instead of returning to the pool pinned and real-time.
func benchThread(b *testing.B) {
	cpu, fifo := os.Getenv("TAILGATE_BENCH_CPU"), os.Getenv("TAILGATE_BENCH_FIFO")
	if cpu == "" && fifo == "" {
		return
	}
	runtime.LockOSThread()
	if c, err := strconv.Atoi(cpu); err == nil {
		if err := sched.Pin([]int{c}); err != nil {
			b.Fatal(err)
		}
	}
	if p, err := strconv.Atoi(fifo); err == nil && p > 0 {
		if err := sched.Apply(sched.Policy{Kind: sched.FIFO, Priority: p}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoopNop(b *testing.B) {
	benchThread(b)
	l := &loop{b: Nop{}, nclass: 1, cur: newBuffer(1), stop: new(atomic.Bool), highest: result.HighestNs,
		intervalNs: math.MaxInt64, nextSwap: math.MaxInt64, breakAt: math.MaxInt64}
	b.ReportAllocs()
	b.ResetTimer()
	_ = l.run(int64(b.N), math.MaxInt64)
}

func BenchmarkClockRead(b *testing.B) {
	benchThread(b)
	b.ReportAllocs()
	var s int64
	for i := 0; i < b.N; i++ {
		s += nanotime()
	}
	_ = s
}

func TestWriterCollectsItsGarbageOverBudget(t *testing.T) {
	// A tiny budget makes the writer collect after (nearly) every interval; the collections are
	// counted as forced, and nothing else ran the GC.
	rep, err := Run(Nop{}, Options{Duration: 300 * time.Millisecond, Interval: 10 * time.Millisecond,
		Calibration: -1, GCBudget: 1, Sink: &memSink{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ForcedGCs == 0 || rep.GCCycles < uint64(rep.ForcedGCs) {
		t.Fatalf("forced %d, cycles %d: want forced collections, all counted", rep.ForcedGCs, rep.GCCycles)
	}
}
