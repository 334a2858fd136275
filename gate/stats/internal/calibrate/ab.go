package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// abDesign is -design AB: interleaved A/B results of abRounds rounds of one second per arm at
// abRate inferences per second (a 30-second-per-arm `tailgate ab`), gated by gate.CompareAB.
const (
	abDesign = "AB"
	abRounds = 30
	abRate   = 1000
)

// abProcess is a synthetic paired process: each arm draws its own body from a synth process
// (its own bursts and drift, which pairing does not remove) under factors the arms share: the
// run's offset (sd Run) and a per-round machine state, an AR(1) over rounds (sd Shared,
// lag-one correlation Rho); and each arm's half of a round has its own factor (sd Arm).
type abProcess struct {
	Name                  string
	Body                  synth.Process
	Shared, Rho, Arm, Run float64
}

// abProcesses are bodies without slow dynamics of their own (a machine's drift is shared by the
// arms of an interleaved run, so it is a shared factor here), under shared drift, jumps and
// run offsets of increasing weight.
var abProcesses = []abProcess{
	{Name: "iid, nothing shared", Body: synth.IID},
	{Name: "iid body, shared drift 5% (ρ 0.95), arm noise 0.5%, run offset 5%", Body: synth.IID, Shared: 0.05, Rho: 0.95, Arm: 0.005, Run: 0.05},
	{Name: "pareto tail, shared drift 5% (ρ 0.9), arm noise 0.5%, run offset 5%", Body: synth.Pareto, Shared: 0.05, Rho: 0.9, Arm: 0.005, Run: 0.05},
	{Name: "bimodal, shared jumps 10% (ρ 0.3), arm noise 1%, run offset 10%", Body: synth.Bimodal, Shared: 0.10, Rho: 0.3, Arm: 0.01, Run: 0.10},
}

// abKind is a relative rule gated on the pairs at the true shifts.
type abKind struct {
	Rule   string
	L      float64
	Shifts []float64
}

var abKinds = []abKind{
	{Rule: "p50 < +5%", L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
	{Rule: "p99 < +5%", L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
	{Rule: "mean < +5%", L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
}

// abCell counts the verdicts of one cell; abCells[process][kind][shift] holds them all.
type abCell struct{ Regression, Inconclusive, Pass int }

type abCells [][][]abCell

// runAB gates pairs seeded A/B results per process and writes the table and the checklist to w.
// It reports whether every checklist line holds.
func runAB(w io.Writer, pairs int, seed uint64, workers int) (bool, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rules := make([]gate.Rule, len(abKinds))
	for k, kind := range abKinds {
		r, err := gate.ParseRule(gate.RuleSource{Text: kind.Rule, Origin: "calibration"})
		if err != nil {
			return false, err
		}
		rules[k] = r
	}
	cells := make(abCells, len(abProcesses))
	for p := range cells {
		cells[p] = make([][]abCell, len(abKinds))
		for k, kind := range abKinds {
			cells[p][k] = make([]abCell, len(kind.Shifts))
		}
	}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan [2]int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				p, i := j[0], j[1]
				got, err := abPair(abProcesses[p], rules, seed*1_000_003+uint64(p)*10_007+uint64(i))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for k := range got {
					for s, v := range got[k] {
						c := &cells[p][k][s]
						switch v {
						case gate.VerdictRegression:
							c.Regression++
						case gate.VerdictPass:
							c.Pass++
						default:
							c.Inconclusive++
						}
					}
				}
				mu.Unlock()
			}
		})
	}
	for p := range abProcesses {
		for i := range pairs {
			jobs <- [2]int{p, i}
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return false, firstErr
	}
	return writeAB(w, cells, pairs, time.Since(start)), nil
}

// abPair draws one A/B result of process pr (arm B unshifted), and gates it with every rule at
// every shift of B: common random numbers across the cells of a pair.
func abPair(pr abProcess, rules []gate.Rule, seed uint64) ([][]gate.Verdict, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6162))
	var draws [2][]float32
	for arm := range draws {
		g, err := synth.New(synth.Spec{Process: pr.Body, Seed: 2*seed + uint64(arm), Intervals: abRounds, PerIntvl: abRate})
		if err != nil {
			return nil, err
		}
		draws[arm] = make([]float32, abRounds*abRate)
		for k := range abRounds {
			g.Draw(draws[arm][k*abRate : (k+1)*abRate])
		}
	}
	run := pr.Run * rng.NormFloat64()
	x := pr.Shared * rng.NormFloat64()
	factors := make([][2]float64, abRounds)
	for k := range factors {
		if k > 0 {
			x = pr.Rho*x + pr.Shared*math.Sqrt(1-pr.Rho*pr.Rho)*rng.NormFloat64()
		}
		for arm := range 2 {
			factors[k][arm] = synth.MedianNs * math.Exp(run+x+pr.Arm*rng.NormFloat64())
		}
	}
	h := result.NewHistogram()
	arm := func(i int, scale float64) (*gate.Run, error) {
		m := &result.Meta{Suite: "calibration-ab", Health: result.Health{Healthy: true}, AB: &result.AB{Rounds: abRounds, Round: time.Second, Order: strings.Repeat("A", abRounds),
			Arms: []result.Arm{{Name: "A", Model: "a"}, {Name: "B", Model: "b"}}}}
		r := &gate.Run{Dir: "ab-" + result.ArmNames[i], Meta: m, Sample: &stats.Sample{}}
		for k := range abRounds {
			recordRound(h, draws[i][k*abRate:(k+1)*abRate], factors[k][i]*scale)
			t := time.Unix(int64(2*k+i), 0)
			if err := r.Add(result.Interval{Tag: result.ArmNames[i], Start: t, End: t.Add(time.Second), Hist: h}); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	a, err := arm(0, 1)
	if err != nil {
		return nil, err
	}
	out := make([][]gate.Verdict, len(abKinds))
	for k, kind := range abKinds {
		for _, s := range kind.Shifts {
			b, err := arm(1, 1+s*kind.L)
			if err != nil {
				return nil, err
			}
			rep, err := gate.CompareAB(a, b, rules[k:k+1], gate.Options{Seed: seed | 1})
			if err != nil {
				return nil, err
			}
			out[k] = append(out[k], rep.Verdict)
		}
	}
	return out, nil
}

func recordRound(h *hdrhistogram.Histogram, raw []float32, f float64) {
	h.Reset()
	for _, v := range raw {
		_ = h.RecordValue(min(max(int64(float64(v)*f), 1), result.HighestNs))
	}
}

// writeAB writes the verdict shares per process, rule and shift, then the checklist of the A/B
// design (issue 17, the targets of issue 13's per rule kind): no change, regression ≤ 1 % and
// inconclusive ≤ 10 %; a true change of 0.6L, regression ≤ 5 %; 2L on p50, regression ≥ 95 %.
// A line holds when the worst process does. It reports whether every line holds.
func writeAB(w io.Writer, cells abCells, pairs int, took time.Duration) bool {
	fmt.Fprintf(w, "== interleaved A/B: %d rounds of 1 s per arm at %d/s, %d pairs a cell, gate.CompareAB (%s) ==\n", abRounds, abRate, pairs, took.Round(time.Second))
	fmt.Fprintln(w, "cells: regression / inconclusive / pass, percent")
	share := func(n int) float64 { return 100 * float64(n) / float64(max(pairs, 1)) }
	for p, pr := range abProcesses {
		fmt.Fprintf(w, "\n%s\n", pr.Name)
		for k, kind := range abKinds {
			fmt.Fprintf(w, "  %-11s", kind.Rule)
			for s, shift := range kind.Shifts {
				c := cells[p][k][s]
				fmt.Fprintf(w, "  %gL %5.1f/%5.1f/%5.1f", shift, share(c.Regression), share(c.Inconclusive), share(c.Pass))
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "\n== done when (issue 17), worst cell over the A/B processes ==")
	all := true
	check := func(k int, what string, shift float64, pick func(c abCell) int, atMost bool, bound float64) {
		s := slices.Index(abKinds[k].Shifts, shift)
		worst := math.NaN()
		for p := range abProcesses {
			v := share(pick(cells[p][k][s]))
			if math.IsNaN(worst) || (atMost && v > worst) || (!atMost && v < worst) {
				worst = v
			}
		}
		ok, op := worst <= bound, "≤"
		if !atMost {
			ok, op = worst >= bound, "≥"
		}
		verdict := "PASS"
		if !ok {
			verdict, all = "FAIL", false
		}
		fmt.Fprintf(w, "%s %s · %s %s %g%%: worst %.1f%%\n", verdict, abKinds[k].Rule, what, op, bound, worst)
	}
	reg := func(c abCell) int { return c.Regression }
	for k, kind := range abKinds {
		check(k, "no change: regression", 0, reg, true, 1)
		check(k, "no change: inconclusive", 0, func(c abCell) int { return c.Inconclusive }, true, 10)
		check(k, "true change 0.6L: regression", 0.6, reg, true, 5)
		if strings.HasPrefix(kind.Rule, "p50 ") {
			check(k, "true change 2L: regression", 2, reg, false, 95)
		}
	}
	return all
}
