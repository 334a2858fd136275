package measure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/metrics"
	"github.com/tailgate-ci/tailgate/runner/stress"
	"github.com/tailgate-ci/tailgate/runner/telemetry"
)

// afterInterval, when set (by tests), is called on the harness's writer goroutine after the
// interval's progress, telemetry hand-over and metrics: it observes the run's memory per
// interval without being part of it.
var afterInterval func(harness.IntervalStats)

// ErrInterrupted is returned (wrapped) when the context ended the run before its end.
var ErrInterrupted = errors.New("interrupted")

// Resume is what a killed run left that a new Measure continues: the log's start, the kept
// intervals and their telemetry. runner/ci recovers it from a run folder.
type Resume struct {
	// LogStart is the log's StartTime: appended intervals keep timestamps relative to it.
	LogStart time.Time
	// Start is the first interval's start, End the last kept interval's end.
	Start, End time.Time
	// Intervals is the number of whole intervals kept (all classes of an interval count once).
	Intervals int
	// Elapsed is the timed wall time those intervals cover.
	Elapsed time.Duration
	// TelemetryLines is how many telemetry lines were kept (at most one per kept interval), and
	// TelemetryReasons the health reasons they give (telemetry.Judge): the lines themselves are
	// not held.
	TelemetryLines   int
	TelemetryReasons []string
}

// Options are what a measurement adds to a plan: where the runtime and host readings come
// from, the background load, the metrics endpoint, the health override, output, the run to
// resume and the identity written into meta.json.
type Options struct {
	// ORT loads the ONNX Runtime library (the ort backend only).
	ORT func() (ortlib.Library, error)
	// EchoWorker is the echo worker's argv (`tailgate worker echo`): with the exec backend, the
	// transport is calibrated over it, placed as the worker is, before timing. Nil: not
	// calibrated.
	EchoWorker []string
	// Root holds the proc/ and sys/ trees telemetry reads ("" means /).
	Root string
	// Stress is a background load command started after warm-up (see runner/stress).
	Stress string
	// MetricsAddr serves Prometheus metrics of the run in progress on HOST:PORT when set.
	MetricsAddr    string
	AllowUnhealthy bool
	// Log receives progress and warnings; Progress says how much.
	Log      io.Writer
	Progress progress.Mode
	Resume   *Resume
	// WriteInterrupted: a run stopped by the context writes meta.json marked unhealthy
	// (tailgate run). Without it none is written, so that `ci` resumes the run instead.
	WriteInterrupted bool
	Git              result.Git
	Tool             result.Tool
}

// CheckOut refuses to write into an existing, non-empty directory: a result is never
// overwritten or mixed with another.
func CheckOut(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s: directory exists and is not empty; refusing to overwrite a result", dir)
	}
	return nil
}

// run is one measurement in progress: its files, sinks and the reasons gathered for health.
type run struct {
	p         *Plan
	o         Options
	log       io.Writer
	b         *opened
	lw        *result.LogWriter
	tf        *os.File
	offset    int
	duration  time.Duration
	exporter  *metrics.Exporter
	smp       *telemetry.Sampler
	transport execbackend.Transport
}

// TransportSamples is how many echo round trips calibrate the exec backend's transport.
const TransportSamples = 2000

// Measure times p into p.Out (which must exist) with telemetry, health, an optional background
// load and metrics endpoint, appending to a killed run when o.Resume is set. It writes meta.json
// last; when ctx ends the run early, no meta.json is written (so that it can be resumed)
// unless o.WriteInterrupted. A backend that fails mid-run still leaves its partial result and
// returns its meta with the error.
func Measure(ctx context.Context, p *Plan, o Options) (*result.Meta, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Stress != "" {
		if _, err := stress.Split(o.Stress); err != nil {
			return nil, fmt.Errorf("stress: %w", err)
		}
	}
	r := &run{p: p, o: o, log: o.Log, duration: p.Duration}
	var err error
	if p.Backend == "exec" && o.EchoWorker != nil {
		// Before the worker starts: the two must not share the measured CPUs while one is timed.
		if r.transport, err = execbackend.CalibrateTransport(workerOptions(p, o.EchoWorker), o.EchoWorker, TransportSamples); err != nil {
			return nil, err
		}
	}
	if r.b, err = openBackend(p, o.ORT); err != nil {
		return nil, err
	}
	defer r.b.Close()
	fp, fpErr := host.Collect(host.Options{CPUs: p.CPUs, ToolVersion: o.Tool.Version})
	if fpErr != nil {
		fmt.Fprintf(r.log, "warning: %v\n", fpErr)
	}
	if err := r.openFiles(); err != nil {
		return nil, err
	}
	defer r.lw.Close()
	defer r.tf.Close()
	if o.MetricsAddr != "" {
		r.exporter = metrics.New(metrics.Options{Suite: p.Suite, Profile: p.Profile, Duration: r.duration, Iterations: p.Iterations})
		srv, err := metrics.Serve(o.MetricsAddr, r.exporter)
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		fmt.Fprintf(r.log, "tailgate: metrics on %s\n", srv.URL())
	}
	r.smp, err = telemetry.New(telemetry.Options{Root: o.Root, CPUs: p.CPUs, Out: r.tf, OnSample: func(t result.Telemetry) {
		if r.exporter != nil {
			r.exporter.OnTelemetry(t)
		}
	}})
	if err != nil {
		fmt.Fprintf(r.log, "warning: telemetry: %v\n", err)
	}

	c := watchCancel(ctx)
	rep, runErr := r.time(&c.stop)
	c.done()
	if rep == nil {
		return nil, runErr
	}
	interrupted := c.cause()
	if !rep.Stopped {
		interrupted = ""
	}
	if interrupted != "" && !o.WriteInterrupted {
		return nil, fmt.Errorf("%w (%s): %s keeps the %d intervals measured so far; rerun the same command to resume", ErrInterrupted, interrupted, p.Out, r.offset+rep.Intervals)
	}
	if r.offset == 0 && rep.Samples == 0 {
		// Nothing was timed (a warm-up that was interrupted, or a backend that failed at
		// once): there is no result to gate, and an empty one must never read as a pass.
		return nil, errors.Join(fmt.Errorf("no samples were measured%s", interruptedNote(interrupted)), runErr)
	}
	var pathErr *fs.PathError
	if errors.As(runErr, &pathErr) {
		// A write error (a full disk, say) tore the log where it failed: it is the cause to
		// report, not the parse error reading the log back would give, and the folder is not a
		// result.
		return nil, fmt.Errorf("%w (the result in %s is incomplete)", runErr, p.Out)
	}
	m, err := r.meta(fp, rep, interrupted)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	if err := result.WriteMeta(p.Out, m); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if runErr != nil {
		return m, runErr
	}
	if interrupted != "" {
		return m, fmt.Errorf("%w (%s)", ErrInterrupted, interrupted)
	}
	return m, nil
}

// openFiles creates latency.hlog and telemetry.jsonl, or opens them for appending on resume.
func (r *run) openFiles() error {
	var err error
	if rec := r.o.Resume; rec != nil {
		logPath, telPath := filepath.Join(r.p.Out, result.LatencyFile), filepath.Join(r.p.Out, result.TelemetryFile)
		r.offset = rec.Intervals
		if r.duration > 0 {
			r.duration -= rec.Elapsed
		}
		if r.lw, err = result.AppendLog(logPath, rec.LogStart); err != nil {
			return err
		}
		r.tf, err = os.OpenFile(telPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			r.lw.Close()
		}
		return err
	}
	r.lw, r.tf, err = createFiles(r.p.Out)
	return err
}

// createFiles creates the latency.hlog and telemetry.jsonl of a new result in out.
func createFiles(out string) (*result.LogWriter, *os.File, error) {
	lw, err := result.CreateLog(filepath.Join(out, result.LatencyFile), time.Now())
	if err != nil {
		return nil, nil, err
	}
	tf, err := os.OpenFile(filepath.Join(out, result.TelemetryFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		lw.Close()
		return nil, nil, err
	}
	return lw, tf, nil
}

// time runs the harness (after a separate warm-up when a background load starts between the
// two), with telemetry sampling around it. The error joins the run's, the load's and the
// telemetry's.
func (r *run) time(stop *atomic.Bool) (*harness.Report, error) {
	p, o := r.p, r.o
	var throttle sched.Throttle
	if p.Policy.Kind == sched.FIFO {
		var err error
		if throttle, err = sched.ReadThrottle("/"); err != nil {
			fmt.Fprintf(r.log, "warning: cannot read RT throttling settings (%v); the FIFO loop is not paced\n", err)
		}
	}
	pr := progress.New(r.log, o.Progress, r.duration, p.Iterations)
	var sink harness.Sink = r.lw
	if r.exporter != nil {
		sink = r.exporter.Sink(sink)
	}
	opts := harness.Options{
		Duration: r.duration, Iterations: p.Iterations, WarmupDuration: p.WarmupDuration, WarmupIterations: p.WarmupIterations,
		Interval: p.Interval, CPUs: firstCPU(p.CPUs), Sched: p.Policy, Mlock: p.Mlock, Throttle: throttle,
		Sink: sink, Stop: stop, Open: p.Open,
		OnInterval: func(st harness.IntervalStats) {
			st.Index += r.offset
			pr.Interval(st)
			r.smp.OnInterval(st)
			if r.exporter != nil {
				r.exporter.OnInterval(st)
			}
			if afterInterval != nil {
				afterInterval(st)
			}
		},
	}
	r.smp.Start()
	var load *stress.Process
	var warm *harness.Report
	if o.Stress != "" {
		// The load starts after warm-up: warm up (and calibrate) in a run of its own, start the
		// load, then time without a second warm-up.
		wo := opts
		wo.Duration, wo.Iterations, wo.Sink, wo.OnInterval = p.WarmupDuration, p.WarmupIterations, harness.Discard{}, nil
		wo.WarmupDuration, wo.WarmupIterations = 0, 0
		if wo.Duration == 0 && wo.Iterations == 0 {
			wo.Iterations = 1
		}
		var err error
		if warm, err = harness.Run(r.b.Backend, wo); err != nil {
			_ = r.smp.Close()
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		if load, err = stress.Start(o.Stress, stress.Options{}); err != nil {
			_ = r.smp.Close()
			return nil, err
		}
		defer load.Stop()
		opts.WarmupDuration, opts.WarmupIterations, opts.Calibration = 0, 0, -1
	}
	rep, runErr := harness.Run(r.b.Backend, opts)
	if load != nil {
		if err := load.Stop(); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("stress: %w", err))
		}
	}
	if err := r.smp.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	pr.Done()
	if rep != nil && warm != nil {
		rep.Calibration, rep.Warmup = warm.Calibration, warm.Samples
	}
	return rep, runErr
}

// meta builds meta.json: the plan, the fingerprint, the harness's report, counts and summary
// from the log (it holds a resumed run's earlier intervals too), and health.
func (r *run) meta(fp result.Fingerprint, rep *harness.Report, interrupted string) (*result.Meta, error) {
	p, o := r.p, r.o
	m := buildMeta(p, r.b, fp, rep, o.Git, o.Tool)
	merged, byTag, err := mergeLog(filepath.Join(p.Out, result.LatencyFile))
	if err != nil {
		return nil, err
	}
	m.Summary = result.Summarize(merged)
	m.Counts.Samples = merged.TotalCount()
	m.Counts.Intervals = r.offset + rep.Intervals
	if len(byTag) > 1 {
		m.Classes = map[string]result.Summary{}
		for t, h := range byTag {
			m.Classes[t] = result.Summarize(h)
		}
	}
	if p.Backend == "exec" {
		if m.DeviceTime, err = deviceTime(filepath.Join(p.Out, result.LatencyFile)); err != nil {
			return nil, err
		}
		m.Calibration.TransportP50Ns, m.Calibration.TransportP99Ns = r.transport.P50Ns, r.transport.P99Ns
	}
	var replayed []string // the killed part's telemetry, judged by the same rules
	if m.Tags == nil {
		m.Tags = map[string]string{}
	}
	if rec := o.Resume; rec != nil {
		m.Start = rec.Start
		replayed = rec.TelemetryReasons
		m.Tags["resumed"] = fmt.Sprintf("after interval %d (%s measured; %s gap)", rec.Intervals, rec.Elapsed.Round(time.Millisecond),
			rep.Start.Sub(rec.End).Round(time.Second))
	}
	if o.Stress != "" {
		m.Tags["stress"] = o.Stress
	}
	if len(m.Tags) == 0 {
		m.Tags = nil
	}
	reasons := slices.Concat(telemetry.HarnessReasons(rep), replayed, r.smp.Reasons())
	if interrupted != "" {
		reasons = append(reasons, fmt.Sprintf("interrupted by %s after %s", interrupted, m.End.Sub(m.Start).Round(time.Millisecond)))
	}
	m.Health = telemetry.Apply(m.Health, reasons, o.AllowUnhealthy)
	if r.exporter != nil {
		r.exporter.SetHealthy(m.Health.Healthy)
	}
	return m, nil
}

// mergeLog streams the log (it holds a resumed run's earlier intervals too) into one merged
// histogram and one per tag, holding one interval at a time: a 48-hour log at 100 ms intervals
// has 1.7 million of them.
func mergeLog(path string) (*hdrhistogram.Histogram, map[string]*hdrhistogram.Histogram, error) {
	f, err := result.OpenRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	merged := result.NewHistogram()
	byTag := map[string]*hdrhistogram.Histogram{}
	_, err = result.ScanLog(path, f, func(iv result.Interval) error {
		merged.Merge(iv.Hist)
		h := byTag[iv.Tag]
		if h == nil {
			h = result.NewHistogram()
			byTag[iv.Tag] = h
		}
		h.Merge(iv.Hist)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return merged, byTag, nil
}

// deviceTime summarises the worker's device-side durations in the log (all classes), or nil
// when it reported none.
func deviceTime(path string) (*result.Summary, error) {
	f, err := result.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := result.NewHistogram()
	if _, err := result.ScanDeviceLog(path, f, func(iv result.Interval) error { h.Merge(iv.Hist); return nil }); err != nil {
		return nil, err
	}
	if h.TotalCount() == 0 {
		return nil, nil
	}
	s := result.Summarize(h)
	return &s, nil
}

func firstCPU(cpus []int) []int {
	if len(cpus) == 0 {
		return nil
	}
	return cpus[:1]
}

// cancelWatch turns the context's end into the harness's stop flag, which the timing loop
// polls, and keeps the cause for the result's health reasons.
type cancelWatch struct {
	stop   atomic.Bool
	reason atomic.Value
	quit   chan struct{}
}

// watchCancel watches ctx until done is called.
func watchCancel(ctx context.Context) *cancelWatch {
	c := &cancelWatch{quit: make(chan struct{})}
	go func() {
		select {
		case <-ctx.Done():
			c.reason.Store(context.Cause(ctx).Error())
			c.stop.Store(true)
		case <-c.quit:
		}
	}()
	return c
}

// done ends the watch.
func (c *cancelWatch) done() { close(c.quit) }

// cause is why the context ended, "" while it has not.
func (c *cancelWatch) cause() string {
	s, _ := c.reason.Load().(string)
	return s
}

func interruptedNote(cause string) string {
	if cause == "" {
		return ""
	}
	return " (interrupted: " + cause + ")"
}
