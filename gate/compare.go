package gate

import (
	"fmt"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// PWCETFunc bounds the candidate's latency at a per-inference exceedance probability. The WCET
// analysis fills it; until then Options.PWCET is nil and pwcet rules are "unavailable".
type PWCETFunc func(cand *Run, prob, confidence float64) (PWCETEstimate, error)

// PWCETEstimate is a pWCET bound, or why there is none.
type PWCETEstimate struct {
	// Valid is false when a validity test (independence, stationarity, fit) failed; Reason says which.
	Valid   bool
	BoundNs float64
	Reason  string
}

// Options tune a comparison.
type Options struct {
	// IgnorePins compares results whose pinned fingerprints differ (A/B runs: CPU vs NPU, fp32
	// vs int8); the report says so.
	IgnorePins bool
	// Inconclusive is the exit-code policy for an inconclusive gate (default DefaultInconclusive).
	Inconclusive InconclusivePolicy
	// DefaultRules marks rules that came from DefaultRules, for the report.
	DefaultRules bool
	// PWCET evaluates pwcet rules; nil reports them unavailable.
	PWCET PWCETFunc
	// Seed makes the bootstrap deterministic; the same inputs and seed give the same report.
	Seed uint64
	// BetweenRun is σ, the run-to-run standard deviation of one run's log statistic that no
	// within-run interval sees (per-process offsets, thermal state, drift slower than a run),
	// keyed by metric name ("p50", "p99.9", "mean"). Relative rules compare two separate runs,
	// so each adds 2σ² to its log ratio's variance (stats.Options.BetweenRunSD). A metric without
	// an entry gets DefaultBetweenRunSD; an entry of 0 adds nothing (runs that pairing makes
	// comparable, such as interleaved A/B runs). stats.BetweenRunSD estimates σ from a series of
	// nightly log values.
	BetweenRun map[string]float64
	// Tool identifies this tailgate in the report.
	Tool Tool
	// Paired compares the two arms of one interleaved A/B result (see CompareAB): relative rules
	// pair their rounds, with no between-run term.
	Paired bool
}

// DefaultBetweenRunSD is σ for a metric that Options.BetweenRun has no entry for: separate runs
// differ by a per-run log offset that no within-run interval sees (process placement, thermal
// state, drift slower than a run). 1 % per run is a prior, not a measurement: in calibration a
// per-run offset of sd 1 % without it called a true +3 % change a +5 % regression in 10–15 % of
// pairs. History (stats.BetweenRunSD) should replace it.
const DefaultBetweenRunSD = 0.01

// Compare evaluates rules with cand as the candidate and base as the baseline (nil when there
// is none: absolute rules are still evaluated, relative ones are skipped and the gate is
// incomparable). It returns an error only for misuse (no candidate, no rules); every property
// of the data, bad or good, is a verdict in the report.
func Compare(base, cand *Run, rules []Rule, opts Options) (*Report, error) {
	if cand == nil || cand.Meta == nil || cand.Sample == nil {
		return nil, fmt.Errorf("gate: no candidate result")
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("gate: no rules to evaluate")
	}
	if err := checkDesign(base, cand, opts); err != nil {
		return nil, err
	}
	if opts.Inconclusive == "" {
		opts.Inconclusive = DefaultInconclusive
	}
	c := &comparison{opts: opts, rules: rules, cand: newSide(cand), ratios: make([]stats.Ratio, len(rules)), short: make([]string, len(rules))}
	rep := &Report{
		Schema: ReportSchema, Suite: cand.Meta.Suite, Policy: opts.Inconclusive,
		DefaultRules: opts.DefaultRules, Tool: opts.Tool, Candidate: c.cand.side,
	}
	rep.Pins.CandidateKey = cand.Meta.Env.Key()
	if base != nil {
		c.base = newSide(base)
		rep.Baseline = &c.base.side
		rep.Pins.BaselineKey = base.Meta.Env.Key()
		rep.Pins.Diffs = result.DiffPinned(base.Meta.Env, cand.Meta.Env)
		if base.Meta.Suite != cand.Meta.Suite {
			rep.Notes = append(rep.Notes, fmt.Sprintf("suites differ: baseline %q, candidate %q", base.Meta.Suite, cand.Meta.Suite))
		}
	}
	if len(rep.Pins.Diffs) > 0 {
		fields := make([]string, len(rep.Pins.Diffs))
		for i, d := range rep.Pins.Diffs {
			fields[i] = d.Field
		}
		switch {
		case opts.Paired:
			// The arms of one A/B run share its host by construction; what else differs
			// between them (a worker's runtime against the in-process one) is the experiment.
			rep.Pins.Ignored = true
			rep.Notes = append(rep.Notes, "the arms differ in "+strings.Join(fields, ", ")+": that is what this interleaved A/B compares")
		case !opts.IgnorePins:
			why := "pinned fingerprint differs: " + strings.Join(fields, ", ")
			for _, r := range rules {
				row := newRow(r)
				row.Verdict, row.Reason = RuleSkipped, why
				rep.Rules = append(rep.Rules, row)
			}
			rep.Notes = append(rep.Notes, why+" (use --ignore-pins for an A/B comparison)")
			return c.finish(rep, VerdictIncomparable), nil
		default:
			rep.Pins.Ignored = true
			rep.Notes = append(rep.Notes, "pins ignored (--ignore-pins): this is an A/B comparison across environments")
		}
	}
	rep.Rules = c.evaluate()
	verdict := VerdictPass
	for i, row := range rep.Rules {
		if rules[i].Warn {
			continue
		}
		switch row.Verdict {
		case RuleRegression:
			verdict = Worse(verdict, VerdictRegression)
		case RuleInconclusive, RuleUnavailable:
			verdict = Worse(verdict, VerdictInconclusive)
		case RuleSkipped:
			verdict = Worse(verdict, VerdictIncomparable)
		}
	}
	if c.base == nil && verdict == VerdictIncomparable {
		rep.Notes = append(rep.Notes, "no baseline: relative rules were skipped")
	}
	// An unhealthy run can neither pass nor fail: its numbers say more about the board than
	// about the change. Incomparable stays, because it is about the pairing, not the run.
	var sick []string
	if h := cand.Meta.Health; !h.Healthy && !h.Overridden {
		sick = append(sick, "candidate run unhealthy: "+reasons(h))
	}
	if base != nil {
		if h := base.Meta.Health; !h.Healthy && !h.Overridden {
			sick = append(sick, "baseline run unhealthy: "+reasons(h))
		}
	}
	if len(sick) > 0 {
		rep.Notes = append(rep.Notes, sick...)
		if verdict != VerdictIncomparable {
			verdict = VerdictInconclusive
		}
	}
	return c.finish(rep, verdict), nil
}

func reasons(h result.Health) string {
	if len(h.Reasons) == 0 {
		return "no reason recorded"
	}
	return strings.Join(h.Reasons, "; ")
}

// finish sets the verdict, exit code and headline.
func (c *comparison) finish(rep *Report, v Verdict) *Report {
	rep.Verdict = v
	rep.ExitCode = v.ExitCode(rep.Policy)
	rep.Headline = headline(rep)
	return rep
}

// CompareResults prepares two results read into memory and compares them; base may be nil.
func CompareResults(base, cand *result.Result, rules []Rule, opts Options) (*Report, error) {
	var b *Run
	if base != nil {
		var err error
		if b, err = NewRun(base); err != nil {
			return nil, err
		}
	}
	if cand == nil {
		return nil, fmt.Errorf("gate: no candidate result")
	}
	c, err := NewRun(cand)
	if err != nil {
		return nil, err
	}
	return Compare(b, c, rules, opts)
}

// side is one run with its report description.
type side struct {
	run  *Run
	side Side
}

func newSide(r *Run) *side {
	s := &side{run: r}
	m := r.Meta
	rate := 0.0
	if r.Span > 0 {
		rate = float64(r.Sample.Count()) / r.Span.Seconds()
	}
	s.side = Side{
		Dir: r.Dir, Suite: m.Suite, Git: m.Git, Env: m.Env, Start: m.Start, End: m.End,
		Samples: r.Sample.Count(), Intervals: r.Sample.Intervals(), RatePerSec: rate,
		Summary: summarize(r.Sample, m.Summary.StdDev), Calibration: m.Calibration, Health: m.Health, Tool: m.Tool,
		Import: m.Import,
	}
	return s
}

// needIntervals converts an interval count into a Need with a duration at the side's interval
// length.
func (s *side) needIntervals(n int) *Need {
	nd := &Need{Intervals: n}
	if iv := s.side.Intervals; iv > 0 && s.run.Span > 0 {
		nd.Duration = (s.run.Span * time.Duration(n) / time.Duration(iv)).Round(time.Second)
	}
	return nd
}

// need converts a sample count into a Need with a duration at the side's rate.
func (s *side) need(n int64) *Need {
	nd := &Need{Samples: n}
	if s.side.RatePerSec > 0 {
		nd.Duration = time.Duration(float64(n) / s.side.RatePerSec * float64(time.Second)).Round(time.Second)
	}
	return nd
}
