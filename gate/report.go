package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// ReportSchema is the version of the Report JSON (docs/comparison.md); it changes when a field
// changes meaning or disappears. Added fields do not change it.
const ReportSchema = 1

// Verdict is the gate's overall decision.
type Verdict string

// Verdicts, in the order Worse ranks them (an error is worst).
const (
	VerdictPass         Verdict = "pass"
	VerdictInconclusive Verdict = "inconclusive"
	VerdictRegression   Verdict = "regression"
	VerdictIncomparable Verdict = "incomparable"
	VerdictError        Verdict = "error"
)

// Exit codes, the same as the tailgate binary's.
const (
	ExitPass         = 0
	ExitRegression   = 1
	ExitError        = 2
	ExitIncomparable = 3
	ExitInconclusive = 4
)

// severity ranks verdicts for "worst wins". A regression outranks an inconclusive rule: a
// definite slowdown must not be hidden by another rule that could not decide, least of all
// under --inconclusive=pass. Incomparable outranks both because nothing was judged.
func (v Verdict) severity() int {
	switch v {
	case VerdictPass:
		return 0
	case VerdictInconclusive:
		return 1
	case VerdictRegression:
		return 2
	case VerdictIncomparable:
		return 3
	}
	return 4
}

// Worse returns the worse of two verdicts.
func Worse(a, b Verdict) Verdict {
	if b.severity() > a.severity() {
		return b
	}
	return a
}

// WorseExit returns the worse of two exit codes, ranked as their verdicts are (error,
// incomparable, regression, inconclusive, pass) and not numerically: a regression in one suite
// must not be outranked by another suite's inconclusive 4. An unknown code counts as an error.
func WorseExit(a, b int) int {
	if ExitVerdict(b).severity() > ExitVerdict(a).severity() {
		return b
	}
	return a
}

// ExitVerdict is the verdict an exit code stands for; an unknown code is an error.
func ExitVerdict(code int) Verdict {
	switch code {
	case ExitPass:
		return VerdictPass
	case ExitRegression:
		return VerdictRegression
	case ExitIncomparable:
		return VerdictIncomparable
	case ExitInconclusive:
		return VerdictInconclusive
	}
	return VerdictError
}

// ExitCode maps a verdict to the process exit code under an inconclusive policy.
func (v Verdict) ExitCode(p InconclusivePolicy) int {
	switch v {
	case VerdictPass:
		return ExitPass
	case VerdictRegression:
		return ExitRegression
	case VerdictIncomparable:
		return ExitIncomparable
	case VerdictInconclusive:
		if p == InconclusivePass {
			return ExitPass
		}
		return ExitInconclusive
	}
	return ExitError
}

// InconclusivePolicy says what exit code an inconclusive gate gets.
type InconclusivePolicy string

// Inconclusive policies. The default fails: a claim the data cannot carry is not a pass.
const (
	InconclusiveFail InconclusivePolicy = "fail"
	InconclusivePass InconclusivePolicy = "pass"
)

// DefaultInconclusive is the policy when none is given.
const DefaultInconclusive = InconclusiveFail

// RuleVerdict is one rule's outcome.
type RuleVerdict string

// Rule outcomes.
const (
	// RulePass: the claim holds (relative: no material and significant slowdown; absolute:
	// certified below the limit at the rule's confidence).
	RulePass RuleVerdict = "pass"
	// RuleImproved: significantly faster than the baseline.
	RuleImproved RuleVerdict = "improved"
	// RuleRegression: beyond the limit (and, relative, significant after Holm).
	RuleRegression RuleVerdict = "regression"
	// RuleWarn: a warn rule that would have been a regression.
	RuleWarn RuleVerdict = "warn"
	// RuleInconclusive: too few samples for the claim, a relative interval too wide to resolve
	// its limit (or, strict, not under it), or the run was unhealthy.
	RuleInconclusive RuleVerdict = "inconclusive"
	// RuleUnavailable: the metric cannot be computed by this build (pwcet without analysis).
	RuleUnavailable RuleVerdict = "unavailable"
	// RuleSkipped: not evaluated (pins differ, or a relative rule without a baseline).
	RuleSkipped RuleVerdict = "skipped"
)

// Report is the outcome of a comparison: what the renderers, the GitHub publisher and the store
// consume. Durations and latency values are nanoseconds; shares and ratios are fractions.
type Report struct {
	Schema int    `json:"schema"`
	Suite  string `json:"suite"`
	// Verdict is the gate's decision and ExitCode the code it maps to under Policy.
	Verdict  Verdict `json:"verdict"`
	ExitCode int     `json:"exit_code"`
	// Headline is one line of at most HeadlineMax characters, usable as a commit status description.
	Headline string       `json:"headline"`
	Rules    []RuleResult `json:"rules"`
	// DefaultRules is set when no rule was configured and DefaultRules were used.
	DefaultRules bool               `json:"default_rules,omitempty"`
	Policy       InconclusivePolicy `json:"inconclusive_policy"`
	Pins         Pins               `json:"pins"`
	// Notes explain anything that shaped the verdict beyond the rules: unhealthy runs,
	// suites that differ, a missing baseline.
	Notes []string `json:"notes,omitempty"`
	// Design is "interleaved, K rounds" for the arms of an A/B result, empty for separate runs.
	Design    string `json:"design,omitempty"`
	Baseline  *Side  `json:"baseline,omitempty"`
	Candidate Side   `json:"candidate"`
	Tool      Tool   `json:"tool"`
}

// designInterleaved begins the Design of a comparison of an A/B result's arms.
const designInterleaved = "interleaved, "

// Interleaved reports whether the comparison gated the two arms of an interleaved A/B result.
func (r *Report) Interleaved() bool { return strings.HasPrefix(r.Design, designInterleaved) }

// GatedQuantiles returns the candidate's estimate of every quantile a rule gated, by the rule's
// metric name, except p50, p99 and p99.9 (a result's summary holds those): what the store's
// history records beside the summary so that its change points cover what the suite gates.
func (r *Report) GatedQuantiles() map[string]int64 {
	var out map[string]int64
	for _, rr := range r.Rules {
		switch rr.Metric {
		case "p50", "p99", "p99.9":
			continue
		}
		if _, err := strconv.ParseFloat(strings.TrimPrefix(rr.Metric, "p"), 64); err != nil || rr.Metric[0] != 'p' ||
			rr.Unit != "ns" || rr.Candidate == nil || !(*rr.Candidate >= 1) {
			continue
		}
		if out == nil {
			out = map[string]int64{}
		}
		out[rr.Metric] = int64(math.Round(*rr.Candidate))
	}
	return out
}

// HeadlineMax is GitHub's limit on a commit status description.
const HeadlineMax = 140

// RuleResult is one row of the report.
type RuleResult struct {
	Rule       string  `json:"rule"`   // canonical text
	Source     string  `json:"source"` // where the rule came from (file:line, --threshold, default)
	Metric     string  `json:"metric"`
	Unit       string  `json:"unit"` // "ns" for latencies, "share" for miss
	Confidence float64 `json:"confidence"`
	Warn       bool    `json:"warn,omitempty"`
	// Baseline and Candidate are the point estimates (nil when not computed).
	Baseline  *float64 `json:"baseline,omitempty"`
	Candidate *float64 `json:"candidate,omitempty"`
	// CandidateLo and CandidateHi bound the candidate's value at the rule's confidence, when known.
	CandidateLo *float64 `json:"candidate_lo,omitempty"`
	CandidateHi *float64 `json:"candidate_hi,omitempty"`
	// Ratio is candidate/baseline with its interval [RatioLo, RatioHi] at the rule's confidence.
	Ratio   *float64 `json:"ratio,omitempty"`
	RatioLo *float64 `json:"ratio_lo,omitempty"`
	RatioHi *float64 `json:"ratio_hi,omitempty"`
	// PSlower is the one-sided p-value for "the candidate is slower"; Significant says whether
	// it survived Holm's correction across the gate's relative rules.
	PSlower     *float64 `json:"p_slower,omitempty"`
	Significant bool     `json:"significant,omitempty"`
	Limit       string   `json:"limit"`
	LimitKind   string   `json:"limit_kind"` // relative, absolute, share
	// LimitValue is the limit in the row's unit: a fraction for relative and share, ns otherwise.
	LimitValue float64     `json:"limit_value"`
	Verdict    RuleVerdict `json:"verdict"`
	Reason     string      `json:"reason"`
	// Need is set when the rule is inconclusive for lack of samples (or, relative, because its
	// interval is too wide: the candidate samples that would narrow it enough).
	Need *Need `json:"need,omitempty"`
	// Strict is set for a strict relative rule: it passes only when RatioHi is under the limit.
	Strict bool `json:"strict,omitempty"`
	// BetweenRunSD is the per-run between-run log SD the ratio's interval includes
	// (Options.BetweenRun), 0 when none.
	BetweenRunSD float64 `json:"between_run_sd,omitempty"`
}

// Need is how much data an inconclusive claim would take.
type Need struct {
	// Samples is 0 when the need is Intervals.
	Samples int64 `json:"samples"`
	// Intervals is set when the run is too short for its autocorrelation: the intervals it needs
	// to hold stats.MinBlocks blocks of the length the autocorrelation needs.
	Intervals int `json:"intervals,omitempty"`
	// VIF is the variance inflation Samples was scaled by (MLPerf's count × VIF), when above 1.
	VIF float64 `json:"vif,omitempty"`
	// Duration estimates the run length at the observed sample rate (0 when the rate is unknown).
	Duration time.Duration `json:"duration_ns,omitempty"`
}

// Pins reports the comparison of pinned fingerprints.
type Pins struct {
	// Ignored is set when --ignore-pins let results with different pins be compared.
	Ignored      bool               `json:"ignored,omitempty"`
	Diffs        []result.FieldDiff `json:"diffs,omitempty"`
	BaselineKey  string             `json:"baseline_key,omitempty"`
	CandidateKey string             `json:"candidate_key"`
}

// Side describes one of the compared results.
type Side struct {
	Dir         string             `json:"dir,omitempty"`
	Suite       string             `json:"suite"`
	Git         result.Git         `json:"git"`
	Env         result.Fingerprint `json:"env"`
	Start       time.Time          `json:"start"`
	End         time.Time          `json:"end"`
	Samples     int64              `json:"samples"`
	Intervals   int                `json:"intervals"`
	RatePerSec  float64            `json:"rate_per_s"`
	Summary     result.Summary     `json:"summary"`
	Calibration result.Calibration `json:"calibration"`
	Health      result.Health      `json:"health"`
	Tool        result.Tool        `json:"tool"`
	// Import says where an imported result's data came from (nil: tailgate measured it).
	Import *result.Import `json:"import,omitempty"`
}

// Tool identifies the tailgate that made the comparison.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// ReadReport reads a Report written by `tailgate compare --format json`: unknown fields and
// schemas newer than this tailgate's are errors.
func ReadReport(path string) (*Report, error) {
	b, err := result.ReadRegular(path)
	if err != nil {
		return nil, err
	}
	var rep Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%s: not a comparison report: %w", path, err)
	}
	if rep.Schema < 1 || rep.Schema > ReportSchema {
		return nil, fmt.Errorf("%s: report schema %d not supported (this tailgate reads 1..%d)", path, rep.Schema, ReportSchema)
	}
	return &rep, nil
}
