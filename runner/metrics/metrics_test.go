package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/metrics"
)

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok || len(f.Metric) == 0 {
		t.Fatalf("no metric %s", name)
	}
	m := f.Metric[0]
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	t.Fatalf("metric %s has no value", name)
	return 0
}

// TestScrapeDuringSyntheticRun scrapes the endpoint while a real timed run over the
// synthetic backend is in progress, and again after it ended.
func TestScrapeDuringSyntheticRun(t *testing.T) {
	spec, err := synthetic.Parse("lognormal:median=200us,sigma=0.2")
	if err != nil {
		t.Fatal(err)
	}
	const dur = 1500 * time.Millisecond
	x := metrics.New(metrics.Options{Suite: "synthetic", Profile: "pr", Duration: dur})
	srv, err := metrics.Serve("127.0.0.1:0", x)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	var intervals atomic.Int32
	var mid map[string]*dto.MetricFamily
	scraped := make(chan struct{})
	go func() {
		defer close(scraped)
		for intervals.Load() < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		mid = scrape(t, srv.URL())
	}()
	temp := 51.5
	rep, err := harness.Run(synthetic.New(spec, 1), harness.Options{
		Duration: dur, Interval: 250 * time.Millisecond, Calibration: -1,
		Sink: x.Sink(harness.Discard{}),
		OnInterval: func(st harness.IntervalStats) {
			x.OnInterval(st)
			x.OnTelemetry(result.Telemetry{TempC: &temp, FreqKHz: map[string]int64{"3": 2400000}, Load1: 0.5, RSSBytes: 1 << 20})
			intervals.Add(1)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	<-scraped
	if mid == nil {
		t.Fatal("no scrape during the run")
	}
	if p := value(t, mid, "tailgate_progress_ratio"); p <= 0 || p >= 1 {
		t.Errorf("progress mid-run %v, want between 0 and 1", p)
	}
	if n := value(t, mid, "tailgate_iterations_total"); n <= 0 || n >= float64(rep.Samples) {
		t.Errorf("iterations mid-run %v (run total %d)", n, rep.Samples)
	}

	end := scrape(t, srv.URL())
	if n := value(t, end, "tailgate_latency_seconds"); n != float64(rep.Samples) {
		t.Errorf("histogram count %v, run samples %d", n, rep.Samples)
	}
	if n := value(t, end, "tailgate_iterations_total"); n != float64(rep.Samples) {
		t.Errorf("iterations %v, run samples %d", n, rep.Samples)
	}
	h := end["tailgate_latency_seconds"].Metric[0].Histogram
	// The synthetic median is 200µs: more than half the samples lie at or below the 2^18 ns
	// (262µs) bound and nearly none at or below 2^16 ns (65.5µs).
	checked := 0
	for _, b := range h.Bucket {
		switch b.GetUpperBound() {
		case float64(1<<18) / 1e9:
			checked++
			if share := float64(b.GetCumulativeCount()) / float64(h.GetSampleCount()); share < 0.5 {
				t.Errorf("≤262µs holds %.2f of the samples, want ≥ 0.5", share)
			}
		case float64(1<<16) / 1e9:
			checked++
			if b.GetCumulativeCount() > h.GetSampleCount()/100 {
				t.Errorf("≤65µs holds %d of %d samples", b.GetCumulativeCount(), h.GetSampleCount())
			}
		}
	}
	if checked != 2 {
		t.Errorf("found %d of the 2 bounds checked in %d buckets", checked, len(h.Bucket))
	}
	if v := value(t, end, "tailgate_cpu_temperature_celsius"); v != 51.5 {
		t.Errorf("temperature %v", v)
	}
	if v := value(t, end, "tailgate_cpu_frequency_hertz"); v != 2.4e9 {
		t.Errorf("frequency %v", v)
	}
	if l := end["tailgate_progress_ratio"].Metric[0].Label; len(l) != 2 || !strings.Contains(l[1].String(), "synthetic") {
		t.Errorf("labels %v", l)
	}
}

func TestBadAddr(t *testing.T) {
	if _, err := metrics.Serve("9464", metrics.New(metrics.Options{})); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Fatalf("err %v", err)
	}
}

// TestBucketsExact folds known values and checks each lands under the right bound, including
// values on either side of a power of two. A value exactly on a bound starts HdrHistogram's next
// equivalence range and so counts under the next bound: the one place the fold is not `le`.
func TestBucketsExact(t *testing.T) {
	h := result.NewHistogram()
	vals := map[int64]int64{1023: 1, 1024: 2, 1025: 4, 262143: 8, 262144: 16, 300000: 32, 10_000_000_000: 64}
	for v, n := range vals {
		if err := h.RecordValues(v, n); err != nil {
			t.Fatal(err)
		}
	}
	x := metrics.New(metrics.Options{Suite: "s"})
	x.ObserveInterval(h)
	srv := httptest.NewServer(x.Handler())
	defer srv.Close()
	hist := scrape(t, srv.URL)["tailgate_latency_seconds"].Metric[0].Histogram
	want := map[float64]uint64{
		float64(1<<10) / 1e9: 1,             // 1023
		float64(1<<11) / 1e9: 1 + 2 + 4,     // 1024 and 1025
		float64(1<<18) / 1e9: 1 + 2 + 4 + 8, // 262143
		float64(1<<19) / 1e9: 1 + 2 + 4 + 8 + 16 + 32,
		float64(1<<33) / 1e9: 63, // 10 s is above the last bound: only in the count
	}
	for _, b := range hist.Bucket {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("le %g: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if hist.GetSampleCount() != 127 {
		t.Errorf("count %d, want 127", hist.GetSampleCount())
	}
}

// BenchmarkObserveInterval is the writer goroutine's cost per interval swap of folding a
// one-second, 1,000-sample interval histogram into the Prometheus buckets.
func BenchmarkObserveInterval(b *testing.B) {
	h := result.NewHistogram()
	for i := range 1000 {
		_ = h.RecordValue(int64(200000 + 37*i))
	}
	x := metrics.New(metrics.Options{Suite: "s"})
	b.ReportAllocs()
	for b.Loop() {
		x.ObserveInterval(h)
	}
}

// TestPerIntervalAllocatesNothing: the writer goroutine folds every interval in and the
// sampler hands over every telemetry line while the GC is off.
func TestPerIntervalAllocatesNothing(t *testing.T) {
	h := result.NewHistogram()
	for i := range 1000 {
		_ = h.RecordValue(int64(200000 + 37*i))
	}
	_ = h.RecordValue(3_000_000_000)
	x := metrics.New(metrics.Options{Suite: "s", Duration: time.Minute})
	temp, thr := 51.5, uint32(0x50000)
	line := result.Telemetry{TempC: &temp, Throttled: &thr, FreqKHz: map[string]int64{"2": 2400000, "3": 2400000},
		IRQs: map[string]int64{"2": 1000, "3": 12}, RSSBytes: 1 << 24}
	st := harness.IntervalStats{Samples: 1001, Elapsed: time.Second, P50: 218000, P99: 236000, Max: 3_000_000_000}
	n := testing.AllocsPerRun(50, func() {
		x.ObserveInterval(h)
		x.OnInterval(st)
		x.OnTelemetry(line)
	})
	if n != 0 {
		t.Errorf("%v allocations per interval, want 0", n)
	}
}

// discardWriter is a reusable http.ResponseWriter that drops the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// TestScrapeAllocatesNothing: the GC is off while timing, so a scrape's garbage stays
// resident until the run ends; the exporter's own part of a scrape allocates nothing (the
// client library's handler allocated ~200 KB a scrape; net/http's per-request cost remains).
func TestScrapeAllocatesNothing(t *testing.T) {
	h := result.NewHistogram()
	for i := range 1000 {
		_ = h.RecordValue(int64(200000 + 37*i))
	}
	x := metrics.New(metrics.Options{Suite: "s", Profile: "nightly", Duration: time.Minute})
	temp := 51.5
	x.ObserveInterval(h)
	x.OnTelemetry(result.Telemetry{TempC: &temp, FreqKHz: map[string]int64{"2": 2400000, "3": 2400000}, IRQs: map[string]int64{"2": 1, "3": 2}})
	handler := x.Handler()
	w := &discardWriter{h: http.Header{}}
	req := httptest.NewRequest("GET", "/metrics", nil)
	handler.ServeHTTP(w, req)
	if n := testing.AllocsPerRun(20, func() { handler.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("%v allocations per scrape", n)
	}
}

// TestTextParses: the hand-written exposition parses, labels escaped, every family present.
func TestTextParses(t *testing.T) {
	x := metrics.New(metrics.Options{Suite: "we\"ird\\suite\nname", Profile: "pr"})
	thr := uint32(0x50005)
	x.OnTelemetry(result.Telemetry{Throttled: &thr, FreqKHz: map[string]int64{"10": 1, "2": 2}, IRQs: map[string]int64{"10": 3, "2": 4}})
	x.OnInterval(harness.IntervalStats{Samples: 10, Total: 10, P50: 1000, P99: 2000, Max: 3000})
	x.SetHealthy(false)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(x.AppendText(nil))))
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 15 {
		t.Errorf("%d families, want 15", len(fams))
	}
	for name, want := range map[string]float64{"tailgate_healthy": 0, "tailgate_throttled_word": 0x50005, "tailgate_iterations_total": 10} {
		if v := value(t, fams, name); v != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
	m := fams["tailgate_cpu_frequency_hertz"].Metric
	if len(m) != 2 || m[0].Gauge.GetValue() != 1000 || m[1].Gauge.GetValue() != 2000 {
		t.Errorf("frequencies %v", m)
	}
	for _, l := range fams["tailgate_healthy"].Metric[0].Label {
		if l.GetName() == "suite" && l.GetValue() != "we\"ird\\suite\nname" {
			t.Errorf("suite label %q", l.GetValue())
		}
	}
}
