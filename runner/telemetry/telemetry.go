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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// Throttle overrides the throttle source; nil picks host.FindThrottleSource below Root.
	Throttle host.ThrottleSource
	// Out receives one JSON line per interval; when it is an *os.File it is fsynced per line,
	// like latency.hlog, so a crash loses at most the open interval. Nil writes nothing.
	Out io.Writer
	// FreqTolerance overrides DefaultFreqTolerance when positive.
	FreqTolerance float64
	// OnSample, if set, is called on the sampling goroutine with each line (e.g. Prometheus).
	OnSample func(result.Telemetry)
	// IndexOffset is added to interval numbers: a resumed run continues the numbering.
	IndexOffset int
}

// Sampler turns the harness's per-interval statistics into telemetry lines and a health
// verdict.
type Sampler struct {
	o   Options
	fs  host.FS
	thr host.ThrottleSource

	freq0   map[int]int64
	thr0    host.Throttled
	thrOK   bool
	irqLast map[int]uint64

	mu       sync.Mutex
	reasons  []string
	seen     map[string]bool
	lines    int
	dropped  int
	writeErr error
	sampleNs int64 // total time spent sampling, for the cost report

	ch   chan harness.IntervalStats
	done chan struct{}
}

// New reads the starting state the run is judged against: the measured CPUs' frequencies,
// the throttle word and the interrupt counters.
func New(o Options) (*Sampler, error) {
	if o.FreqTolerance <= 0 {
		o.FreqTolerance = DefaultFreqTolerance
	}
	s := &Sampler{o: o, fs: host.NewFS(o.Root), freq0: map[int]int64{}, seen: map[string]bool{}}
	s.thr = o.Throttle
	if s.thr == nil {
		if t, ok := host.FindThrottleSource(s.fs); ok {
			s.thr = t
		}
	}
	var errs []error
	for _, c := range o.CPUs {
		f, err := s.fs.CurFreqKHz(c)
		switch {
		case err == nil:
			s.freq0[c] = f
		case !errors.Is(err, host.ErrUnavailable):
			errs = append(errs, err)
		}
	}
	if s.thr != nil {
		t, err := s.thr.Throttled()
		if err != nil {
			errs = append(errs, fmt.Errorf("throttle word (%s): %w", s.thr.Source(), err))
		} else {
			s.thr0, s.thrOK = t, true
			if now := t & host.NowMask; now != 0 {
				s.note("throttle-start", fmt.Sprintf("throttle word %s when the run started (%s)", t, strings.Join(now.Reasons(), ", ")))
			}
		}
	}
	if len(o.CPUs) > 0 {
		if irq, err := s.fs.InterruptsPerCPU(o.CPUs); err == nil {
			s.irqLast = irq
		}
	}
	return s, errors.Join(errs...)
}

// note records a health reason once per key, so a six-hour throttled night yields one reason,
// not two thousand.
func (s *Sampler) note(key, reason string) {
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.reasons = append(s.reasons, reason)
}

// Sample takes one interval's readings and returns its telemetry line, updating the health
// verdict. It is what the sampling goroutine runs; tests call it directly.
func (s *Sampler) Sample(st harness.IntervalStats) result.Telemetry {
	t0 := time.Now()
	idx := st.Index + s.o.IndexOffset
	t := result.Telemetry{
		Time: st.End.UTC().Format(time.RFC3339Nano), Interval: idx,
		VolCtxSw: st.Thread.VolCtxSw, InvolCtxSw: st.Thread.InvolCtxSw,
		MinorFaults: st.Thread.MinorFaults, MajorFaults: st.Thread.MajorFaults,
		GCCycles: uint32(min(st.GCCycles, math.MaxUint32)), RSSBytes: RSSBytes(),
	}
	if c, _, err := s.fs.CPUTempC(); err == nil {
		t.TempC = &c
	}
	if la, err := s.fs.ReadLoadAvg(); err == nil {
		t.Load1 = la.Load1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.o.CPUs {
		f, err := s.fs.CurFreqKHz(c)
		if err != nil {
			continue
		}
		if t.FreqKHz == nil {
			t.FreqKHz = map[string]int64{}
		}
		t.FreqKHz[strconv.Itoa(c)] = f
		f0, ok := s.freq0[c]
		if !ok {
			s.freq0[c] = f
			continue
		}
		if f0 > 0 && math.Abs(float64(f-f0))/float64(f0) > s.o.FreqTolerance {
			s.note(fmt.Sprintf("freq-%d", c), fmt.Sprintf("cpu%d frequency changed %d→%d MHz at interval %d (%s)", c, f0/1000, f/1000, idx, t.Time))
		}
	}
	if s.thr != nil {
		if w, err := s.thr.Throttled(); err == nil {
			v := uint32(w)
			t.Throttled = &v
			if now := w & host.NowMask; now != 0 {
				s.note("throttle-now-"+now.String(), fmt.Sprintf("throttle word %s at interval %d (%s): %s", w, idx, t.Time, strings.Join(now.Reasons(), ", ")))
			}
			if s.thrOK {
				if fresh := (w &^ s.thr0) & host.OccurredMask; fresh != 0 {
					s.note("throttle-occurred-"+fresh.String(), fmt.Sprintf("throttle word %s at interval %d (%s): %s since the run started", w, idx, t.Time, strings.Join(fresh.Reasons(), ", ")))
				}
			}
		}
	}
	if s.irqLast != nil {
		if irq, err := s.fs.InterruptsPerCPU(s.o.CPUs); err == nil {
			t.IRQs = make(map[string]int64, len(irq))
			for c, n := range irq {
				t.IRQs[strconv.Itoa(c)] = int64(n - s.irqLast[c])
			}
			s.irqLast = irq
		}
	}
	if st.GCCycles > 0 {
		s.note("gc", fmt.Sprintf("%d GC cycle(s) while timing, first at interval %d", st.GCCycles, idx))
	}
	s.lines++
	s.sampleNs += int64(time.Since(t0))
	return t
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
			t := s.Sample(st)
			if err := s.write(t); err != nil {
				s.mu.Lock()
				if s.writeErr == nil {
					s.writeErr = err
				}
				s.mu.Unlock()
			}
			if s.o.OnSample != nil {
				s.o.OnSample(t)
			}
		}
	}()
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

// Close waits for the queued intervals to be sampled and written and returns the first
// write error.
func (s *Sampler) Close() error {
	if s.ch != nil {
		close(s.ch)
		<-s.done
		s.ch = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped > 0 {
		s.note("dropped", fmt.Sprintf("%d interval(s) not sampled: the sampler fell behind", s.dropped))
	}
	return s.writeErr
}

func (s *Sampler) write(t result.Telemetry) error {
	if s.o.Out == nil {
		return nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if _, err := s.o.Out.Write(append(b, '\n')); err != nil {
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
	return append([]string(nil), s.reasons...)
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

// Apply folds the sampler's reasons into h: any reason makes the run unhealthy; with
// allowUnhealthy the run stays gateable and the override is recorded (Overridden).
func Apply(h result.Health, reasons []string, allowUnhealthy bool) result.Health {
	for _, r := range reasons {
		if !contains(h.Reasons, r) {
			h.Reasons = append(h.Reasons, r)
		}
	}
	if len(h.Reasons) > 0 {
		h.Healthy = false
	}
	if !h.Healthy && allowUnhealthy {
		h.Overridden = true
	}
	return h
}

// FromTelemetry re-derives health reasons from telemetry lines already written (a resumed
// run's first part): throttle bits now set, and measured-CPU frequencies that moved away from
// the first line's beyond tolerance (DefaultFreqTolerance when not positive).
func FromTelemetry(lines []result.Telemetry, tolerance float64) []string {
	if tolerance <= 0 {
		tolerance = DefaultFreqTolerance
	}
	var out []string
	seen := map[string]bool{}
	add := func(k, r string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	first := map[string]int64{}
	var thr0 *uint32
	for _, t := range lines {
		if t.Throttled != nil {
			w := host.Throttled(*t.Throttled)
			if thr0 == nil {
				thr0 = t.Throttled
			}
			if now := w & host.NowMask; now != 0 {
				add("now-"+now.String(), fmt.Sprintf("throttle word %s at interval %d (%s): %s", w, t.Interval, t.Time, strings.Join(now.Reasons(), ", ")))
			}
			if fresh := (w &^ host.Throttled(*thr0)) & host.OccurredMask; fresh != 0 {
				add("occ-"+fresh.String(), fmt.Sprintf("throttle word %s at interval %d (%s): %s since the run started", w, t.Interval, t.Time, strings.Join(fresh.Reasons(), ", ")))
			}
		}
		cpus := make([]string, 0, len(t.FreqKHz))
		for c := range t.FreqKHz {
			cpus = append(cpus, c)
		}
		sort.Strings(cpus)
		for _, c := range cpus {
			f := t.FreqKHz[c]
			f0, ok := first[c]
			if !ok {
				first[c] = f
				continue
			}
			if f0 > 0 && math.Abs(float64(f-f0))/float64(f0) > tolerance {
				add("freq-"+c, fmt.Sprintf("cpu%s frequency changed %d→%d MHz at interval %d (%s)", c, f0/1000, f/1000, t.Interval, t.Time))
			}
		}
		if t.GCCycles > 0 {
			add("gc", fmt.Sprintf("%d GC cycle(s) while timing, first at interval %d", t.GCCycles, t.Interval))
		}
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
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
