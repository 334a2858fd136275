// Package gatetest writes synthetic result directories with a known truth for the gate's tests
// and benchmarks: seeded latency processes recorded into interval histograms and written by
// baseline/result/resulttest, the one synthetic-result writer, so the gate reads them exactly
// as it reads a board's results; and HeapPeak, the memory budget of tests that stream.
// It owns no production behaviour.
package gatetest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// Process draws one latency in nanoseconds. state carries autocorrelation between draws.
type Process func(rng *rand.Rand, state *float64) float64

// Lognormal is a right-skewed latency around median ns with shape sigma, iid.
func Lognormal(median, sigma float64) Process {
	return func(rng *rand.Rand, _ *float64) float64 {
		return median * math.Exp(sigma*rng.NormFloat64())
	}
}

// Tail mixes a body with a slow tail: with probability p a sample comes from tail instead.
func Tail(body Process, p float64, tail Process) Process {
	return func(rng *rand.Rand, st *float64) float64 {
		if rng.Float64() < p {
			return tail(rng, st)
		}
		return body(rng, st)
	}
}

// Scale multiplies a process by f (an injected slowdown or speed-up).
func Scale(p Process, f float64) Process {
	return func(rng *rand.Rand, st *float64) float64 { return f * p(rng, st) }
}

// Drift multiplies a process by a slowly wandering factor exp(x), where x is an AR(1) series
// with lag-one correlation rho and stationary deviation sigma: thermal drift and bursts make
// neighbouring samples, and so neighbouring intervals, alike.
func Drift(p Process, rho, sigma float64) Process {
	innov := sigma * math.Sqrt(1-rho*rho)
	return func(rng *rand.Rand, st *float64) float64 {
		*st = rho**st + innov*rng.NormFloat64()
		return p(rng, st) * math.Exp(*st)
	}
}

// Spec describes a synthetic run.
type Spec struct {
	Suite     string
	Intervals int
	PerIv     int           // samples per interval
	Interval  time.Duration // interval length (default 1s)
	Seed      uint64
	Process   Process
	// Env is the fingerprint; the zero value gets a plausible Pi 5 one.
	Env    *result.Fingerprint
	Health *result.Health
	Start  time.Time
}

// Env returns the fingerprint used when Spec.Env is nil.
func Env() result.Fingerprint {
	return result.Fingerprint{
		Arch: "arm64", OS: "linux", KernelRelease: "6.12.25-rt-v8+", PreemptRT: true, Isolcpus: "3",
		CPUModel: "Cortex-A76", CPUCount: 4, Board: "Raspberry Pi 5 Model B Rev 1.0", Backend: "onnxruntime",
		ORTVersion: "1.30.0", ORTSHA256: "0f1e", ModelSHA256: "ab12", Threads: 1, CPUs: []int{3}, Sched: "fifo:80",
		GoVersion: "go1.26.8", ToolVersion: "test",
	}
}

// Write writes a result directory for spec under dir and returns it read back.
func Write(tb testing.TB, dir string, spec Spec) *result.Result {
	tb.Helper()
	if spec.Interval == 0 {
		spec.Interval = time.Second
	}
	if spec.Suite == "" {
		spec.Suite = "vision"
	}
	if spec.Start.IsZero() {
		spec.Start = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x7a11))
	w, err := resulttest.Create(dir, spec.Start)
	if err != nil {
		tb.Fatal(err)
	}
	var state float64
	for i := 0; i < spec.Intervals; i++ {
		h := result.NewHistogram()
		for j := 0; j < spec.PerIv; j++ {
			v := spec.Process(rng, &state)
			if err := h.RecordValue(int64(max(v, 1))); err != nil {
				tb.Fatal(err)
			}
		}
		s := spec.Start.Add(time.Duration(i) * spec.Interval)
		if err := w.Write(result.Interval{Start: s, End: s.Add(spec.Interval), Hist: h}); err != nil {
			tb.Fatal(err)
		}
	}
	env := Env()
	if spec.Env != nil {
		env = *spec.Env
	}
	health := result.Health{Healthy: true}
	if spec.Health != nil {
		health = *spec.Health
	}
	m := &result.Meta{
		Suite: spec.Suite, Env: env,
		Git:      result.Git{Repo: "acme/vision", Commit: "0123456789abcdef0123456789abcdef01234567", Ref: "refs/heads/main"},
		Workload: result.Workload{Backend: env.Backend, Threads: 1, CPUs: []int{3}, Sched: "fifo:80", Mode: "closed", Interval: spec.Interval, Seed: int64(spec.Seed)},
		Start:    spec.Start, End: spec.Start.Add(time.Duration(spec.Intervals) * spec.Interval),
		Calibration: result.Calibration{ClockReadNs: 21.5, LoopRecordNs: 48.25, TimerResolveNs: 1},
		Health:      health,
		Tool:        result.Tool{Name: "tailgate", Version: "test", Go: "go1.26.8"},
	}
	if err := w.Finish(m); err != nil {
		tb.Fatal(err)
	}
	r, err := result.Read(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
