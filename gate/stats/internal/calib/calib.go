// Package calib measures how package stats' comparisons behave when the truth is known: the
// false-alarm rate of A/A pairs (two runs of the same process) and the power against an
// injected shift, for the gate's relative-rule semantics and, beside them, a plain ratio rule.
// It owns the experiment and its report; the processes come from package synth. The fast
// version runs in `go test`, the long one in the calibrate program (`make calibrate`).
package calib

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/tailgate-ci/tailgate/gate/stats"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
	"gonum.org/v1/gonum/stat/distuv"
)

// Scenario is one experiment: runs of Intervals×PerIntvl samples, the candidate scaled by
// Shift (1 for A/A), judged on Stat against the relative rule "Stat < +Limit" at Conf.
type Scenario struct {
	Name      string
	Stat      stats.Stat
	Limit     float64 // 0.05 for "+5%"
	Conf      float64
	Intervals int
	PerIntvl  int
	Shift     float64
}

// Long are the scenarios `make calibrate` reports: the A/A false-alarm rate and the power for
// a +5 % p99 shift at 200k samples and a +10 % p99.9 shift at 1M samples, at confidence 0.99.
var Long = []Scenario{
	{Name: "A/A p99 < +5% @ 200k", Stat: stats.P(99), Limit: 0.05, Conf: 0.99, Intervals: 200, PerIntvl: 1000, Shift: 1},
	{Name: "+5% shift, p99 @ 200k", Stat: stats.P(99), Limit: 0.05, Conf: 0.99, Intervals: 200, PerIntvl: 1000, Shift: 1.05},
	{Name: "A/A p99.9 < +10% @ 1M", Stat: stats.P(99.9), Limit: 0.10, Conf: 0.99, Intervals: 1000, PerIntvl: 1000, Shift: 1},
	{Name: "+10% shift, p99.9 @ 1M", Stat: stats.P(99.9), Limit: 0.10, Conf: 0.99, Intervals: 1000, PerIntvl: 1000, Shift: 1.10},
}

// Config sets the size of an experiment.
type Config struct {
	Pairs   int    // pairs of runs per process and scenario
	Seed    uint64 // first seed; pair k of a scenario uses Seed+2k and Seed+2k+1
	Workers int    // 0: one per CPU
	Options stats.Options
}

// Outcome counts, over Pairs pairs, how often each decision said "regression".
type Outcome struct {
	Process  synth.Process
	Scenario Scenario
	Pairs    int
	// Rule: the gate's semantics, material and significant: ratio > 1+Limit and its lower
	// bound at Conf > 1.
	Rule int
	// Significant: the interval alone excludes no-change (lower bound > 1).
	Significant int
	// Naive: the plain rule "ratio of the point estimates > 1+Limit".
	Naive int
}

// Run runs every scenario on every process and returns the outcomes in that order.
func Run(cfg Config, procs []synth.Process, scs []Scenario) ([]Outcome, error) {
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	type job struct{ o, k int }
	outs := make([]Outcome, 0, len(procs)*len(scs))
	for _, p := range procs {
		for _, sc := range scs {
			outs = append(outs, Outcome{Process: p, Scenario: sc, Pairs: cfg.Pairs})
		}
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				o := &outs[j.o]
				rule, sig, naive, err := pair(cfg, o.Process, o.Scenario, j.k)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				o.Rule += b2i(rule)
				o.Significant += b2i(sig)
				o.Naive += b2i(naive)
				mu.Unlock()
			}
		}()
	}
	for i := range outs {
		for k := range cfg.Pairs {
			jobs <- job{i, k}
		}
	}
	close(jobs)
	wg.Wait()
	return outs, firstErr
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pair generates pair k of a scenario and judges it three ways.
func pair(cfg Config, p synth.Process, sc Scenario, k int) (rule, sig, naive bool, err error) {
	gen := func(seed uint64, shift float64) (*stats.Sample, error) {
		s := &stats.Sample{}
		spec := synth.Spec{Process: p, Seed: seed, Intervals: sc.Intervals, PerIntvl: sc.PerIntvl, Scale: shift}
		return s, synth.Each(spec, s.Add)
	}
	seed := cfg.Seed + 2*uint64(k)
	base, err := gen(seed, 1)
	if err != nil {
		return false, false, false, err
	}
	cand, err := gen(seed+1, sc.Shift)
	if err != nil {
		return false, false, false, err
	}
	o := cfg.Options
	o.Seed = seed // independent resampling per pair, reproducible
	r := stats.Compare(base, cand, sc.Stat, sc.Conf, o)
	sig = r.Lo > 1
	naive = r.Point > 1+sc.Limit
	return naive && sig, sig, naive, nil
}

// Upper returns the one-sided 95 % Clopper–Pearson upper bound of a rate of k in n: what a
// measured 0/200 can still hide.
func Upper(k, n int) float64 {
	if k >= n {
		return 1
	}
	return distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(0.95)
}

// Lower returns the one-sided 95 % Clopper–Pearson lower bound of a rate of k in n.
func Lower(k, n int) float64 {
	if k <= 0 {
		return 0
	}
	return distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(0.05)
}

// Write prints outcomes as a table: per process and scenario the rate at which the gate's rule,
// the significance test alone and the naive ratio rule said "regression", with 95 % bounds.
func Write(w io.Writer, outs []Outcome) error {
	_, err := fmt.Fprintf(w, "%-14s %-24s %6s  %-26s %-26s %-26s\n", "process", "scenario", "pairs",
		"gate rule (material+sig)", "significant (lo>1)", "naive ratio>limit")
	if err != nil {
		return err
	}
	cell := func(k, n int, aa bool) string {
		rate := 100 * float64(k) / float64(n)
		if aa { // a false-alarm rate: its upper bound matters
			return fmt.Sprintf("%5.1f%% (≤%4.1f%%)", rate, 100*Upper(k, n))
		}
		return fmt.Sprintf("%5.1f%% (≥%4.1f%%)", rate, 100*Lower(k, n))
	}
	for _, o := range outs {
		aa := o.Scenario.Shift == 1
		if _, err := fmt.Fprintf(w, "%-14s %-24s %6d  %-26s %-26s %-26s\n", o.Process, o.Scenario.Name, o.Pairs,
			cell(o.Rule, o.Pairs, aa), cell(o.Significant, o.Pairs, aa), cell(o.Naive, o.Pairs, aa)); err != nil {
			return err
		}
	}
	return nil
}
