package calib

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// Describe is one line about a design.
func (d Design) Describe() string {
	dur := func(n int) string { return (time.Duration(n*d.IntervalSec) * time.Second).String() }
	return fmt.Sprintf("candidate %s (%d × %d s intervals) vs baseline %s (%d × %d s), %d inferences/s: %s vs %s samples",
		dur(d.CandIntervals), d.CandIntervals, d.IntervalSec, dur(d.BaseIntervals), d.BaseIntervals, d.IntervalSec, d.Rate,
		group(d.CandIntervals*d.PerIntvl()), group(d.BaseIntervals*d.PerIntvl()))
}

func group(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Write prints one table per design and rule kind: rows process × offset, columns the true
// shift, cells regression/inconclusive/pass in percent.
func (r *Results) Write(w io.Writer) error {
	cfg := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "tailgate calibration: the whole gate's verdict at known truths (gate.Compare, one rule a gate, confidence %s)\n", "0.99")
	fmt.Fprintf(&b, "seed %d, %d pairs a cell, %d workers, %s\n", cfg.Seed, cfg.Pairs, cfg.Workers, r.Elapsed.Round(time.Second))
	for _, d := range cfg.Designs {
		fmt.Fprintf(&b, "  %-8s %s\n", d.Name+":", d.Describe())
	}
	b.WriteString("  offsets: each run × exp(sd·Z), Z standard normal, independent for baseline and candidate; processes start stationary\n")
	b.WriteString("  relative kinds: candidate = baseline process × (1 + shift·L); absolute kinds: shift = true value / limit\n")
	b.WriteString("  oracle (checklist): the same decision with the true sd of ln R̂ (its spread over the cell's pairs) in place of the\n" +
		"    two runs' estimate, z = 2.576: the best any rule at confidence 0.99 does; a target the oracle misses on every cell\n" +
		"    the gate fails is beyond any rule\n")
	b.WriteString("  cells: regression / inconclusive / pass, % of pairs (R/I/P)")
	if n := r.others(); n > 0 {
		fmt.Fprintf(&b, "; %d pairs gave another verdict (incomparable or error)", n)
	}
	b.WriteString("\n")
	for d, de := range cfg.Designs {
		for k, kind := range cfg.Kinds {
			fmt.Fprintf(&b, "\n== %s · %s ==\n", kind.Name, de.Name)
			fmt.Fprintf(&b, "%-16s %6s", "process", "offset")
			for _, s := range kind.Shifts {
				fmt.Fprintf(&b, " %12s", kind.Label(s))
			}
			b.WriteString("\n")
			for p, proc := range cfg.Processes {
				for o, sd := range cfg.Offsets {
					fmt.Fprintf(&b, "%-16s %5.0f%%", proc, 100*sd)
					for s := range kind.Shifts {
						rr, ii, pp := r.Cell(d, k, p, o, s).Share()
						fmt.Fprintf(&b, " %4.0f/%3.0f/%3.0f", rr, ii, pp)
					}
					b.WriteString("\n")
				}
			}
		}
	}
	b.WriteString("\n")
	checks := r.Checklist()
	fmt.Fprintf(&b, "== done when (issue 13), checked on per-run offsets sd ≤ %.0f%% (the %.0f%% rows are shown, not checked) ==\n", 100*checkedOffset, 100*cfg.Offsets[len(cfg.Offsets)-1])
	for _, c := range checks {
		fmt.Fprintln(&b, c)
	}
	b.WriteString(Summary(checks) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the checklist's last line: how many checks pass, and how many of the failures the
// oracle fails too.
func Summary(checks []Check) string {
	pass, infeasible := 0, 0
	for _, c := range checks {
		if c.Pass {
			pass++
		}
		if c.Infeasible() {
			infeasible++
		}
	}
	return fmt.Sprintf("%d of %d checks pass; %d of the %d failures are beyond any rule at confidence 0.99 (the oracle, which knows the true sd of ln R̂, fails them too on every cell the check fails)",
		pass, len(checks), infeasible, len(checks)-pass)
}

func (r *Results) others() int {
	n := 0
	r.each(func(d, k, p, o, s int, c Cell) { n += c.Other })
	return n
}

func (r *Results) each(fn func(d, k, p, o, s int, c Cell)) {
	for d := range r.Cells {
		for k := range r.Cells[d] {
			for p := range r.Cells[d][k] {
				for o := range r.Cells[d][k][p] {
					for s, c := range r.Cells[d][k][p][o] {
						fn(d, k, p, o, s, c)
					}
				}
			}
		}
	}
}

// checkedOffset is the largest per-run offset sd the checklist holds the gate to.
const checkedOffset = 0.01

// Check is one line of the checklist: over its cells, the worst share of a verdict against a
// bound.
type Check struct {
	Item   string
	What   string
	Scope  string
	AtMost bool // the share must be ≤ Bound (else ≥)
	Bound  float64
	Worst  float64 // percent
	Where  string
	Cells  int
	Pass   bool
	// Oracle is the worst share over the same cells under Cell.Oracle (relative kinds; NaN
	// otherwise), and OracleWhere its cell: a target the oracle fails too is infeasible, unless
	// Feasible names a cell the check fails on whose oracle meets the bound there (the worst such,
	// with FeasibleWorst our share and FeasibleOracle the oracle's): a failure there is the
	// rule's, however hard another cell is.
	Oracle                        float64
	OracleWhere, Feasible         string
	FeasibleWorst, FeasibleOracle float64
}

// Outcome picks one of a Cell's verdict shares.
type Outcome int

// The outcomes a check bounds.
const (
	OutRegression Outcome = iota
	OutInconclusive
	OutPass
)

// ShareOf is the share of outcome v in percent.
func (c Cell) ShareOf(v Outcome) float64 {
	r, i, p := c.Share()
	return []float64{r, i, p}[v]
}

// Add folds one cell into the check, whose What, AtMost and Bound are set: its share of outcome
// v becomes the worst when it is worse, and so does its oracle's (Cell.Oracle at limit L) when
// L > 0, the cell being of a relative kind. where names the cell.
func (c *Check) Add(cell Cell, v Outcome, L float64, where string) {
	first := c.Cells == 0
	worse := func(x, than float64) bool { return first || (c.AtMost && x > than) || (!c.AtMost && x < than) }
	if x := cell.ShareOf(v); worse(x, c.Worst) {
		c.Worst, c.Where = x, fmt.Sprintf("%s, %d pairs", where, cell.N())
	}
	if first {
		c.Oracle = math.NaN()
	}
	if L > 0 {
		x, ox := cell.ShareOf(v), cell.Oracle(L).ShareOf(v)
		if math.IsNaN(c.Oracle) || worse(ox, c.Oracle) {
			c.Oracle, c.OracleWhere = ox, where
		}
		if !c.meets(x) && c.meets(ox) && (c.Feasible == "" || (c.AtMost && x > c.FeasibleWorst) || (!c.AtMost && x < c.FeasibleWorst)) {
			c.Feasible, c.FeasibleWorst, c.FeasibleOracle = where, x, ox
		}
	}
	c.Cells++
	c.Pass = c.meets(c.Worst)
}

// meets reports whether a share x is within the bound.
func (c *Check) meets(x float64) bool {
	if c.AtMost {
		return x <= c.Bound
	}
	return x >= c.Bound
}

// Infeasible reports a failed check that the oracle fails too, on every cell the check fails:
// no rule at this confidence meets it on these processes at this run length.
func (c Check) Infeasible() bool {
	return !c.Pass && !math.IsNaN(c.Oracle) && !c.meets(c.Oracle) && c.Feasible == ""
}

func (c Check) String() string {
	op := "≥"
	if c.AtMost {
		op = "≤"
	}
	what := fmt.Sprintf("%s %s %g%%", c.What, op, c.Bound)
	if c.Cells == 0 {
		return fmt.Sprintf("SKIP  %-2s %-38s %-26s no cells in this run", c.Item, what, c.Scope)
	}
	v := "FAIL"
	if c.Pass {
		v = "PASS"
	}
	line := fmt.Sprintf("%s  %-2s %-38s %-26s worst %5.1f%%  (%s)", v, c.Item, what, c.Scope, c.Worst, c.Where)
	if !math.IsNaN(c.Oracle) {
		line += fmt.Sprintf("; oracle %5.1f%% (%s)", c.Oracle, c.OracleWhere)
		switch {
		case c.Infeasible():
			line += ": beyond any rule"
		case !c.Pass && c.Feasible != "":
			line += fmt.Sprintf("; not beyond any rule: on %s ours %.1f%%, the oracle's %.1f%%", c.Feasible, c.FeasibleWorst, c.FeasibleOracle)
		}
	}
	return line
}

// Checklist evaluates the "done when" items of issue 13 that the operating characteristic
// decides, each per design and rule kind, on offsets up to checkedOffset:
//  1. no change: regression ≤ 1 %, inconclusive ≤ 10 %, every process (relative kinds);
//  2. true change 0.6L: regression ≤ 5 % (relative kinds);
//  3. true change 2L: p50 regression ≥ 95 %; p99 on the PR design ≥ 70 %, and ≥ 95 % at 3L;
//  4. absolute p99 < L with the true p99 at 1.02 L on the autocorrelated process: pass ≤ 1 %.
func (r *Results) Checklist() []Check {
	cfg := r.Config
	var out []Check
	add := func(item, what string, d, k int, shift float64, procs []synth.Process, verdict Outcome, atMost bool, bound float64) {
		kind, de := cfg.Kinds[k], cfg.Designs[d]
		c := Check{Item: item, What: what, Scope: kind.Name + " · " + de.Name, AtMost: atMost, Bound: bound, Pass: true, Oracle: math.NaN()}
		s := slices.Index(kind.Shifts, shift)
		if s < 0 {
			return
		}
		for p, proc := range cfg.Processes {
			if procs != nil && !slices.Contains(procs, proc) {
				continue
			}
			for o, sd := range cfg.Offsets {
				if sd > checkedOffset {
					continue
				}
				L := 0.0
				if kind.Relative {
					L = kind.L
				}
				c.Add(r.Cell(d, k, p, o, s), verdict, L, fmt.Sprintf("%s, offset %.0f%%", proc, 100*sd))
			}
		}
		out = append(out, c)
	}
	const (
		reg  = OutRegression
		inc  = OutInconclusive
		pass = OutPass
	)
	for d, de := range cfg.Designs {
		for k, kind := range cfg.Kinds {
			if !kind.Relative {
				continue
			}
			add("1", "no change: regression", d, k, 0, nil, reg, true, 1)
			add("1", "no change: inconclusive", d, k, 0, nil, inc, true, 10)
			add("2", "true change 0.6L: regression", d, k, 0.6, nil, reg, true, 5)
			switch {
			case kind.Percentile == "50":
				add("3", "true change 2L: regression", d, k, 2, nil, reg, false, 95)
			case kind.Percentile == "99" && de.Name == PR.Name:
				add("3", "true change 2L: regression", d, k, 2, nil, reg, false, 70)
				add("3", "true change 3L: regression", d, k, 3, nil, reg, false, 95)
			}
		}
		for k, kind := range cfg.Kinds {
			if !kind.Relative && kind.Share == 0 && kind.Percentile == "99" {
				add("4", "true p99 at 1.02L: pass", d, k, 1.02, []synth.Process{synth.AR1}, pass, true, 1)
			}
		}
	}
	return out
}
