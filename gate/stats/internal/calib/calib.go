// Package calib measures the gate's whole verdict as an operating characteristic: for each
// rule kind, process, per-run offset and known true shift it gates many seeded pairs of
// synthetic runs through the public gate API (gate.ParseRule, gate.Run, gate.Compare) and
// counts regression / inconclusive / pass. It measures whatever decision rule package gate
// implements, not a significance test beside it. It owns the experiment, its report and the
// "done when" checklist of issue 13; the processes come from package synth. The calibrate
// program runs the long version (`make calibrate`), the tests a seeded smoke of it.
package calib

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// Design is the shape of a pair: a baseline run and a candidate run of the same process, each
// of so many intervals of IntervalSec seconds at Rate inferences per second.
type Design struct {
	Name          string
	BaseIntervals int
	CandIntervals int
	IntervalSec   int
	Rate          int
}

// PerIntvl is the samples per interval.
func (d Design) PerIntvl() int { return d.Rate * d.IntervalSec }

// The two designs of issue 13: a 2-minute PR run against a 1-hour baseline (1-s intervals),
// and a pair of nightly runs, 2 hours each at 10-s intervals (shorter than a real nightly so
// that 200 pairs a cell stay within an hour or so).
var (
	PR      = Design{Name: "PR", BaseIntervals: 3600, CandIntervals: 120, IntervalSec: 1, Rate: 300}
	Nightly = Design{Name: "nightly", BaseIntervals: 720, CandIntervals: 720, IntervalSec: 10, Rate: 300}
	Designs = []Design{PR, Nightly}
)

// Kind is a rule kind and the true shifts it is gated at.
type Kind struct {
	Name string
	// Relative: "pQ < +L"; the candidate is the baseline's process scaled by 1+shift·L.
	Relative   bool
	Percentile string  // "99.9"
	L          float64 // relative limit
	// Absolute: "pQ < X" with X = true quantile / shift, or, when Share > 0,
	// "miss(D) < Share" with D the true quantile at 1 − Share·shift: shift is the truth over
	// the limit, so above 1 the claim is false. The candidate is the unshifted process.
	Share  float64
	Shifts []float64
}

// Kinds are the rule kinds `make calibrate` reports, in order.
var Kinds = []Kind{
	{Name: "p50 < +5%", Relative: true, Percentile: "50", L: 0.05, Shifts: []float64{0, 0.6, 1, 1.5, 2}},
	{Name: "p99 < +5%", Relative: true, Percentile: "99", L: 0.05, Shifts: []float64{0, 0.6, 1, 1.5, 2, 3}},
	{Name: "p99.9 < +10%", Relative: true, Percentile: "99.9", L: 0.10, Shifts: []float64{0, 0.6, 1, 1.5, 2}},
	{Name: "p99 < L (absolute)", Percentile: "99", Shifts: []float64{0.9, 0.98, 1, 1.02, 1.1}},
	{Name: "miss(D) < 0.1%", Share: 0.001, Shifts: []float64{0.9, 0.98, 1, 1.02, 1.1}},
}

// Offsets are the sds of the per-run multiplicative log-normal offsets.
var Offsets = []float64{0, 0.01, 0.02}

// q is the kind's quantile as a fraction.
func (k Kind) q() float64 {
	v, _ := strconv.ParseFloat(k.Percentile, 64)
	return v / 100
}

// Factor is what the candidate's latencies are multiplied by at shift s.
func (k Kind) Factor(s float64) float64 {
	if k.Relative {
		return 1 + s*k.L
	}
	return 1
}

// Rule is the rule text for process p at shift s.
func (k Kind) Rule(p synth.Process, s float64) string {
	switch {
	case k.Relative:
		return fmt.Sprintf("p%s < +%g%%", k.Percentile, 100*k.L)
	case k.Share > 0:
		d := synth.Quantile(p, 1-k.Share*s)
		return fmt.Sprintf("miss(%dns) < %g%%", int64(math.Round(d)), 100*k.Share)
	}
	return fmt.Sprintf("p%s < %dns", k.Percentile, int64(math.Round(synth.Quantile(p, k.q())/s)))
}

// Label is the column heading of shift s.
func (k Kind) Label(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s == 1:
		return "L"
	}
	return strconv.FormatFloat(s, 'g', -1, 64) + "L"
}

// Cell counts the verdicts of the pairs of one cell and, for a relative kind, keeps each pair's
// estimated log ratio ln R̂ for the oracle (Results.Oracle).
type Cell struct {
	Regression, Inconclusive, Pass, Other int
	LnR                                   []float64
}

// N is the pairs counted.
func (c Cell) N() int { return c.Regression + c.Inconclusive + c.Pass + c.Other }

// Share returns the verdict shares in percent.
func (c Cell) Share() (r, i, p float64) {
	n := float64(max(c.N(), 1))
	return 100 * float64(c.Regression) / n, 100 * float64(c.Inconclusive) / n, 100 * float64(c.Pass) / n
}

// Count counts one pair's verdict.
func (c *Cell) Count(v gate.Verdict) {
	switch v {
	case gate.VerdictRegression:
		c.Regression++
	case gate.VerdictInconclusive:
		c.Inconclusive++
	case gate.VerdictPass:
		c.Pass++
	default:
		c.Other++
	}
}

// Config sets the size of an experiment.
type Config struct {
	Pairs     int    // pairs a cell
	Seed      uint64 // the experiment's seed; pair k of a process and design derives its own
	Workers   int    // 0: GOMAXPROCS
	Designs   []Design
	Processes []synth.Process
	Kinds     []Kind
	Offsets   []float64
	// Progress, when set, is called after each finished pair with the share of work done.
	Progress func(done, total int, frac float64)
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Designs == nil {
		c.Designs = Designs
	}
	if c.Processes == nil {
		c.Processes = synth.Processes
	}
	if c.Kinds == nil {
		c.Kinds = Kinds
	}
	if c.Offsets == nil {
		c.Offsets = Offsets
	}
	return c
}

// Results holds the cells as Cells[design][kind][process][offset][shift], in Config order.
type Results struct {
	Config  Config
	Cells   [][][][][]Cell
	Elapsed time.Duration
}

// Cell returns a cell by index.
func (r *Results) Cell(d, k, p, o, s int) Cell { return r.Cells[d][k][p][o][s] }

// Run gates cfg.Pairs pairs for every design and process, each pair at every offset, kind and
// shift. A pair's baseline and candidate draws are generated once and recorded at each offset
// and shift (common random numbers across the cells of a pair; pairs are independent).
func Run(cfg Config) (*Results, error) {
	cfg = cfg.withDefaults()
	res := &Results{Config: cfg}
	// rules[k][p][s], parsed once.
	rules := make([][][][]gate.Rule, len(cfg.Kinds))
	for k, kind := range cfg.Kinds {
		rules[k] = make([][][]gate.Rule, len(cfg.Processes))
		for p, proc := range cfg.Processes {
			for _, s := range kind.Shifts {
				r, err := gate.ParseRule(gate.RuleSource{Text: kind.Rule(proc, s), Origin: "calibration"})
				if err != nil {
					return nil, err
				}
				rules[k][p] = append(rules[k][p], []gate.Rule{r})
			}
		}
	}
	res.Cells = make([][][][][]Cell, len(cfg.Designs))
	for d := range cfg.Designs {
		res.Cells[d] = make([][][][]Cell, len(cfg.Kinds))
		for k, kind := range cfg.Kinds {
			res.Cells[d][k] = make([][][]Cell, len(cfg.Processes))
			for p := range cfg.Processes {
				res.Cells[d][k][p] = make([][]Cell, len(cfg.Offsets))
				for o := range cfg.Offsets {
					res.Cells[d][k][p][o] = make([]Cell, len(kind.Shifts))
				}
			}
		}
	}
	type job struct{ d, p, k int }
	var jobs []job
	weight, total := map[int]float64{}, 0.0
	for d, de := range cfg.Designs {
		weight[d] = float64((de.BaseIntervals + de.CandIntervals) * de.PerIntvl())
		for k := range cfg.Pairs {
			for p := range cfg.Processes {
				jobs = append(jobs, job{d, p, k})
				total += weight[d]
			}
		}
	}
	start := time.Now()
	ch := make(chan job)
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		done     int
		doneW    float64
	)
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{cfg: cfg, bin: synth.NewBinner()}
			for j := range ch {
				tally, err := w.pair(cfg.Designs[j.d], j.d, cfg.Processes[j.p], j.p, j.k, rules)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				for k := range tally {
					for o := range tally[k] {
						for s, v := range tally[k][o] {
							c := &res.Cells[j.d][k][j.p][o][s]
							c.Regression += v.Regression
							c.Inconclusive += v.Inconclusive
							c.Pass += v.Pass
							c.Other += v.Other
							c.LnR = append(c.LnR, v.LnR...)
						}
					}
				}
				done++
				doneW += weight[j.d]
				if cfg.Progress != nil {
					cfg.Progress(done, len(jobs), doneW/total)
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res, firstErr
}

// worker holds one goroutine's reusable buffers.
type worker struct {
	cfg        Config
	bin        *synth.Binner
	base, cand []float32
}

// pairSeed derives pair k's seed from the experiment's, the design and the process.
func pairSeed(seed uint64, d, p, k int) uint64 {
	z := seed*0x9e3779b97f4a7c15 ^ uint64(d)<<48 ^ uint64(p)<<40 ^ uint64(k)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// draw generates a run's raw draws into buf (grown as needed) and returns them with the run's
// offset normal.
func draw(buf []float32, p synth.Process, seed uint64, intervals, per, rate int) ([]float32, float64, error) {
	n := intervals * per
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	g, err := synth.New(synth.Spec{Process: p, Seed: seed, Intervals: intervals, PerIntvl: per, Rate: rate})
	if err != nil {
		return buf, 0, err
	}
	for i := range intervals {
		g.Draw(buf[i*per : (i+1)*per])
	}
	return buf, g.OffsetZ(), nil
}

var epoch = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

// run records raw draws times f ns as a gate.Run of intervals of per samples.
func (w *worker) run(name string, raw []float32, per, sec int, f float64) (*gate.Run, error) {
	meta := &result.Meta{Suite: "calibration", Env: result.Fingerprint{Arch: "arm64", OS: "linux", Backend: "synthetic"},
		Health: result.Health{Healthy: true}}
	r := &gate.Run{Dir: name, Meta: meta}
	step := time.Duration(sec) * time.Second
	for i := 0; (i+1)*per <= len(raw); i++ {
		s := epoch.Add(time.Duration(i) * step)
		if err := r.AddBuckets(result.IntervalBuckets{Start: s, End: s.Add(step), Buckets: w.bin.Bin(raw[i*per:(i+1)*per], f)}); err != nil {
			return nil, err
		}
	}
	meta.Start, meta.End = epoch, epoch.Add(r.Span)
	return r, nil
}

// pair gates pair k of process p in design de at every offset, kind and shift and returns the
// verdicts as tally[kind][offset][shift].
func (w *worker) pair(de Design, d int, p synth.Process, pi, k int, rules [][][][]gate.Rule) ([][][]Cell, error) {
	cfg := w.cfg
	seed := pairSeed(cfg.Seed, d, pi, k)
	per := de.PerIntvl()
	var zb, zc float64
	var err error
	if w.base, zb, err = draw(w.base, p, 2*seed, de.BaseIntervals, per, de.Rate); err != nil {
		return nil, err
	}
	if w.cand, zc, err = draw(w.cand, p, 2*seed+1, de.CandIntervals, per, de.Rate); err != nil {
		return nil, err
	}
	tally := make([][][]Cell, len(cfg.Kinds))
	for ki, kind := range cfg.Kinds {
		tally[ki] = make([][]Cell, len(cfg.Offsets))
		for o := range cfg.Offsets {
			tally[ki][o] = make([]Cell, len(kind.Shifts))
		}
	}
	for o, sd := range cfg.Offsets {
		base, err := w.run("baseline", w.base, per, de.IntervalSec, synth.MedianNs*math.Exp(sd*zb))
		if err != nil {
			return nil, err
		}
		cands := map[float64]*gate.Run{}
		for ki, kind := range cfg.Kinds {
			for si, s := range kind.Shifts {
				f := kind.Factor(s)
				cand := cands[f]
				if cand == nil {
					if cand, err = w.run("candidate", w.cand, per, de.IntervalSec, f*synth.MedianNs*math.Exp(sd*zc)); err != nil {
						return nil, err
					}
					cands[f] = cand
				}
				rep, err := gate.Compare(base, cand, rules[ki][pi][si], gate.Options{Seed: seed | 1})
				if err != nil {
					return nil, err
				}
				c := &tally[ki][o][si]
				if rr := rep.Rules[0].Ratio; kind.Relative && rr != nil && *rr > 0 {
					c.LnR = append(c.LnR, math.Log(*rr))
				}
				c.Count(rep.Verdict)
			}
		}
	}
	return tally, nil
}

// OracleZ is the normal quantile of the calibration's two-sided confidence 0.99.
const OracleZ = 2.5758293035489004

// Oracle is what the decision rule of package gate would have said about the pairs of a cell of
// a relative kind with limit L had it known the true standard deviation of ln R̂ (its spread
// over the cell's pairs, c.LnR) instead of estimating it from each pair's runs: intervals
// ln R̂ ± z·sd at confidence 0.99, then regression when R̂ ≥ 1+L and lo > 1+L/2, pass when
// hi < 1+L, inconclusive when hi ≥ 1+2L or the interval is wider than 2·ln(1+2L), pass
// otherwise. No rule at that confidence does better on the process, so a target the oracle
// misses is beyond any rule at this run length, not a weakness of the estimate. Fewer than two
// pairs give an empty Cell.
func (c Cell) Oracle(L float64) Cell {
	sd := c.SDLnR()
	if math.IsNaN(sd) {
		return Cell{}
	}
	var out Cell
	for _, th := range c.LnR {
		lo, hi := th-OracleZ*sd, th+OracleZ*sd
		switch {
		case th >= math.Log1p(L) && lo > math.Log1p(L/2):
			out.Regression++
		case hi < math.Log1p(L):
			out.Pass++
		case hi >= math.Log1p(2*L) || hi-lo > 2*math.Log1p(2*L):
			out.Inconclusive++
		default:
			out.Pass++
		}
	}
	return out
}

// SDLnR is the true standard deviation of ln R̂ the oracle uses: the spread of c.LnR (NaN for
// fewer than two pairs).
func (c Cell) SDLnR() float64 {
	if len(c.LnR) < 2 {
		return math.NaN()
	}
	var m, v float64
	for _, x := range c.LnR {
		m += x
	}
	m /= float64(len(c.LnR))
	for _, x := range c.LnR {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(c.LnR)-1))
}
