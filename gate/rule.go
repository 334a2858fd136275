// Package gate owns the decision: the threshold grammar, the evaluation of rules against a
// baseline and a candidate result, the verdict and its exit code, and the Report that the
// renderers, the GitHub publisher and the store consume. It does not compute statistics
// (gate/stats does: bootstrap intervals, ratio tests, Holm, sample sufficiency), render
// (gate/render), read configuration files (runner/config) or look baselines up (baseline).
//
// # Threshold grammar
//
// A rule is a k6-style string. Spaces between tokens are optional; keywords are lower case.
//
//	rule       = metric op limit [ "@" confidence ] [ "strict" ] [ "warn" ]
//	metric     = quantile | "mean" | "max" | miss | pwcet
//	quantile   = "p" number                  ; 0 < number < 100: p50, p99, p99.9, p99.99
//	miss       = "miss(" duration ")"        ; share of samples slower than the deadline
//	pwcet      = "pwcet(" number ")"         ; per-inference exceedance probability, 0 < p < 1
//	op         = "<" | "<="
//	limit      = relative | duration | share
//	relative   = "+" number "%"              ; increase over the baseline's value, at most MaxRelative
//	duration   = number unit                 ; unit: ns us µs ms s m h, e.g. 20ms, 150us
//	share      = number "%"                  ; miss only, e.g. 0.1%
//	confidence = number                      ; MinConfidence <= c < 1, default DefaultConfidence
//	number     = decimal, optionally with an exponent (1e-9)
//
// "strict" and "warn" may come in either order, each at most once.
//
// # How a relative rule decides
//
// For a relative rule "stat < +L @ c", R̂ is the ratio candidate/baseline of the statistic and
// [lo, hi] its two-sided interval at confidence c (MOVER on the log scale, gate/stats, with any
// between-run variance added). The hypotheses are H0: ratio ≤ 1 (no slowdown) against
// H1: ratio > 1, tested one-sided at level α = (1−c)/2 with Holm's correction across the gate's
// non-warn relative rules (warn rules at their own level). In this order:
//
//   - regression: H0 is rejected after Holm (significant, so lo > 1) and the change is
//     material: R̂ beyond 1+L (R̂ ≥ 1+L for "<", R̂ > 1+L for "<=") and lo > 1+L/2, so that a
//     change of at most half the limit is called a regression at most α of the time;
//   - pass: hi < 1+L, the data rule out a change as large as the limit (improved when also
//     R̂ ≤ 1−L and significantly faster);
//   - inconclusive: the interval is too wide to resolve the limit: hi ≥ 1+2L (a change of twice
//     the limit is not ruled out) or ln(hi/lo) > 2·ln(1+2L) (it could not rule out twice the
//     limit wherever it sat), whatever R̂ is; the reason gives the candidate samples needed,
//     n·(width/target)² scaled from the observed width (widths shrink as 1/√n), and the time at
//     the observed rate; a run too short for its statistic's autocorrelation is inconclusive
//     with the intervals it needs;
//   - pass otherwise, saying "slower but within" (significant, not material), "not shown
//     beyond +L/2" or "slower, not significant" when R̂ > 1.
//
// Two separate runs differ by more than their within-run intervals see; unless the options give
// a between-run SD for the statistic, DefaultBetweenRunSD (1 % per run) is added.
//
// A strict rule ("p99 < +5% strict", for release gates) is an equivalence claim: it passes only
// when hi < 1+L; a significant and material slowdown is still a regression and anything else is
// inconclusive. A gate of strict rules passes only when every rule does (an intersection–union
// test), so no multiplicity correction is needed for the pass. strict applies to relative limits
// only: absolute limits already pass only when certified.
//
// Validation rules, each reported with the rule's source and text:
//   - relative limits apply to quantiles and mean only: max is a single sample, so a ratio of
//     two maxima has no interval and would alarm on noise; gate it against an absolute limit
//     (or gate pwcet);
//   - miss takes a share (0.1%), never a duration or a relative limit;
//   - quantiles, mean, max and pwcet take a duration or (quantiles, mean) a relative limit;
//   - p100 is max and p0 is min: neither is a quantile claim the data can carry;
//   - strict takes a relative limit.
//
// Examples: "p99 < +5%", "p99.9 <= +10% @ 0.95", "max < 40ms", "miss(33ms) < 0.1%",
// "pwcet(1e-9) < 50ms", "p50 < +3% warn", "p99 < +5% strict".
package gate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// Bounds the grammar enforces: rules past them make no claim a run can settle.
const (
	// MinConfidence is the lowest "@ c": at c = 0.5 a one-sided test at (1−c)/2 = 25 % alarms
	// on noise one run in four.
	MinConfidence = 0.8
	// MaxRelative is the largest relative limit (+1000 %).
	MaxRelative = 10.0
	// MaxClaimSamples is the most samples a quantile claim may need (MLPerf's count with no
	// exceedance): a 30-day run at 30,000 inferences/s.
	MaxClaimSamples = 30 * 24 * 3600 * 30000
)

// DefaultConfidence is the confidence of a rule that does not give "@ c".
const DefaultConfidence = 0.99

// DefaultRules are evaluated when neither flags nor the configuration give any. The median and
// p99 fail on a significant 5 % slowdown; p99.9 is a warning at 0.95 because a short PR run
// often carries only a few thousand samples, enough to see the tail move but too few to block a
// merge on it.
var DefaultRules = []string{
	"p50 < +5%",
	"p99 < +5%",
	"p99.9 < +10% @ 0.95 warn",
}

// RuleSource is a rule's text and where it came from, so errors and reports can point at it.
type RuleSource struct {
	Text string
	// File and Line locate a rule read from a configuration file.
	File string
	Line int
	// Origin names any other source: "--threshold", "default".
	Origin string
}

// String renders the source for error messages: "tailgate.yaml:12", "--threshold" or "default".
func (s RuleSource) String() string {
	switch {
	case s.File != "" && s.Line > 0:
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	case s.File != "":
		return s.File
	case s.Origin != "":
		return s.Origin
	}
	return "rule"
}

// MetricKind is what a rule measures.
type MetricKind int

// Metric kinds.
const (
	Quantile MetricKind = iota + 1
	Mean
	Max
	Miss
	PWCET
)

// Metric is a rule's left-hand side.
type Metric struct {
	Kind MetricKind
	// Q is the quantile as a fraction (0.999 for p99.9), for Quantile.
	Q float64
	// Percentile is Q as written (99.9), kept so names round-trip without float noise.
	Percentile string
	// Deadline is the miss threshold, for Miss.
	Deadline time.Duration
	// Prob is the per-inference exceedance probability, for PWCET.
	Prob float64
}

// String is the metric's canonical name: "p99.9", "mean", "max", "miss(33ms)", "pwcet(1e-09)".
func (m Metric) String() string {
	switch m.Kind {
	case Quantile:
		return "p" + m.Percentile
	case Mean:
		return "mean"
	case Max:
		return "max"
	case Miss:
		return "miss(" + m.Deadline.String() + ")"
	case PWCET:
		return "pwcet(" + strconv.FormatFloat(m.Prob, 'g', -1, 64) + ")"
	}
	return "?"
}

// Op is a rule's comparison.
type Op int

// Operators.
const (
	Less Op = iota + 1
	LessEq
)

func (o Op) String() string {
	if o == LessEq {
		return "<="
	}
	return "<"
}

// violates reports whether value breaks "value op limit".
func (o Op) violates(value, limit float64) bool {
	if o == LessEq {
		return value > limit
	}
	return value >= limit
}

// LimitKind says how a limit is read.
type LimitKind int

// Limit kinds.
const (
	// Relative limits are a fractional increase over the baseline (0.05 for +5%).
	Relative LimitKind = iota + 1
	// Absolute limits are a duration in nanoseconds.
	Absolute
	// Share limits are a fraction of samples (0.001 for 0.1%), for miss.
	Share
)

// Limit is a rule's right-hand side.
type Limit struct {
	Kind LimitKind
	// Value is the fraction (Relative, Share) or nanoseconds (Absolute).
	Value float64
	// Text is the limit as written, for reports.
	Text string
}

// Rule is a parsed and validated threshold rule.
type Rule struct {
	Source     RuleSource
	Metric     Metric
	Op         Op
	Limit      Limit
	Confidence float64
	// Warn rules are reported but never change the gate's verdict.
	Warn bool
	// Strict relative rules pass only when the interval's upper end is under the limit.
	Strict bool
}

// String renders the rule canonically ("p99 < +5% @ 0.99", "p99 < +5% @ 0.99 strict warn").
func (r Rule) String() string {
	s := fmt.Sprintf("%s %s %s @ %s", r.Metric, r.Op, r.Limit.Text, strconv.FormatFloat(r.Confidence, 'g', -1, 64))
	if r.Strict {
		s += " strict"
	}
	if r.Warn {
		s += " warn"
	}
	return s
}

// RuleError is a rule that failed to parse or validate.
type RuleError struct {
	Source RuleSource
	Msg    string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("%s: threshold %q: %s", e.Source, e.Source.Text, e.Msg)
}

// ParseRules parses and validates every rule and returns all errors at once, joined.
func ParseRules(srcs []RuleSource) ([]Rule, error) {
	rules := make([]Rule, 0, len(srcs))
	var errs []error
	for _, s := range srcs {
		r, err := ParseRule(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// FlagRules wraps --threshold values as rule sources.
func FlagRules(texts []string) []RuleSource {
	out := make([]RuleSource, len(texts))
	for i, t := range texts {
		out[i] = RuleSource{Text: t, Origin: "--threshold"}
	}
	return out
}

// DefaultRuleSources returns DefaultRules as rule sources.
func DefaultRuleSources() []RuleSource {
	out := make([]RuleSource, len(DefaultRules))
	for i, t := range DefaultRules {
		out[i] = RuleSource{Text: t, Origin: "default"}
	}
	return out
}

// ParseRule parses and validates one rule. Errors are *RuleError and name the source and text.
func ParseRule(src RuleSource) (Rule, error) {
	p := &parser{s: src.Text}
	r, err := p.rule()
	if err != nil {
		return Rule{}, &RuleError{Source: src, Msg: err.Error()}
	}
	r.Source = src
	if err := r.validate(); err != nil {
		return Rule{}, &RuleError{Source: src, Msg: err.Error()}
	}
	return r, nil
}

// validate checks the combinations the grammar alone allows but that make no claim.
func (r Rule) validate() error {
	m, l := r.Metric, r.Limit
	switch {
	case m.Kind == Max && l.Kind == Relative:
		return errors.New("max is a single sample and a ratio of two maxima has no confidence interval; use an absolute limit (max < 40ms) or a pwcet rule")
	case m.Kind == Miss && l.Kind != Share:
		return errors.New("miss takes a share of samples as its limit, such as 0.1%")
	case m.Kind != Miss && l.Kind == Share:
		return fmt.Errorf("%s takes a duration (20ms) or a relative limit (+5%%), not a share; a share without + is only for miss(...)", m)
	case m.Kind == PWCET && l.Kind == Relative:
		return errors.New("pwcet is a bound, gated against an absolute limit such as 50ms")
	// A rule that can never fail is a typo that would pass every run. No recorded latency is above
	// the histogram's range, so limits and deadlines beyond it are never reached; pwcet is
	// extrapolated from a fit and may exceed the range, so it is left out.
	case l.Kind == Absolute && m.Kind != PWCET && l.Value > float64(result.HighestNs):
		return fmt.Errorf("can never fail: %s is above the longest latency a result records (%s)", l.Text, time.Duration(result.HighestNs))
	case m.Kind == Miss && m.Deadline >= time.Duration(result.HighestNs):
		return fmt.Errorf("can never fail: no recorded latency is above %s, the longest a result records", time.Duration(result.HighestNs))
	case l.Kind == Share && r.Op == LessEq && l.Value >= 1:
		return errors.New("can never fail: a share is at most 100%")
	case l.Kind == Relative && l.Value > MaxRelative:
		return fmt.Errorf("can never decide: %s allows more than a %gx slowdown, which no run tells from a crash; use an absolute limit", l.Text, 1+MaxRelative)
	case m.Kind == Quantile && stats.RequiredSamples(m.Q, r.Confidence, 0) > MaxClaimSamples:
		return fmt.Errorf("can never decide: %s at %g needs more than %s samples, more than a 30-day run at 30,000 inferences/s holds; claim a lower quantile", m, r.Confidence, GroupDigits(MaxClaimSamples))
	case r.Strict && l.Kind != Relative:
		return errors.New("strict applies to relative limits (+5%): an absolute limit already passes only when certified")
	}
	return nil
}

// parser is a small hand-written scanner over one rule; the grammar is too small for more.
type parser struct {
	s   string
	pos int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *parser) eat(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// word returns the next run of characters that can form a number, unit or keyword.
func (p *parser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == ' ' || c == '\t' || c == '<' || c == '@' || c == '(' || c == ')' || c == '%' {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) rule() (Rule, error) {
	r := Rule{Confidence: DefaultConfidence}
	var err error
	if r.Metric, err = p.metric(); err != nil {
		return r, err
	}
	switch {
	case p.eat("<="):
		r.Op = LessEq
	case p.eat("<"):
		r.Op = Less
	default:
		p.skipSpace()
		if p.pos < len(p.s) && (p.s[p.pos] == '>' || p.s[p.pos] == '=') {
			return r, fmt.Errorf("operator must be < or <= (a threshold is an upper limit on latency)")
		}
		return r, fmt.Errorf("expected < or <= after %s", r.Metric)
	}
	if r.Limit, err = p.limit(); err != nil {
		return r, err
	}
	if p.eat("@") {
		w := p.word()
		c, err := parseNumber(w)
		if err != nil || c < MinConfidence || c >= 1 {
			return r, fmt.Errorf("confidence %q must be a number with %g <= c < 1, such as 0.95 (below %g a gate of a few rules alarms on noise every few runs)", w, MinConfidence, MinConfidence)
		}
		r.Confidence = c
	}
	for p.skipSpace(); p.pos < len(p.s); p.skipSpace() {
		w := p.word()
		switch {
		case w == "warn" && !r.Warn:
			r.Warn = true
		case w == "strict" && !r.Strict:
			r.Strict = true
		case w == "warn" || w == "strict":
			return r, fmt.Errorf("%s given twice", w)
		default:
			if w == "" {
				w = p.s[p.pos:]
			}
			return r, fmt.Errorf("unexpected %q; a rule may end with \"@ confidence\" and then \"strict\" and/or \"warn\"", w)
		}
	}
	return r, nil
}

func (p *parser) metric() (Metric, error) {
	p.skipSpace()
	switch {
	case p.eat("miss("):
		w := p.word()
		d, err := parseDuration(w)
		if err != nil {
			return Metric{}, fmt.Errorf("miss deadline: %w", err)
		}
		if !p.eat(")") {
			return Metric{}, errors.New("miss( needs a closing )")
		}
		return Metric{Kind: Miss, Deadline: d}, nil
	case p.eat("pwcet("):
		w := p.word()
		v, err := parseNumber(w)
		if err != nil || v <= 0 || v >= 1 {
			return Metric{}, fmt.Errorf("pwcet probability %q must be a number with 0 < p < 1, such as 1e-9", w)
		}
		if !p.eat(")") {
			return Metric{}, errors.New("pwcet( needs a closing )")
		}
		return Metric{Kind: PWCET, Prob: v}, nil
	}
	w := p.word()
	switch {
	case w == "mean":
		return Metric{Kind: Mean}, nil
	case w == "max":
		return Metric{Kind: Max}, nil
	case w == "miss" || w == "pwcet":
		return Metric{}, fmt.Errorf("%s needs its argument in parentheses, such as miss(33ms) or pwcet(1e-9)", w)
	case w == "":
		return Metric{}, errors.New("expected a metric: p<quantile>, mean, max, miss(<duration>) or pwcet(<probability>)")
	case w[0] == 'p' && len(w) > 1:
		num := w[1:]
		v, err := parseNumber(num)
		if err != nil || strings.ContainsAny(num, "eE+-") {
			return Metric{}, fmt.Errorf("quantile %q: write it as p followed by a percentile, such as p99 or p99.9", w)
		}
		if v <= 0 || v >= 100 {
			return Metric{}, fmt.Errorf("quantile %q must be between p0 and p100 exclusive (p100 is max)", w)
		}
		// Parsing "99.9e-2" rounds once, so p99.9 is exactly the float64 nearest 0.999.
		q, _ := strconv.ParseFloat(num+"e-2", 64)
		return Metric{Kind: Quantile, Q: q, Percentile: num}, nil
	}
	return Metric{}, fmt.Errorf("unknown metric %q: expected p<quantile>, mean, max, miss(<duration>) or pwcet(<probability>)", w)
}

func (p *parser) limit() (Limit, error) {
	p.skipSpace()
	start := p.pos
	if p.eat("-") {
		return Limit{}, errors.New("a relative limit is an increase over the baseline: write +5%, not -5%")
	}
	rel := p.eat("+")
	w := p.word()
	if w == "" {
		return Limit{}, errors.New("expected a limit: +5% (relative), 20ms (absolute) or 0.1% (miss share)")
	}
	if p.eat("%") {
		v, err := parseNumber(w)
		if err != nil || v < 0 {
			return Limit{}, fmt.Errorf("limit %q is not a non-negative percentage", w+"%")
		}
		text := strings.ReplaceAll(p.s[start:p.pos], " ", "")
		if rel {
			return Limit{Kind: Relative, Value: v / 100, Text: text}, nil
		}
		if v > 100 {
			return Limit{}, fmt.Errorf("share %q is over 100%%", text)
		}
		return Limit{Kind: Share, Value: v / 100, Text: text}, nil
	}
	if rel {
		return Limit{}, fmt.Errorf("relative limit %q needs a %% sign, such as +5%%", "+"+w)
	}
	d, err := parseDuration(w)
	if err != nil {
		return Limit{}, fmt.Errorf("limit: %w", err)
	}
	return Limit{Kind: Absolute, Value: float64(d), Text: w}, nil
}

// parseNumber accepts plain decimals and exponents but not Inf, NaN, hex or underscores.
func parseNumber(s string) (float64, error) {
	if s == "" || strings.ContainsAny(s, "_xXpPnN") {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// parseDuration accepts a positive Go duration with a unit (20ms, 150us, 1.5s).
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a duration with a unit, such as 20ms or 150us", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return d, nil
}
