// Package telemetry owns what the host did while a run was timed: one telemetry.jsonl line per
// interval (CPU temperature, frequency of the measured CPUs, the Raspberry Pi throttle word,
// the timing thread's context switches and page faults, interrupts on the measured CPUs, load,
// GC cycles, RSS) and the run's health verdict derived from it (throttling, under-voltage or a
// frequency change on a measured CPU make a run unhealthy).
//
// Readings of the host go through runner/host below a root directory, so tests flip throttle
// bits and frequencies in a copied fixture tree mid-run. Sampling happens on a goroutine whose
// thread is pinned away from the measured CPUs; the harness's writer only hands it the
// interval's numbers. It does not time anything (harness), store results (baseline) or turn
// health into a verdict (gate).
package telemetry

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/runner/host"
)

// DefaultFreqTolerance is the relative change of a measured CPU's frequency, against its
// reading when the run started, that makes a run unhealthy. A Pi 5 on the performance governor
// reads exactly the same value all run long and a throttled one drops by a third, so any
// tolerance between the two works; a little slack keeps hosts whose cpufreq driver reports an
// averaged frequency (x86 intel_pstate) from failing on rounding.
const DefaultFreqTolerance = 0.02

// DefaultQueue is how many intervals may wait for the sampler before they are dropped (and
// counted): the harness's writer must never block on telemetry.
const DefaultQueue = 64

// Options configure a Sampler.
type Options struct {
	// Root holds proc/ and sys/ of the host ("" means /). Process readings (RSS) always come
	// from the live process.
	Root string
	// CPUs are the measured CPUs: their frequency and interrupts are sampled, and the sampling
	// thread stays off them.
	CPUs []int
	// Throttle overrides the throttle source; nil reads the sysfs get_throttled node or the
	// rpi_volt alarm below Root, else (live host) whatever host.FindThrottleSource finds.
	Throttle host.ThrottleSource
	// Out receives one JSON line per interval; when it is an *os.File it is fsynced per line,
	// like latency.hlog, so a crash loses at most the open interval. Nil writes nothing.
	Out io.Writer
	// FreqTolerance overrides DefaultFreqTolerance when positive.
	FreqTolerance float64
	// OnSample, if set, is called on the sampling goroutine with each line (e.g. Prometheus).
	// The line is lent, so that sampling allocates nothing while the GC is off: its maps,
	// pointers and Time are overwritten by the next sample. Clone what must outlive the call.
	OnSample func(result.Telemetry)
	// IndexOffset is added to interval numbers: a resumed run continues the numbering.
	IndexOffset int
}

// Sampler turns the harness's per-interval statistics into telemetry lines and a health
// verdict. After the first few intervals sampling, encoding and writing a line allocate
// nothing (the GC is off while timing, so garbage would pile up for the whole run).
type Sampler struct {
	o     Options
	probe *host.Probe
	rss   *host.RSS
	thr   host.ThrottleSource // nil: the probe's own node, if any
	keys  []string            // JSON map key of each measured CPU
	order []int               // CPU indexes in the JSON encoder's (sorted string) key order

	irqLast []uint64
	irqNow  []uint64
	irqOK   bool

	cur  line
	buf  []byte           // the encoded line, reused
	view result.Telemetry // lent to OnSample, maps reused
	tbuf []byte           // view.Time's bytes

	mu       sync.Mutex
	health   *rules // judges each line, live, as FromTelemetry does on replay
	lines    int
	dropped  int
	writeErr error
	sampleNs int64 // total time spent sampling, for the cost report

	ch   chan harness.IntervalStats
	done chan struct{}
}

// line is one interval's readings in fixed storage: result.Telemetry's maps and pointers would
// allocate per sample.
type line struct {
	end                  time.Time
	interval             int
	temp                 float64
	tempOK               bool
	freq                 []int64 // per measured CPU
	freqOK               []bool
	thr                  uint32
	thrOK                bool
	irq                  []int64 // per measured CPU
	irqOK                bool
	vol, invol, min, maj int64
	load1                float64
	gc                   uint32
	rss                  int64
}

// New reads the starting state the run is judged against: the measured CPUs' frequencies,
// the throttle word and the interrupt counters.
func New(o Options) (*Sampler, error) {
	if o.FreqTolerance <= 0 {
		o.FreqTolerance = DefaultFreqTolerance
	}
	var cpus []int // deduplicated: a CPU named twice is one column
	for _, c := range o.CPUs {
		if !slices.Contains(cpus, c) {
			cpus = append(cpus, c)
		}
	}
	o.CPUs = cpus
	n := len(cpus)
	s := &Sampler{o: o, health: newRules(o.FreqTolerance),
		irqLast: make([]uint64, n), irqNow: make([]uint64, n),
		cur: line{freq: make([]int64, n), freqOK: make([]bool, n), irq: make([]int64, n)}}
	var errs []error
	fs := host.NewFS(o.Root)
	p, err := fs.OpenProbe(cpus) // usable even on error: what failed to open reads as unavailable
	if err != nil {
		errs = append(errs, err)
	}
	s.probe = p
	if r, err := host.OpenRSS(); err == nil {
		s.rss = r
	}
	for _, c := range cpus {
		s.keys = append(s.keys, strconv.Itoa(c))
	}
	s.order = make([]int, n)
	for i := range s.order {
		s.order[i] = i
	}
	sort.Slice(s.order, func(a, b int) bool { return s.keys[s.order[a]] < s.keys[s.order[b]] })
	s.view.FreqKHz = make(map[string]int64, n)
	s.view.IRQs = make(map[string]int64, n)

	s.thr = o.Throttle
	if s.thr == nil && !p.HasThrottle() {
		if t, ok := host.FindThrottleSource(fs); ok {
			s.thr = t
		}
	}
	for i := range cpus {
		f, err := p.CurFreqKHz(i)
		switch {
		case err == nil:
			s.health.startFreq(s.keys[i], f)
		case !errors.Is(err, host.ErrUnavailable):
			errs = append(errs, err)
		}
	}
	if s.thr != nil || p.HasThrottle() {
		t, err := s.throttled()
		if err != nil {
			errs = append(errs, fmt.Errorf("throttle word (%s): %w", s.throttleSource(), err))
		} else {
			s.health.startThrottle(t)
		}
	}
	if n > 0 {
		s.irqOK = p.InterruptsPerCPU(s.irqLast) == nil
	}
	return s, errors.Join(errs...)
}

func (s *Sampler) throttled() (host.Throttled, error) {
	if s.thr != nil {
		return s.thr.Throttled()
	}
	return s.probe.Throttled()
}

func (s *Sampler) throttleSource() string {
	if s.thr != nil {
		return s.thr.Source()
	}
	return s.probe.ThrottleSource()
}

// Sample takes one interval's readings and returns its telemetry line, updating the health
// verdict. The line is the caller's to keep (it allocates); the sampling goroutine uses the
// allocation-free path underneath.
func (s *Sampler) Sample(st harness.IntervalStats) result.Telemetry {
	s.sample(st)
	return s.cur.telemetry(s.keys)
}

// sample reads one interval into s.cur and updates the health verdict.
func (s *Sampler) sample(st harness.IntervalStats) {
	t0 := time.Now()
	idx := st.Index + s.o.IndexOffset
	l := &s.cur
	l.end, l.interval = st.End.UTC(), idx
	l.vol, l.invol, l.min, l.maj = st.Thread.VolCtxSw, st.Thread.InvolCtxSw, st.Thread.MinorFaults, st.Thread.MajorFaults
	l.gc = uint32(min(st.GCCycles, math.MaxUint32))
	l.rss = 0
	if s.rss != nil {
		l.rss, _ = s.rss.Bytes()
	}
	var err error
	l.temp, err = s.probe.CPUTempC()
	l.tempOK = err == nil
	l.load1, _ = s.probe.Load1()
	for i := range s.o.CPUs {
		f, err := s.probe.CurFreqKHz(i)
		l.freq[i], l.freqOK[i] = f, err == nil
	}
	l.thrOK = false
	if s.thr != nil || s.probe.HasThrottle() {
		if w, err := s.throttled(); err == nil {
			l.thr, l.thrOK = uint32(w), true
		}
	}
	l.irqOK = false
	if s.irqOK && len(s.o.CPUs) > 0 {
		if err := s.probe.InterruptsPerCPU(s.irqNow); err == nil {
			for i := range s.irqNow {
				l.irq[i] = int64(s.irqNow[i] - s.irqLast[i])
			}
			s.irqLast, s.irqNow = s.irqNow, s.irqLast
			l.irqOK = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The line is judged as written, by the rules FromTelemetry applies on replay.
	s.health.line(s.lend())
	s.lines++
	s.sampleNs += int64(time.Since(t0))
}

// telemetry returns the line as an owned result.Telemetry.
func (l *line) telemetry(keys []string) result.Telemetry {
	t := result.Telemetry{Time: l.end.Format(time.RFC3339Nano), Interval: l.interval,
		VolCtxSw: l.vol, InvolCtxSw: l.invol, MinorFaults: l.min, MajorFaults: l.maj,
		Load1: l.load1, GCCycles: l.gc, RSSBytes: l.rss}
	if l.tempOK {
		c := l.temp
		t.TempC = &c
	}
	if l.thrOK {
		w := l.thr
		t.Throttled = &w
	}
	for i, k := range keys {
		if l.freqOK[i] {
			if t.FreqKHz == nil {
				t.FreqKHz = make(map[string]int64, len(keys))
			}
			t.FreqKHz[k] = l.freq[i]
		}
	}
	if l.irqOK && len(keys) > 0 {
		t.IRQs = make(map[string]int64, len(keys))
		for i, k := range keys {
			t.IRQs[k] = l.irq[i]
		}
	}
	return t
}

// lend fills s.view from s.cur without allocating (after the first call): maps are cleared
// and refilled, pointers point into s.cur and Time's bytes are reused. It returns s.view.
func (s *Sampler) lend() *result.Telemetry {
	l, v := &s.cur, &s.view
	s.tbuf = l.end.AppendFormat(s.tbuf[:0], time.RFC3339Nano)
	v.Time = unsafe.String(unsafe.SliceData(s.tbuf), len(s.tbuf))
	v.Interval, v.VolCtxSw, v.InvolCtxSw, v.MinorFaults, v.MajorFaults = l.interval, l.vol, l.invol, l.min, l.maj
	v.Load1, v.GCCycles, v.RSSBytes = l.load1, l.gc, l.rss
	v.TempC, v.Throttled = nil, nil
	if l.tempOK {
		v.TempC = &l.temp
	}
	if l.thrOK {
		v.Throttled = &l.thr
	}
	clear(v.FreqKHz)
	clear(v.IRQs)
	for i, k := range s.keys {
		if l.freqOK[i] {
			v.FreqKHz[k] = l.freq[i]
		}
		if l.irqOK {
			v.IRQs[k] = l.irq[i]
		}
	}
	return v
}

// Clone returns a copy of t that shares nothing with it, for keeping a line OnSample lent.
// Empty maps become nil, so a clone equals the line as result.ReadTelemetry reads it back.
func Clone(t result.Telemetry) result.Telemetry {
	t.Time = strings.Clone(t.Time)
	if t.TempC != nil {
		c := *t.TempC
		t.TempC = &c
	}
	if t.Throttled != nil {
		w := *t.Throttled
		t.Throttled = &w
	}
	t.FreqKHz, t.IRQs, t.Extra = cloneMap(t.FreqKHz), cloneMap(t.IRQs), cloneMap(t.Extra)
	return t
}

// cloneMap copies m; empty is nil, as a line read back from telemetry.jsonl has it.
func cloneMap[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// Start starts the sampling goroutine: its thread is locked and pinned away from the measured
// CPUs before the first reading.
func (s *Sampler) Start() {
	s.ch = make(chan harness.IntervalStats, DefaultQueue)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, _ = sched.PinAwayFrom(s.o.CPUs) // best effort: a 1-CPU box has nowhere else
		for st := range s.ch {
			s.step(st)
		}
	}()
}

// step samples, writes and hands on one interval: the sampling goroutine's whole work.
func (s *Sampler) step(st harness.IntervalStats) {
	s.sample(st)
	if err := s.write(); err != nil {
		s.mu.Lock()
		if s.writeErr == nil {
			s.writeErr = err
		}
		s.mu.Unlock()
	}
	if s.o.OnSample != nil {
		s.o.OnSample(s.view) // lent by sample
	}
}

// OnInterval hands one interval to the sampler without blocking; it is the harness's
// OnInterval hook (called on the writer goroutine). When the queue is full the interval is
// dropped and counted.
func (s *Sampler) OnInterval(st harness.IntervalStats) {
	select {
	case s.ch <- st:
	default:
		s.mu.Lock()
		s.dropped++
		s.mu.Unlock()
	}
}

// Close waits for the queued intervals to be sampled and written, closes the files the
// sampler keeps open, and returns the first write error.
func (s *Sampler) Close() error {
	if s.ch != nil {
		close(s.ch)
		<-s.done
		s.ch = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped > 0 {
		s.health.note(noteKey{kind: "dropped"}, fmt.Sprintf("%d interval(s) not sampled: the sampler fell behind", s.dropped))
	}
	// Read-only files: closing cannot lose anything. A Sample after Close reads nothing.
	_ = s.probe.Close()
	if s.rss != nil {
		_ = s.rss.Close()
	}
	return s.writeErr
}

func (s *Sampler) write() error {
	if s.o.Out == nil {
		return nil
	}
	s.buf = s.cur.appendJSON(s.buf[:0], s.keys, s.order)
	if _, err := s.o.Out.Write(s.buf); err != nil {
		return fmt.Errorf("%s: %w", result.TelemetryFile, err)
	}
	if f, ok := s.o.Out.(*os.File); ok {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("%s: %w", result.TelemetryFile, err)
		}
	}
	return nil
}

// Reasons returns why the run is unhealthy so far (none: healthy), in the order found.
func (s *Sampler) Reasons() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.health.reasons...)
}

// Cost is the mean wall time one Sample took, the telemetry's own cost per interval.
func (s *Sampler) Cost() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lines == 0 {
		return 0
	}
	return time.Duration(s.sampleNs / int64(s.lines))
}

// RSSBytes reads the process's resident set from /proc/self/statm (0 when unreadable).
func RSSBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
