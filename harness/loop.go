package harness

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"golang.org/x/sys/unix"
)

// Defaults for the loop's options (and the flags that set them).
const (
	DefaultInterval    = time.Second
	DefaultCalibration = 100 * time.Millisecond
	// DefaultYieldEvery is how often the timing goroutine yields to the Go scheduler between
	// samples. The runtime force-preempts a goroutine that runs 10ms without yielding, with a
	// signal that lands inside whatever sample is being timed; yielding first, outside the
	// timed section, keeps that cost out of the samples.
	DefaultYieldEvery = 5 * time.Millisecond
	// DefaultGCBudget is how much garbage may pile up while the GC is off before the writer
	// collects it itself, right after an interval swap (counted in Report.ForcedGCs, so a run
	// that needed one says so). It is a safety net: the interval encoder, the telemetry sampler,
	// the metrics fold and the progress line allocate nothing per interval (runner/measure's
	// TestRunMemoryDoesNotGrow; issue 16 measured ~1.8 KB of RSS per 100-ms interval before),
	// and a scrape of --metrics-addr allocates about 1 KB (net/http's request; ~130 KB before),
	// so even a 48-hour nightly scraped every 10 s stays far below it.
	DefaultGCBudget = 256 << 20
)

// Sink receives every finished interval histogram, one per class, on the writer goroutine
// (never the timing one), in order. It may do I/O; the histogram is reused after it returns.
//
// The interval's number is not part of result.Interval: the log format has no such field, and
// a tagged log has one line per class per interval, so its readers could not fill it in. The
// writer keeps the number itself, names it in a write error and reports it in
// IntervalStats.Index, which is where progress and telemetry take it from.
//
// *result.LogWriter is a Sink: a run's log needs no adapter.
type Sink interface {
	WriteInterval(iv result.Interval) error
}

var _ Sink = (*result.LogWriter)(nil)

// Discard is a Sink that drops every interval (a warm-up run's, say).
type Discard struct{}

// WriteInterval does nothing.
func (Discard) WriteInterval(result.Interval) error { return nil }

// ThreadStats are the timing thread's scheduler and memory counters, from
// /proc/self/task/TID/{status,stat}.
type ThreadStats struct {
	VolCtxSw, InvolCtxSw     int64
	MinorFaults, MajorFaults int64
}

// IntervalStats summarises one finished interval for progress and telemetry.
type IntervalStats struct {
	Index      int
	Start, End time.Time
	Elapsed    time.Duration // since timing started
	Samples    int64         // in this interval, all classes
	Total      int64         // since timing started
	P50, P99   int64
	Max        int64
	GCCycles   uint64      // GC cycles completed during this interval
	Thread     ThreadStats // deltas over this interval
	Tid        int
}

// Options configures a timed run. Zero values take the defaults noted.
type Options struct {
	// Duration or Iterations bounds the timed phase (both: whichever ends first; neither: until
	// Stop is set).
	Duration   time.Duration
	Iterations int64
	// Warmup runs untimed-recorded iterations first: for WarmupDuration and/or
	// WarmupIterations (both zero: no warm-up).
	WarmupDuration   time.Duration
	WarmupIterations int64
	Interval         time.Duration // default DefaultInterval
	CPUs             []int         // timing thread pinned here (empty: not pinned)
	Sched            sched.Policy
	Mlock            bool
	// Throttle is the kernel's RT bandwidth limit (sched.ReadThrottle); when it limits RT
	// threads and Sched is FIFO, the loop paces itself inside the budget.
	Throttle sched.Throttle
	// Calibration is how long the no-op loop runs to measure the loop's own cost (default
	// DefaultCalibration; negative: skip).
	Calibration time.Duration
	// YieldEvery: see DefaultYieldEvery (0: default; negative: never yield).
	YieldEvery time.Duration
	Sink       Sink
	// OnInterval, if set, is called on the writer goroutine after each interval is written.
	OnInterval func(IntervalStats)
	// Stop ends the run cleanly at the next sample when set (e.g. from a signal handler).
	Stop *atomic.Bool
	// Open, when Open.Rate > 0, times an open loop instead of back-to-back samples.
	Open OpenLoop
	// GCBudget: see DefaultGCBudget (0: default; negative: never collect).
	GCBudget int64
}

// Calibration is the loop's measured cost of itself.
type Calibration struct {
	ClockReadNs       float64
	LoopRecordNs      float64
	TimerResolutionNs float64
}

// Report is what a run measured.
type Report struct {
	Start, End  time.Time // of the timed phase
	Samples     int64
	Warmup      int64
	Intervals   int
	Overflow    int64  // samples above result.HighestNs, recorded as it
	Missed      int64  // open loop: samples above the deadline
	Dropped     int64  // open loop: arrivals dropped while an inference ran
	Stopped     bool   // Stop ended the run early
	GCCycles    uint64 // all GC cycles while timing, ForcedGCs included
	ForcedGCs   int    // collections the writer ran itself at interval swaps (GCBudget)
	Calibration Calibration
	RTPacing    string
	Tid         int
	Classes     []string
	Totals      []*hdrhistogram.Histogram // per class, merged over all intervals
	// Device holds per class the device-side durations a DeviceTimer reported, merged over
	// all intervals (nil when the backend is not one).
	Device []*hdrhistogram.Histogram
}

// buffer is one side of the double buffer: a histogram per class plus its time span, and a
// device-side histogram per class when the backend is a DeviceTimer.
type buffer struct {
	hists, dev     []*hdrhistogram.Histogram
	startNs, endNs int64
	count          int64
	index          int
}

func newBuffer(n int) *buffer { return &buffer{hists: newHistograms(n)} }

// newBuffer returns a buffer for l: with device-side histograms when its backend reports them.
func (l *loop) newBuffer() *buffer {
	b := newBuffer(l.nclass)
	if l.dev != nil {
		b.dev = newHistograms(l.nclass)
	}
	return b
}

func newHistograms(n int) []*hdrhistogram.Histogram {
	hs := make([]*hdrhistogram.Histogram, n)
	for i := range hs {
		hs[i] = result.NewHistogram()
	}
	return hs
}

func (b *buffer) reset() {
	for _, h := range b.hists {
		h.Reset()
	}
	for _, h := range b.dev {
		h.Reset()
	}
	b.count = 0
}

// loop is the timing goroutine's state. Its run method is the hot path.
type loop struct {
	b       Backend
	dev     DeviceTimer // b, when it is one
	nclass  int
	class   int
	cur     *buffer
	full    atomic.Pointer[buffer] // loop → writer
	spare   atomic.Pointer[buffer] // writer → loop
	stop    *atomic.Bool
	highest int64

	intervalNs int64
	nextSwap   int64

	breakAt  int64 // earliest of paceAt and yieldAt
	paceRun  int64
	paceNap  int64
	paceAt   int64
	yieldNs  int64
	yieldAt  int64
	deadline bool // SCHED_DEADLINE: give up the rest of the runtime after each sample

	samples  int64
	overflow int64
	swaps    int
}

// run times up to n samples, or until the clock passes endNs or stop is set. It is the
// measured path: no allocation, no locks, no channel operations, no I/O.
func (l *loop) run(n int64, endNs int64) error {
	for i := int64(0); i < n; i++ {
		t0 := nanotime()
		err := l.b.Run(l.class)
		t1 := nanotime()
		if err != nil {
			return l.runErr(err)
		}
		d := t1 - t0
		if d > l.highest {
			d = l.highest
			l.overflow++
		} else if d < 1 {
			d = 1
		}
		_ = l.cur.hists[l.class].RecordValue(d) // in range by construction
		if l.dev != nil {
			if ns := l.dev.DeviceNs(); ns > 0 {
				_ = l.cur.dev[l.class].RecordValue(min(ns, l.highest))
			}
		}
		l.cur.count++
		l.samples++
		if l.class++; l.class == l.nclass {
			l.class = 0
		}
		if t1 >= endNs || l.stop.Load() {
			return nil // the caller hands over the last interval, so it is never empty
		}
		if t1 >= l.nextSwap {
			l.swap(t1)
		}
		if t1 >= l.breakAt {
			l.takeBreak(t1)
		}
		if l.deadline {
			_, _, _ = unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	return nil
}

//go:noinline
func (l *loop) runErr(err error) error {
	return fmt.Errorf("backend run (class %d): %w", l.class, err)
}

// swap hands the current buffer to the writer when the writer has returned the other one;
// otherwise the interval simply runs on (nothing is lost, it is just longer).
func (l *loop) swap(t1 int64) {
	sp := l.spare.Swap(nil)
	if sp == nil {
		return
	}
	l.cur.endNs = t1
	next := l.cur.index + 1
	l.full.Store(l.cur)
	sp.startNs, sp.index = t1, next
	l.cur = sp
	l.swaps++
	l.nextSwap += l.intervalNs
	if l.nextSwap <= t1 {
		l.nextSwap = t1 + l.intervalNs
	}
}

// takeBreak runs between samples, outside the timed section: it sleeps out the RT pacing
// window and yields to the Go scheduler before the runtime would preempt the goroutine.
//
// It reports whether it slept for pacing.
//
//go:noinline
func (l *loop) takeBreak(t int64) (paced bool) {
	if l.paceRun > 0 && t >= l.paceAt {
		paced = true
		ts := unix.NsecToTimespec(l.paceNap)
		for unix.Nanosleep(&ts, &ts) == unix.EINTR {
		}
		t = nanotime()
		l.paceAt = t + l.paceRun
	}
	if l.yieldNs > 0 && t >= l.yieldAt {
		runtime.Gosched()
		t = nanotime()
		l.yieldAt = t + l.yieldNs
	}
	l.breakAt = math.MaxInt64
	if l.paceRun > 0 {
		l.breakAt = l.paceAt
	}
	if l.yieldNs > 0 && l.yieldAt < l.breakAt {
		l.breakAt = l.yieldAt
	}
	return paced
}

func (l *loop) resetBreaks(now int64) {
	l.paceAt = now + l.paceRun
	l.yieldAt = now + l.yieldNs
	l.breakAt = now
	l.takeBreak(now - 1)
}

// Run prepares the timing thread, calibrates, warms up and times b according to o, handing
// each interval to o.Sink on a writer goroutine. It returns what was measured even when it
// also returns an error (e.g. the backend failed mid-run), so a caller can still write the
// partial result.
func Run(b Backend, o Options) (*Report, error) {
	classes := b.Classes()
	if len(classes) == 0 {
		return nil, errors.New("harness: backend has no input classes")
	}
	if o.Sink == nil {
		return nil, errors.New("harness: no interval sink")
	}
	if o.Open.Rate != 0 {
		if err := o.Open.Validate(); err != nil {
			return nil, err
		}
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Calibration == 0 {
		o.Calibration = DefaultCalibration
	}
	if o.YieldEvery == 0 {
		o.YieldEvery = DefaultYieldEvery
	}
	if o.GCBudget == 0 {
		o.GCBudget = DefaultGCBudget
	}
	stop := o.Stop
	if stop == nil {
		stop = new(atomic.Bool)
	}
	dev, _ := b.(DeviceTimer)
	l := &loop{b: b, dev: dev, nclass: len(classes), stop: stop, highest: result.HighestNs, intervalNs: int64(o.Interval)}
	l.cur = l.newBuffer()
	l.spare.Store(l.newBuffer())
	if o.YieldEvery > 0 {
		l.yieldNs = int64(o.YieldEvery)
	}
	rep := &Report{Classes: classes, Totals: newHistograms(len(classes))}
	if dev != nil {
		rep.Device = newHistograms(len(classes))
	}
	switch {
	case o.Sched.Kind == sched.FIFO && o.Throttle.Limited():
		p := sched.PaceFor(o.Throttle)
		l.paceRun, l.paceNap = int64(p.Run), int64(p.Sleep)
		rep.RTPacing = p.String()
	case o.Sched.Kind == sched.Deadline:
		l.deadline = true
		rep.RTPacing = "deadline: one sample per period, sched_yield after each (outside timing)"
	}

	if o.Mlock {
		if err := sched.Mlock(); err != nil {
			return nil, err
		}
		defer sched.Munlock()
	}

	w := &writer{l: l, o: o, rep: rep}
	var (
		wg     sync.WaitGroup
		runErr error
		ready  = make(chan error, 1)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The thread's affinity and policy are changed for good: it is never unlocked, so the
		// runtime retires it when this goroutine ends instead of reusing it.
		runtime.LockOSThread()
		rep.Tid = sched.Tid()
		if err := sched.Pin(o.CPUs); err != nil {
			ready <- err
			return
		}
		if err := sched.Apply(o.Sched); err != nil {
			ready <- err
			return
		}
		ready <- nil
		runErr = l.timed(o, rep, w)
	}()
	if err := <-ready; err != nil {
		wg.Wait()
		return nil, err
	}
	wg.Wait()
	if w.err != nil {
		return rep, errors.Join(runErr, w.err)
	}
	return rep, runErr
}

// timed runs on the locked timing thread: calibration, warm-up, then the measured phase.
func (l *loop) timed(o Options, rep *Report, w *writer) error {
	rep.Calibration.ClockReadNs = ClockReadNs(200000)
	rep.Calibration.TimerResolutionNs = TimerResolutionNs()
	if o.Calibration > 0 {
		rep.Calibration.LoopRecordNs = calibrateLoop(o.Calibration, l.yieldNs)
	}

	runtime.GC()
	oldGC := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(oldGC)
	gc0 := gcCycles()

	// Warm-up: same loop, recorded into a buffer that is thrown away.
	if o.WarmupDuration > 0 || o.WarmupIterations > 0 {
		real := l.cur
		l.cur = l.newBuffer()
		l.nextSwap = math.MaxInt64
		n := o.WarmupIterations
		if n <= 0 {
			n = math.MaxInt64
		}
		end := int64(math.MaxInt64)
		now := nanotime()
		if o.WarmupDuration > 0 {
			end = now + int64(o.WarmupDuration)
		}
		l.resetBreaks(now)
		err := l.run(n, end)
		rep.Warmup = l.samples
		l.samples, l.overflow, l.cur, l.class = 0, 0, real, 0
		if err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	n := o.Iterations
	if n <= 0 {
		n = math.MaxInt64
	}
	start := nanotime()
	w.startNs, w.startWall = start, time.Now()
	w.lastGC = gc0
	end := int64(math.MaxInt64)
	if o.Duration > 0 {
		end = start + int64(o.Duration)
	}
	l.cur.startNs, l.cur.index = start, 0
	l.nextSwap = start + l.intervalNs
	l.resetBreaks(start)

	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() { defer wwg.Done(); w.loop() }()

	var err error
	var open *openState
	if o.Open.Rate > 0 {
		open = newOpenState(o.Open)
		open.next = start
	}
	if !l.stop.Load() {
		if open != nil {
			err = l.runOpen(open, n, end)
		} else {
			err = l.run(n, end)
		}
	}
	stopNs := nanotime()
	// Hand over the last, partial interval once the writer has returned the other buffer.
	for l.spare.Load() == nil {
		time.Sleep(time.Millisecond)
	}
	l.cur.endNs = stopNs
	l.full.Store(l.cur)
	w.done.Store(true)
	wwg.Wait()

	rep.Start = w.startWall
	rep.End = w.startWall.Add(time.Duration(stopNs - start))
	rep.Samples, rep.Overflow = l.samples, l.overflow
	if open != nil {
		rep.Missed, rep.Dropped = open.missed, open.dropped
	}
	rep.Stopped = l.stop.Load() && !w.failed.Load() && err == nil && l.samples < n && stopNs < end
	rep.GCCycles = gcCycles() - gc0
	return err
}

// calibrateLoop runs the loop over the no-op backend for d and returns its cost per sample in
// nanoseconds: two clock reads, the interface call, the record and the bookkeeping.
func calibrateLoop(d time.Duration, yieldNs int64) float64 {
	c := &loop{b: Nop{}, nclass: 1, cur: newBuffer(1), stop: new(atomic.Bool), highest: result.HighestNs,
		intervalNs: math.MaxInt64, nextSwap: math.MaxInt64, yieldNs: yieldNs}
	t0 := nanotime()
	c.resetBreaks(t0)
	_ = c.run(math.MaxInt64, t0+int64(d))
	t1 := nanotime()
	if c.samples == 0 {
		return 0
	}
	return float64(t1-t0) / float64(c.samples)
}
