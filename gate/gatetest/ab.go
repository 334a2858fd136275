package gatetest

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// ABSpec describes a synthetic interleaved A/B result: in each round arm A draws PerRound
// samples from A and arm B from B, in a seeded random order, under factors the two arms share or
// not, as a board's would be.
type ABSpec struct {
	Suite            string
	Rounds, PerRound int
	A, B             Process
	// RoundSD is the log SD of a factor both arms of a round share (the machine's state over the
	// round), RoundRho the lag-one correlation of that factor between rounds (slow drift).
	RoundSD, RoundRho float64
	// ArmSD is the log SD of a factor each arm's half of a round has of its own: what changes
	// between the two halves, which pairing does not remove.
	ArmSD float64
	// RunSD is the log SD of a factor the whole run shares (the process's placement, the
	// night's temperature): pairing cancels it.
	RunSD float64
	Seed  uint64
}

// ABProcesses draws the spec's rounds without writing them: per round, arm A's and arm B's
// samples in nanoseconds, for tests that want histograms rather than a directory.
func ABProcesses(spec ABSpec, each func(round, arm int, v float64)) {
	rng := rand.New(rand.NewPCG(spec.Seed, 0xab))
	run := spec.RunSD * rng.NormFloat64()
	innov := spec.RoundSD * math.Sqrt(1-spec.RoundRho*spec.RoundRho)
	x := spec.RoundSD * rng.NormFloat64()
	var stA, stB float64
	for k := range spec.Rounds {
		if k > 0 {
			x = spec.RoundRho*x + innov*rng.NormFloat64()
		}
		for arm, p := range []Process{spec.A, spec.B} {
			st := &stA
			if arm == 1 {
				st = &stB
			}
			f := math.Exp(run + x + spec.ArmSD*rng.NormFloat64())
			for range spec.PerRound {
				each(k, arm, f*p(rng, st))
			}
		}
	}
}

// WriteAB writes an interleaved A/B result for spec under dir, as `tailgate ab` lays it out
// (one interval per arm per round, tagged A and B; meta.json's ab record), and returns it read
// back.
func WriteAB(tb testing.TB, dir string, spec ABSpec) *result.Result {
	tb.Helper()
	if spec.Suite == "" {
		spec.Suite = "vision"
	}
	start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	hists := make([][2]*result.Interval, spec.Rounds)
	ABProcesses(spec, func(k, arm int, v float64) {
		if hists[k][arm] == nil {
			hists[k][arm] = &result.Interval{Tag: result.ArmNames[arm], Hist: result.NewHistogram()}
		}
		if err := hists[k][arm].Hist.RecordValue(int64(max(v, 1))); err != nil {
			tb.Fatal(err)
		}
	})
	w, err := resulttest.Create(dir, start)
	if err != nil {
		tb.Fatal(err)
	}
	order := make([]byte, spec.Rounds)
	perArm := [2]*result.Interval{{Hist: result.NewHistogram()}, {Hist: result.NewHistogram()}}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x07d))
	for k, pair := range hists {
		first := rng.IntN(2)
		order[k] = result.ArmNames[first][0]
		for j := range 2 {
			arm := (first + j) % 2
			iv := pair[arm]
			iv.Start = start.Add(time.Duration(2*k+j) * time.Second)
			iv.End = iv.Start.Add(time.Second)
			if err := w.Write(*iv); err != nil {
				tb.Fatal(err)
			}
			perArm[arm].Hist.Merge(iv.Hist)
		}
	}
	env := Env()
	m := &result.Meta{
		Suite: spec.Suite, Env: env,
		Workload: result.Workload{Model: "b.onnx", Backend: env.Backend, Threads: 1, CPUs: []int{3}, Sched: "fifo:80", Mode: "ab", Interval: time.Second},
		Start:    start, Calibration: result.Calibration{ClockReadNs: 21.5, LoopRecordNs: 48.25, TimerResolveNs: 1},
		Health: result.Health{Healthy: true}, Tool: result.Tool{Name: "tailgate", Version: "test", Go: "go1.26.8"},
		Classes: map[string]result.Summary{},
		AB:      &result.AB{Rounds: spec.Rounds, Round: time.Second, Discard: 5, Seed: int64(spec.Seed), Order: string(order)},
	}
	for i, iv := range perArm {
		name := result.ArmNames[i]
		m.Classes[name] = result.Summarize(iv.Hist)
		m.AB.Arms = append(m.AB.Arms, result.Arm{Name: name, Model: map[int]string{0: "a.onnx", 1: "b.onnx"}[i],
			ModelSHA256: map[int]string{0: "aa", 1: "bb"}[i], Threads: 1, Samples: iv.Hist.TotalCount(),
			Session: map[string]string{"intra_op_num_threads": "1", "graph_optimization": "all"}})
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
