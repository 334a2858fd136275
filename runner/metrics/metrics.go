// Package metrics serves a run in progress to Prometheus (`--metrics-addr HOST:PORT`): the
// latency histogram, iterations, progress, the last interval's quantiles and the telemetry
// gauges, with the suite as a label.
//
// The timed loop never touches it: the harness's writer goroutine folds each finished interval
// histogram into cumulative bucket counts at the interval swap, and the sampler hands over each
// telemetry line; a scrape reads those under a mutex. It does not measure, sample or judge.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
)

// Namespace prefixes every metric name.
const Namespace = "tailgate"

// DefaultBuckets are the latency histogram's upper bounds in seconds: powers of two
// nanoseconds from 2^10 (1.02 µs) to 2^33 (8.6 s), which covers a Pi's microsecond kernels and a
// slow model's seconds alike. Powers of two are also HdrHistogram's own bucket boundaries, so
// folding an interval histogram into them is exact (see fold), except that a value exactly on
// a bound counts under the next one.
var DefaultBuckets = func() []float64 {
	var out []float64
	for k := 10; k <= 33; k++ {
		out = append(out, float64(int64(1)<<k)/1e9)
	}
	return out
}()

// Options describe the run being exported.
type Options struct {
	Suite, Profile string
	// Duration or Iterations bound the run, for the progress gauge (neither: progress stays 0).
	Duration   time.Duration
	Iterations int64
	// Buckets override DefaultBuckets.
	Buckets []float64
}

// Exporter holds the run's state for scrapes.
//
// The GC is off while a run is timed, so everything allocated until the run ends stays
// resident. The exporter therefore keeps plain numbers and writes the Prometheus text format
// itself into a buffer it reuses: a scrape allocates only what net/http allocates per request
// (about 5 KB), where the Prometheus client library's handler, with its Go and process
// collectors, allocated ~200 KB per scrape (issue 16: a run scraped every 10 s grew linearly).
type Exporter struct {
	o      Options
	labels string  // the constant labels, rendered: profile="…",suite="…"
	bounds []int64 // bucket upper bounds in ns
	les    []string

	mu sync.Mutex
	// sparse is a copy of the last interval histogram that keeps its storage across intervals,
	// so folding an interval in walks only its populated buckets and allocates nothing.
	sparse *hdrhistogram.PackedHistogram
	visit  func(value, count int64) bool // x.fold, bound once: a method value allocates
	counts []uint64                      // per bucket (not cumulative)
	count  uint64
	sumNs  float64

	iterations, intervals    float64
	progress                 float64
	p50, p99, pmax           float64
	tempC, load1, rss        float64
	throttled, gc            float64
	vol, invol, minor, major float64
	healthy                  float64
	cpus                     []cpuGauges // sorted by label value, as the client library sorts

	// scrape serialises scrapes: out is rendered under mu, then written under scrape alone, so
	// a slow client never holds up the harness's writer.
	scrape sync.Mutex
	out    []byte
}

// cpuGauges are a measured CPU's labelled gauges; set says which have been reported.
type cpuGauges struct {
	cpu             string
	freq, irqs      float64
	freqSet, irqSet bool
}

// New builds an exporter.
func New(o Options) *Exporter {
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	x := &Exporter{o: o, counts: make([]uint64, len(o.Buckets)), healthy: 1,
		sparse: hdrhistogram.NewPacked(result.LowestNs, result.HighestNs, result.SigFigs)}
	x.visit = x.fold
	x.labels = `profile="` + escape(o.Profile) + `",suite="` + escape(o.Suite) + `"`
	for _, b := range o.Buckets {
		x.bounds = append(x.bounds, int64(b*1e9+0.5))
		x.les = append(x.les, string(appendFloat(nil, b)))
	}
	return x
}

// escape escapes a label value for the text format.
func escape(v string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(v)
}

// ObserveInterval folds one finished interval histogram (nanoseconds) into the latency
// histogram. It runs on the harness's writer goroutine, once per interval and class, while
// the GC is off: after the first intervals it allocates nothing.
func (x *Exporter) ObserveInterval(h *hdrhistogram.Histogram) {
	n := h.TotalCount()
	if n == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sparse.LowestTrackableValue() != h.LowestTrackableValue() || x.sparse.HighestTrackableValue() != h.HighestTrackableValue() ||
		x.sparse.SignificantFigures() != h.SignificantFigures() {
		// Same geometry, so MergeFrom copies counts index for index instead of re-recording.
		x.sparse = hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	}
	x.sparse.Reset()
	x.sparse.MergeFrom(h)
	x.sparse.ForEachBucket(x.visit)
	x.count += uint64(n)
	x.sumNs += x.sparse.Mean() * float64(n)
}

// fold adds one populated bucket of the interval to the first bound above its lowest value.
// No equivalence range straddles a power of two, so for power-of-two bounds that is the bound
// its highest value falls under: the fold is exact, except that a value exactly on a bound
// (the lowest of its range) counts under the next one.
func (x *Exporter) fold(lowest, count int64) bool {
	i, _ := slices.BinarySearch(x.bounds, lowest+1)
	if i < len(x.bounds) {
		x.counts[i] += uint64(count)
	}
	return true
}

// OnInterval records an interval's progress and quantiles (the harness's OnInterval hook).
func (x *Exporter) OnInterval(st harness.IntervalStats) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.iterations += float64(st.Samples)
	x.intervals++
	switch {
	case x.o.Duration > 0:
		x.progress = min(1, st.Elapsed.Seconds()/x.o.Duration.Seconds())
	case x.o.Iterations > 0:
		x.progress = min(1, float64(st.Total)/float64(x.o.Iterations))
	}
	if st.Samples > 0 {
		x.p50, x.p99, x.pmax = float64(st.P50)/1e9, float64(st.P99)/1e9, float64(st.Max)/1e9
	}
}

// OnTelemetry records a telemetry line (the sampler's OnSample hook). It keeps nothing of
// the line, which the sampler lends, and allocates nothing once each CPU has been seen.
func (x *Exporter) OnTelemetry(t result.Telemetry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if t.TempC != nil {
		x.tempC = *t.TempC
	}
	x.load1 = t.Load1
	x.rss = float64(t.RSSBytes)
	for c, f := range t.FreqKHz {
		g := x.cpu(c)
		g.freq, g.freqSet = float64(f)*1e3, true
	}
	for c, n := range t.IRQs {
		g := x.cpu(c)
		g.irqs, g.irqSet = float64(n), true
	}
	if t.Throttled != nil {
		x.throttled = float64(*t.Throttled)
	}
	x.gc = float64(t.GCCycles)
	x.vol, x.invol = float64(t.VolCtxSw), float64(t.InvolCtxSw)
	x.minor, x.major = float64(t.MinorFaults), float64(t.MajorFaults)
}

// cpu returns the gauges of a CPU label, adding them on first sight. The key is cloned because
// the line it came from is lent. Called with mu held.
func (x *Exporter) cpu(c string) *cpuGauges {
	i, ok := slices.BinarySearchFunc(x.cpus, c, func(g cpuGauges, c string) int { return strings.Compare(g.cpu, c) })
	if !ok {
		x.cpus = slices.Insert(x.cpus, i, cpuGauges{cpu: strings.Clone(c)})
	}
	return &x.cpus[i]
}

// SetHealthy sets the health gauge.
func (x *Exporter) SetHealthy(ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	x.mu.Lock()
	x.healthy = v
	x.mu.Unlock()
}

// AppendText appends the exposition of the current state in the Prometheus text format
// (version 0.0.4), families sorted by name, to b.
func (x *Exporter) AppendText(b []byte) []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	gauge := func(b []byte, name, help string, v float64) []byte {
		b = header(b, name, help, "gauge")
		return x.sample(b, name, "", "", v)
	}
	// A labelled family has no samples until a CPU is seen: it is left out, as the client
	// library leaves it out.
	for i, g := range x.cpus {
		if i == 0 {
			b = header(b, Namespace+"_cpu_frequency_hertz", "Current frequency of a measured CPU.", "gauge")
		}
		if g.freqSet {
			b = x.sample(b, Namespace+"_cpu_frequency_hertz", "cpu", g.cpu, g.freq)
		}
	}
	b = gauge(b, Namespace+"_cpu_temperature_celsius", "CPU temperature at the last interval.", x.tempC)
	b = gauge(b, Namespace+"_healthy", "1 while no throttling, under-voltage or frequency change has been seen.", x.healthy)
	b = header(b, Namespace+"_interval_context_switches", "Context switches of the timing thread in the last interval.", "gauge")
	b = x.sample(b, Namespace+"_interval_context_switches", "kind", "involuntary", x.invol)
	b = x.sample(b, Namespace+"_interval_context_switches", "kind", "voluntary", x.vol)
	b = gauge(b, Namespace+"_interval_gc_cycles", "GC cycles in the last interval (must be 0).", x.gc)
	for i, g := range x.cpus {
		if i == 0 {
			b = header(b, Namespace+"_interval_interrupts", "Interrupts a measured CPU took in the last interval.", "gauge")
		}
		if g.irqSet {
			b = x.sample(b, Namespace+"_interval_interrupts", "cpu", g.cpu, g.irqs)
		}
	}
	b = header(b, Namespace+"_interval_latency_seconds", "Latency quantiles of the last finished interval.", "gauge")
	b = x.sample(b, Namespace+"_interval_latency_seconds", "quantile", "0.5", x.p50)
	b = x.sample(b, Namespace+"_interval_latency_seconds", "quantile", "0.99", x.p99)
	b = x.sample(b, Namespace+"_interval_latency_seconds", "quantile", "1", x.pmax)
	b = header(b, Namespace+"_interval_page_faults", "Page faults of the timing thread in the last interval.", "gauge")
	b = x.sample(b, Namespace+"_interval_page_faults", "kind", "major", x.major)
	b = x.sample(b, Namespace+"_interval_page_faults", "kind", "minor", x.minor)
	b = header(b, Namespace+"_intervals_total", "Finished interval histograms so far.", "counter")
	b = x.sample(b, Namespace+"_intervals_total", "", "", x.intervals)
	b = header(b, Namespace+"_iterations_total", "Timed inferences so far.", "counter")
	b = x.sample(b, Namespace+"_iterations_total", "", "", x.iterations)
	b = header(b, Namespace+"_latency_seconds", "End-to-end inference latency of the timed run, folded in at each interval swap.", "histogram")
	var cum uint64
	for i, n := range x.counts {
		cum += n
		b = x.sample(b, Namespace+"_latency_seconds_bucket", "le", x.les[i], float64(cum))
	}
	b = x.sample(b, Namespace+"_latency_seconds_bucket", "le", "+Inf", float64(x.count))
	b = x.sample(b, Namespace+"_latency_seconds_sum", "", "", x.sumNs/1e9)
	b = x.sample(b, Namespace+"_latency_seconds_count", "", "", float64(x.count))
	b = gauge(b, Namespace+"_load1", "One-minute load average at the last interval.", x.load1)
	b = gauge(b, Namespace+"_progress_ratio", "Share of the run's duration (or iterations) done, 0 to 1.", x.progress)
	b = gauge(b, Namespace+"_rss_bytes", "Resident set of the tailgate process.", x.rss)
	b = gauge(b, Namespace+"_throttled_word", "Raspberry Pi get_throttled word at the last interval.", x.throttled)
	return b
}

func header(b []byte, name, help, typ string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

// sample appends one sample line: the constant labels, then label=value if label is set (the
// label values written here need no escaping: CPU numbers, kinds, quantiles and bounds).
func (x *Exporter) sample(b []byte, name, label, value string, v float64) []byte {
	b = append(b, name...)
	b = append(b, '{')
	b = append(b, x.labels...)
	if label != "" {
		b = append(b, ',')
		b = append(b, label...)
		b = append(b, `="`...)
		b = append(b, value...)
		b = append(b, '"')
	}
	b = append(b, "} "...)
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendFloat formats a sample value as the client library does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// Sink wraps a harness sink so every interval also reaches the exporter, after the sink
// has written it.
func (x *Exporter) Sink(next harness.Sink) harness.Sink { return sink{x: x, next: next} }

type sink struct {
	x    *Exporter
	next harness.Sink
}

func (s sink) WriteInterval(iv result.Interval) error {
	if err := s.next.WriteInterval(iv); err != nil {
		return err
	}
	if !result.IsDeviceTag(iv.Tag) { // a worker's device-side durations are not latencies of the run
		s.x.ObserveInterval(iv.Hist)
	}
	return nil
}

// contentType is the text format's, as the client library serves it.
var contentType = []string{"text/plain; version=0.0.4; charset=utf-8"}

// Handler serves the metrics in the Prometheus text format. Past the first scrape it allocates
// nothing itself (net/http allocates its request).
func (x *Exporter) Handler() http.Handler { return http.HandlerFunc(x.serve) }

func (x *Exporter) serve(w http.ResponseWriter, r *http.Request) {
	x.scrape.Lock()
	defer x.scrape.Unlock()
	x.out = x.AppendText(x.out[:0])
	w.Header()["Content-Type"] = contentType
	_, _ = w.Write(x.out)
}

// Server is the HTTP endpoint of an exporter.
type Server struct {
	srv *http.Server
	ln  net.Listener
	err chan error
}

// Serve listens on addr (HOST:PORT; port 0 picks one) and serves /metrics until Close.
func Serve(addr string, x *Exporter) (*Server, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("--metrics-addr %q: want HOST:PORT (e.g. 127.0.0.1:9464): %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", x.Handler())
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln, err: make(chan error, 1)}
	go func() { s.err <- s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the metrics endpoint's URL.
func (s *Server) URL() string { return "http://" + s.Addr() + "/metrics" }

// Close stops the server, giving in-flight scrapes a second to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
