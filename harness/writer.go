package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// writer takes each full buffer from the loop, hands its histograms to the Sink, folds them
// into the run's totals, reports the interval and returns the buffer as the spare. It runs
// on its own locked thread, kept off the measured CPUs, and polls: the loop never blocks on it
// and never sends it anything but an atomic pointer.
type writer struct {
	l         *loop
	o         Options
	rep       *Report // Classes, Tid and the totals this writer folds into
	startNs   int64
	startWall time.Time

	done   atomic.Bool
	failed atomic.Bool
	err    error

	merged  *hdrhistogram.Histogram
	gc      *runtimeCounter
	heap    *runtimeCounter
	lastGC  uint64 // GC cycles at the last interval (at the start of timing before the first)
	lastThr ThreadStats
	thr     *threadStatsReader
	total   int64
	// heapBase is the heap size after the last collection, for the GC budget.
	heapBase uint64
}

func (w *writer) poll() time.Duration {
	p := w.o.Interval / 50
	return min(max(p, time.Millisecond), 50*time.Millisecond)
}

func (w *writer) loop() {
	// Never unlocked: the thread's affinity is changed, so it ends with the goroutine rather
	// than going back to the runtime's pool.
	runtime.LockOSThread()
	_, _ = sched.PinAwayFrom(w.o.CPUs) // best effort: nothing else is left on a 1-CPU box
	w.merged = result.NewHistogram()
	w.thr, _ = openThreadStats(w.rep.Tid)
	defer w.thr.Close()
	w.lastThr, _ = w.thr.read()
	w.gc, w.heap = newRuntimeCounter(gcCyclesMetric), newRuntimeCounter(heapObjectsMetric)
	w.heapBase = w.heap.read()
	for {
		if b := w.l.full.Swap(nil); b != nil {
			w.handle(b)
			w.l.spare.Store(b)
			w.collectIfOverBudget()
			continue
		}
		if w.done.Load() {
			if b := w.l.full.Swap(nil); b != nil {
				w.handle(b)
				w.l.spare.Store(b)
			}
			return
		}
		time.Sleep(w.poll())
	}
}

func (w *writer) wall(ns int64) time.Time { return w.startWall.Add(time.Duration(ns - w.startNs)) }

func (w *writer) handle(b *buffer) {
	defer b.reset()
	if w.failed.Load() {
		return // the run is stopping after a write error; nothing more is written
	}
	start, end := w.wall(b.startNs), w.wall(b.endNs)
	w.merged.Reset()
	for k, h := range b.hists {
		if !w.write(b, w.tag(k), h) {
			return
		}
		w.rep.Totals[k].Merge(h)
		w.merged.Merge(h)
	}
	for k, h := range b.dev {
		if h.TotalCount() == 0 {
			continue // the worker measured nothing on the device this interval
		}
		if !w.write(b, result.DeviceTag(w.tag(k)), h) {
			return
		}
		w.rep.Device[k].Merge(h)
	}
	w.rep.Intervals++
	w.total += b.count
	gc := w.gc.read()
	thr, _ := w.thr.read()
	st := IntervalStats{
		Index: b.index, Start: start, End: end, Elapsed: time.Duration(b.endNs - w.startNs),
		Samples: b.count, Total: w.total, Tid: w.rep.Tid, GCCycles: gc - w.lastGC,
		Thread: thr.sub(w.lastThr),
	}
	if b.count > 0 {
		st.P50, st.P99, st.Max = w.merged.ValueAtQuantile(50), w.merged.ValueAtQuantile(99), w.merged.Max()
	}
	w.lastGC, w.lastThr = gc, thr
	if w.o.OnInterval != nil {
		w.o.OnInterval(st)
	}
}

// tag is class k's interval tag: none when the run has one class.
func (w *writer) tag(k int) string {
	if len(w.rep.Classes) > 1 {
		return w.rep.Classes[k]
	}
	return ""
}

// write hands one histogram of b to the sink; on failure it stops the run and reports false.
func (w *writer) write(b *buffer, tag string, h *hdrhistogram.Histogram) bool {
	err := w.o.Sink.WriteInterval(result.Interval{Tag: tag, Start: w.wall(b.startNs), End: w.wall(b.endNs), Hist: h})
	if err != nil {
		w.err = fmt.Errorf("writing interval %d: %w", b.index, err)
		w.failed.Store(true)
		w.l.stop.Store(true)
		return false
	}
	return true
}

// collectIfOverBudget runs a GC once the writer's garbage passes the budget. It happens just
// after a swap, at a known point, and is counted (Report.ForcedGCs).
func (w *writer) collectIfOverBudget() {
	if w.o.GCBudget <= 0 {
		return
	}
	if h := w.heap.read(); h > w.heapBase && h-w.heapBase > uint64(w.o.GCBudget) {
		runtime.GC()
		w.rep.ForcedGCs++
		w.heapBase = w.heap.read()
	}
}

// runtimeCounter reads one uint64 value of runtime/metrics without stopping the world (unlike
// runtime.ReadMemStats, which would preempt the timing goroutine mid-sample). It keeps its
// sample, so reading it once per interval while the GC is off allocates nothing.
type runtimeCounter struct{ s []metrics.Sample }

func newRuntimeCounter(name string) *runtimeCounter {
	return &runtimeCounter{s: []metrics.Sample{{Name: name}}}
}

func (c *runtimeCounter) read() uint64 {
	metrics.Read(c.s)
	if c.s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return c.s[0].Value.Uint64()
}

// The counters the harness reads: heap objects (live and dead) for the GC budget, completed
// GC cycles for the report and telemetry.
const (
	heapObjectsMetric = "/memory/classes/heap/objects:bytes"
	gcCyclesMetric    = "/gc/cycles/total:gc-cycles"
)

// gcCycles reads the number of completed GC cycles once (it allocates its sample).
func gcCycles() uint64 { return newRuntimeCounter(gcCyclesMetric).read() }

// sub is the counters' growth since last.
func (t ThreadStats) sub(last ThreadStats) ThreadStats {
	return ThreadStats{VolCtxSw: t.VolCtxSw - last.VolCtxSw, InvolCtxSw: t.InvolCtxSw - last.InvolCtxSw,
		MinorFaults: t.MinorFaults - last.MinorFaults, MajorFaults: t.MajorFaults - last.MajorFaults}
}

// threadStatsReader reads a thread's context switches and page faults from procfs. It keeps
// both files open and re-reads them from offset 0 into one buffer, so reading, once per
// interval on the writer's thread while the GC is off, allocates nothing.
type threadStatsReader struct {
	status, stat *os.File
	buf          []byte
}

func openThreadStats(tid int) (*threadStatsReader, error) {
	base := "/proc/self/task/" + strconv.Itoa(tid)
	status, err := os.Open(base + "/status")
	if err != nil {
		return nil, err
	}
	stat, err := os.Open(base + "/stat")
	if err != nil {
		status.Close()
		return nil, err
	}
	return &threadStatsReader{status: status, stat: stat, buf: make([]byte, 8192)}, nil
}

// read returns the thread's counters; a nil reader (procfs unavailable) reads zeros.
func (r *threadStatsReader) read() (ThreadStats, error) {
	var t ThreadStats
	if r == nil {
		return t, nil
	}
	b, err := r.readAll(r.status)
	if err != nil {
		return t, err
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(k) { // no allocation: the conversion is only compared
		case "voluntary_ctxt_switches":
			t.VolCtxSw = parseUint(v)
		case "nonvoluntary_ctxt_switches":
			t.InvolCtxSw = parseUint(v)
		}
	}
	if b, err = r.readAll(r.stat); err != nil {
		return t, err
	}
	// Fields after the parenthesised command name (which may hold spaces): state is field 3,
	// minflt field 10, majflt field 12 (proc(5)).
	if i := bytes.LastIndexByte(b, ')'); i >= 0 {
		rest := b[i+1:]
		for f := 3; f <= 12; f++ {
			rest = bytes.TrimLeft(rest, " ")
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			switch f {
			case 10:
				t.MinorFaults = parseUint(rest[:end])
			case 12:
				t.MajorFaults = parseUint(rest[:end])
			}
			rest = rest[end:]
		}
	}
	return t, nil
}

// readAll reads f from its start into r.buf, growing it if the file no longer fits.
func (r *threadStatsReader) readAll(f *os.File) ([]byte, error) {
	for {
		n, err := f.ReadAt(r.buf, 0)
		if n < len(r.buf) {
			if err != nil && err != io.EOF {
				return nil, err
			}
			return r.buf[:n], nil
		}
		r.buf = make([]byte, 2*len(r.buf))
	}
}

func (r *threadStatsReader) Close() {
	if r != nil {
		r.status.Close()
		r.stat.Close()
	}
}

// parseUint reads the decimal number in b, ignoring surrounding white space; 0 if none.
func parseUint(b []byte) int64 {
	var n int64
	for _, c := range bytes.TrimSpace(b) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
