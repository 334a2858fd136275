// Package synth generates latency interval histograms from seeded processes with a known
// truth, for calibrating package stats: independent lognormal latencies, an autocorrelated
// lognormal (bursts within intervals and thermal drift across them), a heavy (Pareto) tail and
// a bimodal mixture. It owns nothing else; it is internal because only the calibration tests,
// benchmarks and the calibrate program use it.
package synth

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Process names a latency process.
type Process string

// The processes calibration runs on.
const (
	IID     Process = "iid-lognormal"
	AR1     Process = "ar1-lognormal"
	Pareto  Process = "pareto-tail"
	Bimodal Process = "bimodal"
)

// Processes lists every process, in report order.
var Processes = []Process{IID, AR1, Pareto, Bimodal}

// MedianNs is the median latency of every process before scaling: 2 ms, a small vision model
// on a Pi 5.
const MedianNs = 2e6

// Spec describes one run to generate.
type Spec struct {
	Process   Process
	Seed      uint64
	Intervals int     // interval histograms
	PerIntvl  int     // samples per interval
	Scale     float64 // multiplies every latency: 1.05 injects a +5 % shift of every quantile
}

// Generator draws a run interval by interval, so that a long run never exists as a whole.
type Generator struct {
	spec  Spec
	rng   *rand.Rand
	burst float64 // sample-level AR(1) state (log scale)
	drift float64 // interval-level AR(1) state (log scale)
	i     int
}

// New returns a generator for spec; Scale 0 means 1.
func New(spec Spec) (*Generator, error) {
	switch spec.Process {
	case IID, AR1, Pareto, Bimodal:
	default:
		return nil, fmt.Errorf("unknown process %q", spec.Process)
	}
	if spec.Scale == 0 {
		spec.Scale = 1
	}
	// Scrambled so that consecutive seeds (pair k uses 2k and 2k+1) and the bootstrap's own
	// streams of the same seed are unrelated.
	h := fnv.New64a()
	h.Write([]byte(spec.Process))
	return &Generator{spec: spec, rng: rand.New(rand.NewPCG(splitmix(spec.Seed), splitmix(h.Sum64()^spec.Seed)))}, nil
}

// AR(1) parameters of the autocorrelated process: bursts decorrelate over about 50 samples,
// thermal drift over about 20 intervals with a 4 % standard deviation.
const (
	burstPhi   = 0.98
	burstSigma = 0.25
	driftPhi   = 0.95
	driftSigma = 0.04
)

// Recorder is what an interval is generated into: a dense or a packed histogram.
type Recorder interface {
	RecordValue(v int64) error
	Reset()
}

// Next fills h (after resetting it) with the next interval and reports false when the run is
// over.
func (g *Generator) Next(h Recorder) bool {
	if g.i >= g.spec.Intervals {
		return false
	}
	g.i++
	h.Reset()
	m := MedianNs * g.spec.Scale
	r := g.rng
	switch g.spec.Process {
	case IID:
		for range g.spec.PerIntvl {
			record(h, m*math.Exp(0.25*r.NormFloat64()))
		}
	case AR1:
		g.drift = driftPhi*g.drift + math.Sqrt(1-driftPhi*driftPhi)*driftSigma*r.NormFloat64()
		inno := math.Sqrt(1-burstPhi*burstPhi) * burstSigma
		for range g.spec.PerIntvl {
			g.burst = burstPhi*g.burst + inno*r.NormFloat64()
			record(h, m*math.Exp(g.drift+g.burst))
		}
	case Pareto:
		// A lognormal body; 2 % of inferences hit a Pareto(α = 2.5) tail starting at 1.3×
		// the median (interrupts, page faults).
		for range g.spec.PerIntvl {
			if r.Float64() < 0.02 {
				record(h, m*1.3*math.Pow(1-r.Float64(), -1/2.5))
			} else {
				record(h, m*math.Exp(0.15*r.NormFloat64()))
			}
		}
	case Bimodal:
		// A fast path and, one time in ten, a slow path (a cache-cold or fallback kernel).
		for range g.spec.PerIntvl {
			if r.Float64() < 0.1 {
				record(h, 1.75*m*math.Exp(0.08*r.NormFloat64()))
			} else {
				record(h, m*math.Exp(0.1*r.NormFloat64()))
			}
		}
	}
	return true
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func record(h Recorder, v float64) {
	_ = h.RecordValue(min(max(int64(v), 1), result.HighestNs))
}

// Each generates the run of spec interval by interval into one reused dense histogram (with
// the result format's geometry) and hands each to add; it is overwritten after add returns.
// Dense recording and one scan per interval beat inserting into a packed histogram sample by
// sample several times over.
func Each(spec Spec, add func(*hdrhistogram.Histogram) error) error {
	g, err := New(spec)
	if err != nil {
		return err
	}
	h := result.NewHistogram()
	for g.Next(h) {
		if err := add(h); err != nil {
			return err
		}
	}
	return nil
}
