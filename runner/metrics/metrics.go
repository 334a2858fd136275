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
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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
type Exporter struct {
	o       Options
	reg     *prometheus.Registry
	bounds  []int64 // bucket upper bounds in ns
	latency *prometheus.Desc

	mu sync.Mutex
	// sparse is a copy of the last interval histogram that keeps its storage across intervals,
	// so folding an interval in walks only its populated buckets and allocates nothing.
	sparse *hdrhistogram.PackedHistogram
	visit  func(value, count int64) bool // x.fold, bound once: a method value allocates
	counts []uint64                      // per bucket (not cumulative)
	count  uint64
	sumNs  float64

	iterations, intervals prometheus.Counter
	progress              prometheus.Gauge
	quantile              *prometheus.GaugeVec
	tempC, load1, rss     prometheus.Gauge
	freq, irqs            *prometheus.GaugeVec
	throttled, gc         prometheus.Gauge
	ctxsw, faults         *prometheus.GaugeVec
	healthy               prometheus.Gauge

	// The labelled gauges set per interval, resolved once: WithLabelValues allocates.
	p50, p99, pmax           prometheus.Gauge
	vol, invol, minor, major prometheus.Gauge
	freqByCPU, irqsByCPU     map[string]prometheus.Gauge
}

// New builds an exporter and its registry (the Go and process collectors included).
func New(o Options) *Exporter {
	if len(o.Buckets) == 0 {
		o.Buckets = DefaultBuckets
	}
	labels := prometheus.Labels{"suite": o.Suite, "profile": o.Profile}
	x := &Exporter{o: o, reg: prometheus.NewRegistry(), counts: make([]uint64, len(o.Buckets)),
		sparse:    hdrhistogram.NewPacked(result.LowestNs, result.HighestNs, result.SigFigs),
		freqByCPU: map[string]prometheus.Gauge{}, irqsByCPU: map[string]prometheus.Gauge{}}
	x.visit = x.fold
	for _, b := range o.Buckets {
		x.bounds = append(x.bounds, int64(b*1e9+0.5))
	}
	x.latency = prometheus.NewDesc(Namespace+"_latency_seconds", "End-to-end inference latency of the timed run, folded in at each interval swap.", nil, labels)
	f := func(name, help string) prometheus.GaugeOpts {
		return prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels}
	}
	x.iterations = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "iterations_total", Help: "Timed inferences so far.", ConstLabels: labels})
	x.intervals = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "intervals_total", Help: "Finished interval histograms so far.", ConstLabels: labels})
	x.progress = prometheus.NewGauge(f("progress_ratio", "Share of the run's duration (or iterations) done, 0 to 1."))
	x.quantile = prometheus.NewGaugeVec(f("interval_latency_seconds", "Latency quantiles of the last finished interval."), []string{"quantile"})
	x.tempC = prometheus.NewGauge(f("cpu_temperature_celsius", "CPU temperature at the last interval."))
	x.load1 = prometheus.NewGauge(f("load1", "One-minute load average at the last interval."))
	x.rss = prometheus.NewGauge(f("rss_bytes", "Resident set of the tailgate process."))
	x.freq = prometheus.NewGaugeVec(f("cpu_frequency_hertz", "Current frequency of a measured CPU."), []string{"cpu"})
	x.irqs = prometheus.NewGaugeVec(f("interval_interrupts", "Interrupts a measured CPU took in the last interval."), []string{"cpu"})
	x.throttled = prometheus.NewGauge(f("throttled_word", "Raspberry Pi get_throttled word at the last interval."))
	x.gc = prometheus.NewGauge(f("interval_gc_cycles", "GC cycles in the last interval (must be 0)."))
	x.ctxsw = prometheus.NewGaugeVec(f("interval_context_switches", "Context switches of the timing thread in the last interval."), []string{"kind"})
	x.faults = prometheus.NewGaugeVec(f("interval_page_faults", "Page faults of the timing thread in the last interval."), []string{"kind"})
	x.healthy = prometheus.NewGauge(f("healthy", "1 while no throttling, under-voltage or frequency change has been seen."))
	x.healthy.Set(1)
	x.p50, x.p99, x.pmax = x.quantile.WithLabelValues("0.5"), x.quantile.WithLabelValues("0.99"), x.quantile.WithLabelValues("1")
	x.vol, x.invol = x.ctxsw.WithLabelValues("voluntary"), x.ctxsw.WithLabelValues("involuntary")
	x.minor, x.major = x.faults.WithLabelValues("minor"), x.faults.WithLabelValues("major")
	x.reg.MustRegister(x, x.iterations, x.intervals, x.progress, x.quantile, x.tempC, x.load1, x.rss,
		x.freq, x.irqs, x.throttled, x.gc, x.ctxsw, x.faults, x.healthy,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return x
}

// Describe implements prometheus.Collector for the latency histogram.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) { ch <- x.latency }

// Collect implements prometheus.Collector: a constant histogram of everything folded in so far.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	x.mu.Lock()
	buckets := make(map[float64]uint64, len(x.counts))
	var cum uint64
	for i, n := range x.counts {
		cum += n
		buckets[x.o.Buckets[i]] = cum
	}
	count, sum := x.count, x.sumNs/1e9
	x.mu.Unlock()
	ch <- prometheus.MustNewConstHistogram(x.latency, count, sum, buckets)
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
	x.iterations.Add(float64(st.Samples))
	x.intervals.Inc()
	switch {
	case x.o.Duration > 0:
		x.progress.Set(min(1, st.Elapsed.Seconds()/x.o.Duration.Seconds()))
	case x.o.Iterations > 0:
		x.progress.Set(min(1, float64(st.Total)/float64(x.o.Iterations)))
	}
	if st.Samples > 0 {
		x.p50.Set(float64(st.P50) / 1e9)
		x.p99.Set(float64(st.P99) / 1e9)
		x.pmax.Set(float64(st.Max) / 1e9)
	}
}

// OnTelemetry records a telemetry line (the sampler's OnSample hook). It keeps nothing of
// the line, which the sampler lends, and allocates nothing once each CPU has been seen.
func (x *Exporter) OnTelemetry(t result.Telemetry) {
	if t.TempC != nil {
		x.tempC.Set(*t.TempC)
	}
	x.load1.Set(t.Load1)
	x.rss.Set(float64(t.RSSBytes))
	for c, f := range t.FreqKHz {
		gauge(x.freqByCPU, x.freq, c).Set(float64(f) * 1e3)
	}
	for c, n := range t.IRQs {
		gauge(x.irqsByCPU, x.irqs, c).Set(float64(n))
	}
	if t.Throttled != nil {
		x.throttled.Set(float64(*t.Throttled))
	}
	x.gc.Set(float64(t.GCCycles))
	x.vol.Set(float64(t.VolCtxSw))
	x.invol.Set(float64(t.InvolCtxSw))
	x.minor.Set(float64(t.MinorFaults))
	x.major.Set(float64(t.MajorFaults))
}

// gauge returns the cached child of vec for cpu, resolving it on first sight. The key is
// cloned because the line it came from is lent.
func gauge(cache map[string]prometheus.Gauge, vec *prometheus.GaugeVec, cpu string) prometheus.Gauge {
	g, ok := cache[cpu]
	if !ok {
		cpu = strings.Clone(cpu)
		g = vec.WithLabelValues(cpu)
		cache[cpu] = g
	}
	return g
}

// SetHealthy sets the health gauge.
func (x *Exporter) SetHealthy(ok bool) {
	v := 0.0
	if ok {
		v = 1
	}
	x.healthy.Set(v)
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
	s.x.ObserveInterval(iv.Hist)
	return nil
}

// Handler serves the registry in the Prometheus text (or OpenMetrics) format.
func (x *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{Registry: x.reg})
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
