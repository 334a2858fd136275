package baseline

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Synthetic describes a generated result directory: seeded, log-normal latencies around a
// median, for tests, demos and history examples that need results without a board.
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

// WriteSynthetic writes a complete result directory (latency.hlog, meta.json, telemetry.jsonl)
// into dir, which must exist and be empty of those files.
func WriteSynthetic(dir string, s Synthetic) (*result.Meta, error) {
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
	w, err := result.CreateLog(filepath.Join(dir, result.LatencyFile), s.Start)
	if err != nil {
		return nil, err
	}
	all := result.NewHistogram()
	var tel []byte
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
		all.Merge(h)
		temp := 50 + rng.Float64()*5
		line, _ := json.Marshal(result.Telemetry{Time: iv.End.Format(time.RFC3339), Interval: i, TempC: &temp, Load1: 0.5})
		tel = append(append(tel, line...), '\n')
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := result.WriteFileAtomic(filepath.Join(dir, result.TelemetryFile), tel, 0o644); err != nil {
		return nil, err
	}
	m := &result.Meta{
		Suite: s.Suite, Profile: "nightly", Env: s.Env, Git: s.Git,
		Workload: result.Workload{Backend: s.Env.Backend, Synth: "lognormal", Threads: s.Env.Threads, Mode: "closed", Interval: time.Second, Seed: int64(s.Seed)},
		Start:    s.Start, End: s.Start.Add(time.Duration(s.Intervals) * time.Second),
		Counts:  result.Counts{Samples: all.TotalCount(), Intervals: s.Intervals},
		Summary: result.Summarize(all),
		Health:  result.Health{Healthy: len(s.Unhealthy) == 0, Reasons: s.Unhealthy},
		Tool:    result.Tool{Name: "tailgate", Version: "synthetic"},
	}
	if err := result.WriteMeta(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}
