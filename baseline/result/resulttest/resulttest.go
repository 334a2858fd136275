// Package resulttest writes synthetic result directories for tests, with baseline/result's own
// writers, so the code under test reads them exactly as it reads a board's results. It is the
// one such writer: gate/gatetest draws latency processes into it, and the baseline and command
// tests use Lognormal. It sits with baseline/result at the bottom layer, so every package's
// tests may import it. It owns no production behaviour.
package resulttest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Writer writes one result directory: Write each interval (and Telemetry each line, if the
// result has telemetry), then Finish with the run's meta.json.
type Writer struct {
	dir       string
	lw        *result.LogWriter
	all       *hdrhistogram.Histogram
	intervals int
	slot      time.Time // Start of the last interval written
	end       time.Time // latest End written
	tel       []byte
}

// Create starts a result directory in dir (created if missing): its latency.hlog starts at start.
func Create(dir string, start time.Time) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lw, err := result.CreateLog(filepath.Join(dir, result.LatencyFile), start)
	if err != nil {
		return nil, err
	}
	return &Writer{dir: dir, lw: lw, all: result.NewHistogram()}, nil
}

// Write appends one interval histogram to the log. Consecutive histograms with the same Start
// (one per tag) are one interval of the run, as the harness counts them.
func (w *Writer) Write(iv result.Interval) error {
	if err := w.lw.WriteInterval(iv); err != nil {
		return err
	}
	if w.intervals == 0 || !iv.Start.Equal(w.slot) {
		w.intervals++
		w.slot = iv.Start
	}
	if iv.End.After(w.end) {
		w.end = iv.End
	}
	w.all.Merge(iv.Hist)
	return nil
}

// Telemetry adds one line to telemetry.jsonl, which Finish writes.
func (w *Writer) Telemetry(t result.Telemetry) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	w.tel = append(append(w.tel, b...), '\n')
	return nil
}

// Finish closes the log, writes telemetry.jsonl if there were lines and writes m as meta.json
// with what the log holds: its counts (samples, intervals) and summary, and its End when m has
// none.
func (w *Writer) Finish(m *result.Meta) error {
	if err := w.lw.Close(); err != nil {
		return err
	}
	if w.tel != nil {
		if err := result.WriteFileAtomic(filepath.Join(w.dir, result.TelemetryFile), w.tel, 0o644); err != nil {
			return err
		}
	}
	if m.End.IsZero() {
		m.End = w.end
	}
	m.Counts.Samples, m.Counts.Intervals = w.all.TotalCount(), w.intervals
	m.Summary = result.Summarize(w.all)
	return result.WriteMeta(w.dir, m)
}

// Close abandons an unfinished result (after an error): it closes the log.
func (w *Writer) Close() { _ = w.lw.Close() }

// Synthetic describes a generated result: seeded, log-normal latencies around a median, one
// telemetry line per 1 s interval.
type Synthetic struct {
	Suite string
	Env   result.Fingerprint
	Git   result.Git
	Start time.Time
	// Intervals and PerInterval set the size (5 × 1000 when zero).
	Intervals, PerInterval int
	// MedianNs is the median latency (1 ms when zero); Sigma the log-normal spread (0.05 when zero).
	MedianNs, Sigma float64
	Seed            uint64
	// Unhealthy, when set, marks the run unhealthy with these reasons.
	Unhealthy []string
}

// Lognormal writes a complete result directory (latency.hlog, meta.json, telemetry.jsonl)
// for s into dir, which must not hold those files yet, and returns its meta.json.
func Lognormal(dir string, s Synthetic) (*result.Meta, error) {
	if s.Intervals == 0 {
		s.Intervals = 5
	}
	if s.PerInterval == 0 {
		s.PerInterval = 1000
	}
	if s.MedianNs == 0 {
		s.MedianNs = 1e6
	}
	if s.Sigma == 0 {
		s.Sigma = 0.05
	}
	if s.Start.IsZero() {
		s.Start = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x7a11))
	w, err := Create(dir, s.Start)
	if err != nil {
		return nil, err
	}
	for i := 0; i < s.Intervals; i++ {
		h := result.NewHistogram()
		for j := 0; j < s.PerInterval; j++ {
			v := int64(s.MedianNs * math.Exp(s.Sigma*rng.NormFloat64()))
			if err := h.RecordValue(max(v, 1)); err != nil {
				w.Close()
				return nil, err
			}
		}
		iv := result.Interval{Start: s.Start.Add(time.Duration(i) * time.Second), End: s.Start.Add(time.Duration(i+1) * time.Second), Hist: h}
		if err := w.Write(iv); err != nil {
			w.Close()
			return nil, err
		}
		// Drawn from the same generator after each interval's samples: the seeds of existing
		// tests' golden files depend on this order.
		temp := 50 + rng.Float64()*5
		if err := w.Telemetry(result.Telemetry{Time: iv.End.Format(time.RFC3339), Interval: i, TempC: &temp, Load1: 0.5}); err != nil {
			w.Close()
			return nil, err
		}
	}
	m := &result.Meta{
		Suite: s.Suite, Profile: "nightly", Env: s.Env, Git: s.Git,
		Workload: result.Workload{Backend: s.Env.Backend, Synth: "lognormal", Threads: s.Env.Threads, Mode: "closed", Interval: time.Second, Seed: int64(s.Seed)},
		Start:    s.Start,
		Health:   result.Health{Healthy: len(s.Unhealthy) == 0, Reasons: s.Unhealthy},
		Tool:     result.Tool{Name: "tailgate", Version: "synthetic"},
	}
	if err := w.Finish(m); err != nil {
		return nil, err
	}
	return m, nil
}
