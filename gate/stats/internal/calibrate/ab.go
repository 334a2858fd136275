package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/calib"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// abDesign is -design AB: interleaved A/B results of rounds (one second unless the layout says) at abRate
// inferences per second, gated by gate.CompareAB, in the layouts of abTables.
const (
	abDesign = "AB"
	abRate   = 1000
)

// abProcess is a synthetic paired process: each arm draws its own body from a synth process
// (its own bursts and drift, which pairing does not remove) under factors the arms share: the
// run's offset (sd Run, drawn afresh for each session) and a per-round machine state, an AR(1)
// over rounds (sd Shared, lag-one correlation Rho); each arm's half of a round has its own
// factor (sd Arm), and each arm of each session its own offset (sd Session): what fresh
// processes differ by (memory layout, a runtime's start-up choices) that no round within the
// session sees.
type abProcess struct {
	Name, Short                    string
	Body                           synth.Process
	Shared, Rho, Arm, Run, Session float64
}

// abLayout is the shape of one A/B result: Sessions sessions of fresh arms (1: the arms are
// opened once) of Rounds rounds of Round each (zero: 1 s).
type abLayout struct {
	Sessions, Rounds int
	Round            time.Duration
}

func (l abLayout) String() string {
	r := ""
	if l.Round != 0 && l.Round != time.Second {
		r = " of " + l.Round.String()
	}
	if l.Sessions > 1 {
		return fmt.Sprintf("%d sessions of %d rounds%s", l.Sessions, l.Rounds, r)
	}
	return fmt.Sprintf("%d rounds%s", l.Rounds, r)
}

// round is the layout's round length, and perRound the samples of one arm in a round.
func (l abLayout) round() time.Duration { return cmp.Or(l.Round, time.Second) }
func (l abLayout) perRound() int        { return int(abRate * l.round() / time.Second) }

// total is the rounds of all sessions.
func (l abLayout) total() int { return l.Sessions * l.Rounds }

// analyses are how gate.CompareAB is run on a result of the layout: with the session pair as
// the unit when the gate does so (result.AB.Sessions ≥ stats.MinSessions), and per round; only
// the first is what the gate does.
func (l abLayout) analyses() []string {
	if l.Sessions >= stats.MinSessions {
		return []string{"session pairs", "per round"}
	}
	return []string{"per round"}
}

// abTable is one table of the report: a layout and its processes.
type abTable struct {
	Layout    abLayout
	Processes []abProcess
}

// abTables are the A/B report's tables. The first is a 30-second-per-arm `tailgate ab`: bodies
// without slow dynamics of their own (a machine's drift is shared by the arms of an interleaved
// run, so it is a shared factor here), under shared drift, jumps and run offsets of increasing
// weight. The others are `tailgate ab --sessions S --rounds 8 --round 1s`, 4 and 8 sessions
// (4 × 8 s is about the 30 s per arm of the first), with per-arm session offsets of 0 (the
// control), 2 and 5 %.
var abTables = []abTable{
	{Layout: abLayout{Sessions: 1, Rounds: 30}, Processes: abOneSession},
	// The automatic round of a sub-millisecond model (harness.AutoSchedule): the same 30 s per
	// arm in 120 rounds of 250 ms, under the same drift in time (ρ per round the fourth root).
	{Layout: abLayout{Sessions: 1, Rounds: 120, Round: 250 * time.Millisecond}, Processes: perQuarterRound(abOneSession)},
	{Layout: abLayout{Sessions: 4, Rounds: 8}, Processes: abSessionProcesses},
	{Layout: abLayout{Sessions: 8, Rounds: 8}, Processes: abSessionProcesses},
}

var abOneSession = []abProcess{
	{Name: "iid, nothing shared", Short: "iid", Body: synth.IID},
	{Name: "iid body, shared drift 5% (ρ 0.95), arm noise 0.5%, run offset 5%", Short: "iid+drift", Body: synth.IID, Shared: 0.05, Rho: 0.95, Arm: 0.005, Run: 0.05},
	{Name: "pareto tail, shared drift 5% (ρ 0.9), arm noise 0.5%, run offset 5%", Short: "pareto", Body: synth.Pareto, Shared: 0.05, Rho: 0.9, Arm: 0.005, Run: 0.05},
	{Name: "bimodal, shared jumps 10% (ρ 0.3), arm noise 1%, run offset 10%", Short: "bimodal", Body: synth.Bimodal, Shared: 0.10, Rho: 0.3, Arm: 0.01, Run: 0.10},
}

// perQuarterRound is ps for rounds a quarter as long: the shared state's lag-one correlation
// per round is the fourth root of its per-second one, so it drifts as fast in time.
func perQuarterRound(ps []abProcess) []abProcess {
	out := slices.Clone(ps)
	for i := range out {
		out[i].Rho = math.Pow(out[i].Rho, 0.25)
		out[i].Name += " (per second)"
	}
	return out
}

var abSessionProcesses = []abProcess{
	{Name: "iid body, shared drift 5% (ρ 0.95), arm noise 0.5%, run offset 5% a session, arm offset 0% a session", Short: "iid, session 0%", Body: synth.IID, Shared: 0.05, Rho: 0.95, Arm: 0.005, Run: 0.05},
	{Name: "iid body, shared drift 5% (ρ 0.95), arm noise 0.5%, run offset 5% a session, arm offset 2% a session", Short: "iid, session 2%", Body: synth.IID, Shared: 0.05, Rho: 0.95, Arm: 0.005, Run: 0.05, Session: 0.02},
	{Name: "iid body, shared drift 5% (ρ 0.95), arm noise 0.5%, run offset 5% a session, arm offset 5% a session", Short: "iid, session 5%", Body: synth.IID, Shared: 0.05, Rho: 0.95, Arm: 0.005, Run: 0.05, Session: 0.05},
	{Name: "bimodal, shared jumps 10% (ρ 0.3), arm noise 1%, run offset 10% a session, arm offset 2% a session", Short: "bimodal, session 2%", Body: synth.Bimodal, Shared: 0.10, Rho: 0.3, Arm: 0.01, Run: 0.10, Session: 0.02},
}

// abKind is a relative rule gated on the pairs at the true shifts; Q is its quantile (0 for the
// mean).
type abKind struct {
	Rule   string
	Q, L   float64
	Shifts []float64
}

var abKinds = []abKind{
	{Rule: "p50 < +5%", Q: 0.5, L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
	{Rule: "p99 < +5%", Q: 0.99, L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
	{Rule: "mean < +5%", L: 0.05, Shifts: []float64{0, 0.6, 1, 2}},
}

// abCell is a cell's verdicts with each pair's ln R̂ (for the oracle) and the half-width of its
// reported interval on the log scale, ln(hi/R̂).
type abCell struct {
	calib.Cell
	Half []float64
}

// abConfig sets the size of an A/B experiment.
type abConfig struct {
	Pairs   int
	Seed    uint64
	Workers int // 0: GOMAXPROCS
	Tables  []abTable
}

// abResults holds the cells as Cells[table][analysis][process][kind][shift].
type abResults struct {
	Config  abConfig
	Cells   [][][][][]abCell
	Elapsed time.Duration
}

// runAB gates cfg.Pairs seeded A/B results per table and process with every analysis of the
// table's layout.
func runAB(cfg abConfig) (*abResults, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	rules := make([]gate.Rule, len(abKinds))
	for k, kind := range abKinds {
		r, err := gate.ParseRule(gate.RuleSource{Text: kind.Rule, Origin: "calibration"})
		if err != nil {
			return nil, err
		}
		rules[k] = r
	}
	res := &abResults{Config: cfg, Cells: make([][][][][]abCell, len(cfg.Tables))}
	for t, tb := range cfg.Tables {
		res.Cells[t] = make([][][][]abCell, len(tb.Layout.analyses()))
		for a := range res.Cells[t] {
			res.Cells[t][a] = make([][][]abCell, len(tb.Processes))
			for p := range tb.Processes {
				res.Cells[t][a][p] = make([][]abCell, len(abKinds))
				for k, kind := range abKinds {
					res.Cells[t][a][p][k] = make([]abCell, len(kind.Shifts))
				}
			}
		}
	}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	jobs := make(chan [3]int)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				t, p, i := j[0], j[1], j[2]
				tb := cfg.Tables[t]
				got, err := abPair(tb.Layout, tb.Processes[p], rules, cfg.Seed*1_000_003+uint64(t)*100_003+uint64(p)*10_007+uint64(i))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for a := range got {
					for k := range got[a] {
						for s, g := range got[a][k] {
							c := &res.Cells[t][a][p][k][s]
							c.Regression += g.Regression
							c.Inconclusive += g.Inconclusive
							c.Pass += g.Pass
							c.Other += g.Other
							c.LnR = append(c.LnR, g.LnR...)
							c.Half = append(c.Half, g.Half...)
						}
					}
				}
				mu.Unlock()
			}
		})
	}
	for t, tb := range cfg.Tables {
		for p := range tb.Processes {
			for i := range cfg.Pairs {
				jobs <- [3]int{t, p, i}
			}
		}
	}
	close(jobs)
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res, firstErr
}

// abPair draws one A/B result of process pr in layout l (arm B unshifted), and gates it with
// every analysis of the layout, rule and shift of B: common random numbers across the cells of
// a pair. It returns one-pair cells as [analysis][kind][shift].
func abPair(l abLayout, pr abProcess, rules []gate.Rule, seed uint64) ([][][]abCell, error) {
	rounds, per := l.total(), l.perRound()
	rng := rand.New(rand.NewPCG(seed, 0x6162))
	var draws [2][]float32
	for arm := range draws {
		g, err := synth.New(synth.Spec{Process: pr.Body, Seed: 2*seed + uint64(arm), Intervals: rounds, PerIntvl: per})
		if err != nil {
			return nil, err
		}
		draws[arm] = make([]float32, rounds*per)
		for k := range rounds {
			g.Draw(draws[arm][k*per : (k+1)*per])
		}
	}
	factors := make([][2]float64, rounds)
	var run, x float64
	var session [2]float64
	for k := range factors {
		if k%l.Rounds == 0 {
			run = pr.Run * rng.NormFloat64()
			if pr.Session > 0 {
				for arm := range session {
					session[arm] = pr.Session * rng.NormFloat64()
				}
			}
		}
		if k == 0 {
			x = pr.Shared * rng.NormFloat64()
		} else {
			x = pr.Rho*x + pr.Shared*math.Sqrt(1-pr.Rho*pr.Rho)*rng.NormFloat64()
		}
		for arm := range 2 {
			factors[k][arm] = synth.MedianNs * math.Exp(run+session[arm]+x+pr.Arm*rng.NormFloat64())
		}
	}
	// One meta for both arms; its Sessions says which analysis the gate runs.
	ab := &result.AB{Rounds: rounds, Round: l.round(), Order: strings.Repeat("A", rounds),
		Arms: []result.Arm{{Name: "A", Model: "a"}, {Name: "B", Model: "b"}}}
	meta := &result.Meta{Suite: "calibration-ab", Health: result.Health{Healthy: true}, AB: ab}
	h := result.NewHistogram()
	arm := func(i int, scale float64) (*gate.Run, error) {
		r := &gate.Run{Dir: "ab-" + result.ArmNames[i], Meta: meta, Sample: &stats.Sample{}}
		for k := range rounds {
			recordRound(h, draws[i][k*per:(k+1)*per], factors[k][i]*scale)
			t := time.Unix(0, 0).Add(time.Duration(2*k+i) * l.round())
			if err := r.Add(result.Interval{Tag: result.ArmNames[i], Start: t, End: t.Add(l.round()), Hist: h}); err != nil {
				return nil, err
			}
		}
		return r, nil
	}
	a, err := arm(0, 1)
	if err != nil {
		return nil, err
	}
	analyses := l.analyses()
	out := make([][][]abCell, len(analyses))
	for an := range out {
		out[an] = make([][]abCell, len(abKinds))
		for k, kind := range abKinds {
			out[an][k] = make([]abCell, len(kind.Shifts))
		}
	}
	bs := map[float64]*gate.Run{}
	for k, kind := range abKinds {
		for s, shift := range kind.Shifts {
			f := 1 + shift*kind.L
			b := bs[f]
			if b == nil {
				if b, err = arm(1, f); err != nil {
					return nil, err
				}
				bs[f] = b
			}
			for an, analysis := range analyses {
				ab.Sessions = 0
				if analysis == "session pairs" {
					ab.Sessions = l.Sessions
				}
				rep, err := gate.CompareAB(a, b, rules[k:k+1], gate.Options{Seed: seed | 1})
				if err != nil {
					return nil, err
				}
				tally(&out[an][k][s], rep)
			}
		}
	}
	return out, nil
}

// tally counts a one-rule report's verdict into c, with its ratio and interval.
func tally(c *abCell, rep *gate.Report) {
	c.Count(rep.Verdict)
	row := rep.Rules[0]
	switch {
	case row.Ratio != nil && *row.Ratio > 0:
		c.LnR = append(c.LnR, math.Log(*row.Ratio))
		if row.RatioHi != nil {
			c.Half = append(c.Half, math.Log(*row.RatioHi / *row.Ratio))
		}
	case row.Candidate != nil && row.Baseline != nil && *row.Candidate > 0 && *row.Baseline > 0:
		// No interval (too few units of rounds): the oracle still has the pair's point.
		c.LnR = append(c.LnR, math.Log(*row.Candidate / *row.Baseline))
	}
}

func recordRound(h *hdrhistogram.Histogram, raw []float32, f float64) {
	h.Reset()
	for _, v := range raw {
		_ = h.RecordValue(min(max(int64(float64(v)*f), 1), result.HighestNs))
	}
}

// theorySD is the asymptotic sd of ln R̂ for the q-quantile of body alone with n independent
// samples an arm: √(2·q(1−q)/n) / (Q·f(Q)), the density taken on the log scale from the
// process's CDF. It leaves out what the table's factors add (drift widens the pooled
// distribution, arm noise moves each arm's quantile), so it is a yardstick, not the truth.
func theorySD(body synth.Process, q float64, n int) float64 {
	x := synth.Quantile(body, q)
	const h = 1e-4
	dens := (synth.CDF(body, x*math.Exp(h)) - synth.CDF(body, x*math.Exp(-h))) / (2 * h)
	return math.Sqrt(2*q*(1-q)/float64(n)) / dens
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// pct formats a log-scale width in percent.
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + "%" }

// write writes the verdict shares per table, analysis, process, rule and shift, each row with
// the A/A interval widths (the true sd of ln R̂ over the pairs, the median reported half-width
// and its ratio to the oracle's z·sd), then the checklist of the A/B design (issue 17, the
// targets of issue 13's per rule kind): no change, regression ≤ 1 % and inconclusive ≤ 10 %; a
// true change of 0.6L, regression ≤ 5 %; 2L on p50, regression ≥ 95 %; each with the oracle
// beside it (calib.Cell.Oracle). The gate's own analyses are checked; the per-round analysis of
// session results, which the gate does not run, is listed apart for contrast. It reports
// whether every checked line holds.
func (r *abResults) write(w io.Writer) (bool, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "== interleaved A/B: rounds of 1 s per arm unless said at %d/s, %d pairs a cell, seed %d, gate.CompareAB (%s) ==\n", abRate, r.Config.Pairs, r.Config.Seed, r.Elapsed.Round(time.Second))
	b.WriteString("cells: regression / inconclusive / pass, percent; A/A, at no change: the oracle's shares, the sd of ln R̂ over the\n" +
		"  pairs, the median half-width ln(hi/R̂) of the intervals the gate reported and its ratio to the oracle's 2.576·sd (1.00:\n" +
		"  as wide as exact); for quantiles, the asymptotic sd of ln R̂ for the body alone, iid (√(2q(1−q)/n)/(Q·f(Q)))\n" +
		"oracle (checklist): the same decision with the true sd of ln R̂ in place of each pair's estimate, z = 2.576: the best any\n" +
		"  rule at confidence 0.99 does; a target the oracle misses on every cell the gate fails is beyond any rule\n")
	if n := r.others(); n > 0 {
		fmt.Fprintf(&b, "%d gates gave another verdict (incomparable or error)\n", n)
	}
	for t, tb := range r.Config.Tables {
		for a, analysis := range tb.Layout.analyses() {
			fmt.Fprintf(&b, "\n== %s, %s ==\n", tb.Layout, r.describe(tb.Layout, analysis))
			for p, pr := range tb.Processes {
				fmt.Fprintf(&b, "\n%s\n", pr.Name)
				for k, kind := range abKinds {
					fmt.Fprintf(&b, "  %-11s", kind.Rule)
					for s, shift := range kind.Shifts {
						rr, ii, pp := r.Cells[t][a][p][k][s].Share()
						fmt.Fprintf(&b, "  %gL %5.1f/%5.1f/%5.1f", shift, rr, ii, pp)
					}
					if s := slices.Index(kind.Shifts, 0); s >= 0 {
						c := r.Cells[t][a][p][k][s]
						sd, half := c.SDLnR(), median(c.Half)
						or, oi, op := c.Oracle(kind.L).Share()
						fmt.Fprintf(&b, "  A/A: oracle %.1f/%.1f/%.1f, sd %s, half %s (%.2f×)", or, oi, op, pct(sd), pct(half), half/(calib.OracleZ*sd))
						if kind.Q > 0 {
							fmt.Fprintf(&b, "; body alone, iid: sd %s", pct(theorySD(pr.Body, kind.Q, tb.Layout.total()*tb.Layout.perRound())))
						}
					}
					b.WriteString("\n")
				}
			}
		}
	}
	checks, contrast := r.checklist()
	b.WriteString("\n== done when (issue 17), worst cell over the processes of each layout, as the gate analyses it ==\n")
	for _, c := range checks {
		fmt.Fprintln(&b, c)
	}
	b.WriteString(calib.Summary(checks) + "\n")
	ok := !slices.ContainsFunc(checks, func(c calib.Check) bool { return !c.Pass })
	if len(contrast) > 0 {
		b.WriteString("\n== contrast: session results analysed per round, as if their sessions were one run (the gate does not) ==\n")
		for _, c := range contrast {
			fmt.Fprintln(&b, c)
		}
	}
	_, err := io.WriteString(w, b.String())
	return ok, err
}

// describe says how analysis treats a result of layout l.
func (r *abResults) describe(l abLayout, analysis string) string {
	if analysis == "session pairs" {
		return fmt.Sprintf("the session pair the unit (t on %d df), as the gate analyses %d sessions", l.Sessions-1, l.Sessions)
	}
	if l.Sessions > 1 {
		return "analysed per round as if the sessions were one run (contrast: the gate does not)"
	}
	return "paired rounds"
}

func (r *abResults) others() int {
	n := 0
	for _, t := range r.Cells {
		for _, a := range t {
			for _, p := range a {
				for _, k := range p {
					for _, c := range k {
						n += c.Other
					}
				}
			}
		}
	}
	return n
}

// checklist evaluates the A/B targets per table, analysis and rule kind over the table's
// processes: the gate's analyses first, then the per-round analyses of session layouts.
func (r *abResults) checklist() (checks, contrast []calib.Check) {
	for t, tb := range r.Config.Tables {
		for a, analysis := range tb.Layout.analyses() {
			scope := tb.Layout.String()
			if tb.Layout.Sessions > 1 {
				scope = fmt.Sprintf("%d×%d, %s", tb.Layout.Sessions, tb.Layout.Rounds, analysis)
			}
			for k, kind := range abKinds {
				add := func(item, what string, shift float64, v calib.Outcome, atMost bool, bound float64) {
					s := slices.Index(kind.Shifts, shift)
					c := calib.Check{Item: item, What: what, Scope: kind.Rule + " · " + scope, AtMost: atMost, Bound: bound, Pass: true}
					for p, pr := range tb.Processes {
						c.Add(r.Cells[t][a][p][k][s].Cell, v, kind.L, pr.Short)
					}
					if tb.Layout.Sessions > 1 && analysis == "per round" {
						contrast = append(contrast, c)
					} else {
						checks = append(checks, c)
					}
				}
				add("1", "no change: regression", 0, calib.OutRegression, true, 1)
				add("1", "no change: inconclusive", 0, calib.OutInconclusive, true, 10)
				add("2", "true change 0.6L: regression", 0.6, calib.OutRegression, true, 5)
				if kind.Q == 0.5 {
					add("3", "true change 2L: regression", 2, calib.OutRegression, false, 95)
				}
			}
		}
	}
	return checks, contrast
}
