package calib

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// TestGateCalibration is a seeded smoke of the calibration harness (`make calibrate` runs the
// long one): every rule kind and process on the PR design at every offset, a handful of pairs
// (TAILGATE_CALIBRATE=N for N), through gate.Compare. It checks what any honest decision rule
// does on so few pairs: every pair gets a verdict, a +10 % median on independent latencies
// (1.08 M baseline samples, 36 k candidate) is always a regression and no change never is; and
// the report prints every table and the checklist. It logs the report.
func TestGateCalibration(t *testing.T) {
	pairs := 2
	if v := os.Getenv("TAILGATE_CALIBRATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TAILGATE_CALIBRATE=%q: want a number of pairs", v)
		}
		pairs = n
	}
	res, err := Run(Config{Pairs: pairs, Seed: 7, Designs: []Design{PR}})
	if err != nil {
		t.Fatal(err)
	}
	res.each(func(d, k, p, o, s int, c Cell) {
		if c.N() != pairs || c.Other != 0 {
			t.Errorf("cell %d/%d/%d/%d/%d: %+v, want %d pairs, none incomparable", d, k, p, o, s, c, pairs)
		}
	})
	p50 := res.Cells[0][0][0][0] // p50, iid, offset 0
	if p50[0].Regression != 0 || p50[4].Regression != pairs {
		t.Errorf("p50 on iid: no change %+v, +10 %% %+v", p50[0], p50[4])
	}
	var sb strings.Builder
	if err := res.Write(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, k := range Kinds {
		if !strings.Contains(out, "== "+k.Name+" · PR ==") {
			t.Errorf("no table for %s", k.Name)
		}
	}
	if !strings.Contains(out, "checks pass") || strings.Count(out, "\nPASS")+strings.Count(out, "\nFAIL") != len(res.Checklist()) {
		t.Error("checklist missing")
	}
	t.Log("\n" + out)
}

// TestNightlyDeterministic runs one nightly pair twice: the same seed gives the same cells, and
// a different one is a different experiment.
func TestNightlyDeterministic(t *testing.T) {
	cfg := Config{Pairs: 1, Seed: 3, Designs: []Design{Nightly}, Processes: []synth.Process{synth.AR1}, Kinds: Kinds[:1]}
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(cfg)
	if !reflect.DeepEqual(a.Cells, b.Cells) {
		t.Error("same seed, different cells")
	}
	if pairSeed(3, 1, 1, 0) == pairSeed(4, 1, 1, 0) || pairSeed(3, 0, 1, 0) == pairSeed(3, 1, 1, 0) {
		t.Error("pair seeds collide")
	}
}

// TestRules: every rule the harness gates parses, and an absolute rule's limit is the true
// quantile over the shift.
func TestRules(t *testing.T) {
	for _, k := range Kinds {
		for _, p := range synth.Processes {
			for _, s := range k.Shifts {
				r, err := gate.ParseRule(gate.RuleSource{Text: k.Rule(p, s)})
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case k.Relative:
					if r.Limit.Kind != gate.Relative || r.Limit.Value != k.L {
						t.Errorf("%s: %+v", k.Rule(p, s), r.Limit)
					}
				case k.Share > 0:
					if got := synth.CDF(p, float64(r.Metric.Deadline)); math.Abs(1-got-k.Share*s) > 1e-6 {
						t.Errorf("%s: true miss share %v, want %v", k.Rule(p, s), 1-got, k.Share*s)
					}
				default:
					if want := synth.Quantile(p, 0.99) / s; math.Abs(r.Limit.Value/want-1) > 1e-6 {
						t.Errorf("%s: limit %v, want %v", k.Rule(p, s), r.Limit.Value, want)
					}
				}
			}
		}
	}
}

// TestChecklist decides checks from hand-made cells: a cell beyond a bound fails its line, and
// offsets above the checked one are not held against the gate.
func TestChecklist(t *testing.T) {
	cfg := Config{Pairs: 100, Designs: []Design{PR}, Kinds: Kinds[:1], Processes: []synth.Process{synth.IID}, Offsets: []float64{0, 0.02}}
	res := &Results{Config: cfg.withDefaults(), Cells: [][][][][]Cell{{{{
		{{Pass: 100}, {Pass: 100}, {Regression: 50, Pass: 50}, {Regression: 100}, {Regression: 100}},
		{{Regression: 30, Pass: 70}, {Regression: 30, Pass: 70}, {Regression: 100}, {Regression: 100}, {Regression: 90, Pass: 10}},
	}}}}}
	got := map[string]bool{}
	for _, c := range res.Checklist() {
		got[c.What] = c.Pass
	}
	want := map[string]bool{"no change: regression": true, "no change: inconclusive": true, "true change 0.6L: regression": true, "true change 2L: regression": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checks %v, want %v", got, want)
	}
	res.Cells[0][0][0][0][1] = Cell{Regression: 6, Pass: 94}
	for _, c := range res.Checklist() {
		if c.What == "true change 0.6L: regression" && (c.Pass || c.Worst != 6) {
			t.Errorf("6 %% regression at 0.6L: %v", c)
		}
	}
}

// TestCheckBeyondAnyRule folds hand-made cells into an "inconclusive ≤ 10 %" check: a failure
// is beyond any rule only when the oracle fails on every cell the check fails, not when one
// hard cell fails the oracle while another fails only the rule.
func TestCheckBeyondAnyRule(t *testing.T) {
	lnr := func(sd float64) []float64 { // 100 pairs with that spread about zero
		out := make([]float64, 100)
		for i := range out {
			out[i] = sd * (float64(i) - 49.5) / 29.0
		}
		return out
	}
	easy := Cell{Pass: 100, LnR: lnr(0.002)}                       // the oracle passes every pair
	ruleFails := Cell{Inconclusive: 40, Pass: 60, LnR: lnr(0.002)} // too wide for ours only
	hard := Cell{Inconclusive: 90, Pass: 10, LnR: lnr(0.05)}       // too wide for the oracle too
	for _, tc := range []struct {
		name     string
		cells    []Cell
		pass     bool
		beyond   bool
		feasible string
	}{
		{"all easy", []Cell{easy, easy}, true, false, ""},
		{"hard alone", []Cell{easy, hard}, false, true, ""},
		{"rule fails an easy cell", []Cell{ruleFails, easy}, false, false, "c0"},
		{"hard and rule fails", []Cell{hard, ruleFails}, false, false, "c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Check{What: "no change: inconclusive", AtMost: true, Bound: 10, Pass: true}
			for i, cell := range tc.cells {
				c.Add(cell, OutInconclusive, 0.05, fmt.Sprintf("c%d", i))
			}
			if c.Pass != tc.pass || c.Infeasible() != tc.beyond || c.Feasible != tc.feasible {
				t.Errorf("pass %v, beyond any rule %v, feasible %q; want %v, %v, %q: %s", c.Pass, c.Infeasible(), c.Feasible, tc.pass, tc.beyond, tc.feasible, c)
			}
		})
	}
}
