// Package publish owns tailgate's side of GitHub: the one updating pull-request comment per
// config, a commit status per suite, an optional check run, and the GitHub Actions runner files
// (job summary, step outputs, workflow-command annotations). It also reads the Actions event
// payload and decides whether a pull request is trusted to run on a self-hosted board.
//
// It does not decide verdicts or render the gate's report: it takes an [Input] (suites with
// their verdicts, headlines, rule lines and the gate's Markdown) and carries it to GitHub.
// Everything it sends goes through a retrying go-github client that never lets the token reach
// an error message.
package publish

import (
	"fmt"
	"strings"

	"github.com/tailgate-ci/tailgate/gate"
)

// Verdicts a suite can carry: the gate's, as strings.
const (
	VerdictPass         = string(gate.VerdictPass)
	VerdictRegression   = string(gate.VerdictRegression)
	VerdictInconclusive = string(gate.VerdictInconclusive)
	VerdictIncomparable = string(gate.VerdictIncomparable)
	VerdictError        = string(gate.VerdictError)
)

// Exit codes: the gate's, ranked by gate.WorseExit.
const (
	ExitPass         = gate.ExitPass
	ExitRegression   = gate.ExitRegression
	ExitError        = gate.ExitError
	ExitIncomparable = gate.ExitIncomparable
	ExitInconclusive = gate.ExitInconclusive
)

// Rule verdicts a [RuleLine] can carry.
const (
	RulePass         = "pass"
	RuleFail         = "fail"
	RuleWarn         = "warn"
	RuleInconclusive = "inconclusive"
	RuleSkip         = "skip"
)

// Input is everything one publish carries: the suites of one config and where the run lives.
type Input struct {
	// Config names the comment: one comment per config per pull request, found again by the
	// hidden marker built from it.
	Config string `json:"config"`
	// Suites are the gated suites, in the order they are shown.
	Suites []Suite `json:"suites"`
	// RunURL links the Actions run (or any CI page); ArtifactsURL links the full results.
	RunURL       string `json:"run_url,omitempty"`
	ArtifactsURL string `json:"artifacts_url,omitempty"`
}

// Suite is the gate's outcome for one suite.
type Suite struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	// ExitCode is the gate's exit code for this suite; when it is zero and the verdict is not a
	// pass, the verdict decides (an error never reads as a pass).
	ExitCode int `json:"exit_code"`
	// Headline is the one line a status description carries, e.g. "p99 +7.2% [+5.1%, +9.0%]".
	Headline string `json:"headline"`
	// Reason says why a verdict is inconclusive, incomparable or an error.
	Reason string `json:"reason,omitempty"`
	// BaselineSamples and CandidateSamples are the sample counts behind the comparison.
	BaselineSamples  int64 `json:"baseline_samples,omitempty"`
	CandidateSamples int64 `json:"candidate_samples,omitempty"`
	// Rules are the per-rule rows; failing and warning ones become annotations.
	Rules []RuleLine `json:"rules,omitempty"`
	// EnvChanges lists what differs between the baseline's and the candidate's environment.
	EnvChanges []string `json:"env_changes,omitempty"`
	// Markdown is the gate's full rendering; it is the first thing cut when a comment is too long.
	Markdown string `json:"markdown,omitempty"`
	// History is the nightly history, oldest first; the last 30 nights are charted.
	History []HistoryPoint `json:"history,omitempty"`
	// Dashboard is the suite's page on the published nightly dashboard (AddSiteLinks).
	Dashboard string `json:"dashboard,omitempty"`
}

// RuleLine is one threshold rule's row.
type RuleLine struct {
	Rule      string `json:"rule"`
	Verdict   string `json:"verdict"`
	Baseline  string `json:"baseline,omitempty"`
	Candidate string `json:"candidate,omitempty"`
	// Change is the change with its confidence interval, e.g. "+7.2% [+5.1%, +9.0%]".
	Change string `json:"change,omitempty"`
	Note   string `json:"note,omitempty"`
}

// HistoryPoint is one night of a suite's history, in milliseconds.
type HistoryPoint struct {
	Label  string  `json:"label"`
	P99ms  float64 `json:"p99_ms"`
	P999ms float64 `json:"p999_ms"`
}

// Policy says how an inconclusive verdict reads on GitHub.
type Policy string

// Policies for inconclusive verdicts.
const (
	InconclusiveFail Policy = "fail"
	InconclusivePass Policy = "pass"
)

// DefaultPolicy is the inconclusive policy unless told otherwise: the gate fails closed.
const DefaultPolicy = InconclusiveFail

// ParsePolicy reads an --inconclusive value.
func ParsePolicy(s string) (Policy, error) {
	switch Policy(s) {
	case InconclusiveFail, InconclusivePass:
		return Policy(s), nil
	}
	return "", fmt.Errorf("inconclusive policy %q: want fail or pass", s)
}

// normVerdict maps a verdict to one of the known ones; anything unknown is an error, so that a
// new or misspelt verdict can never read as a pass.
func normVerdict(v string) string {
	switch s := strings.ToLower(strings.TrimSpace(v)); s {
	case VerdictPass, VerdictRegression, VerdictInconclusive, VerdictIncomparable, VerdictError:
		return s
	case "fail", "failure", "regressed":
		return VerdictRegression
	}
	return VerdictError
}

// verdictCode is the exit code a verdict stands for (an unknown one is an error).
func verdictCode(v string) int {
	return gate.Verdict(normVerdict(v)).ExitCode(gate.InconclusiveFail)
}

// Code is the suite's exit code: the worse of what the gate said and what the verdict means,
// so an inconsistent report fails closed (Input.CodeWith applies the inconclusive policy).
func (s Suite) Code() int { return Worst(s.ExitCode, verdictCode(s.Verdict)) }

// verdict is the suite's normalised verdict.
func (s Suite) verdict() string { return normVerdict(s.Verdict) }

// Worst returns the worst of exit codes, ranked as the gate ranks verdicts (gate.WorseExit), not
// numerically.
func Worst(codes ...int) int {
	w := ExitPass
	for _, c := range codes {
		w = gate.WorseExit(w, c)
	}
	return w
}

// Code is the exit code of the whole input: the worst of its suites, or an error when it has
// none (an empty comparison is not a pass).
func (in Input) Code() int {
	if len(in.Suites) == 0 {
		return ExitError
	}
	w := ExitPass
	for _, s := range in.Suites {
		w = Worst(w, s.Code())
	}
	return w
}

// Verdict is the overall verdict of the input, the one the worst suite carries.
func (in Input) Verdict() string { return string(gate.ExitVerdict(in.Code())) }

// Validate reports every problem with the input at once.
func (in Input) Validate() error {
	var errs []string
	if strings.TrimSpace(in.Config) == "" {
		errs = append(errs, "config: empty (it names the PR comment)")
	} else if strings.Contains(in.Config, "--") || strings.ContainsAny(in.Config, "<>\n\r") {
		errs = append(errs, fmt.Sprintf("config %q: must not contain '--', '<', '>' or newlines (it goes in an HTML comment)", in.Config))
	}
	if len(in.Suites) == 0 {
		errs = append(errs, "suites: none")
	}
	seen := map[string]bool{}
	for i, s := range in.Suites {
		switch {
		case strings.TrimSpace(s.Name) == "":
			errs = append(errs, fmt.Sprintf("suites[%d]: empty name", i))
		case seen[s.Name]:
			errs = append(errs, fmt.Sprintf("suites[%d]: duplicate name %q", i, s.Name))
		}
		seen[s.Name] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("publish input: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ErrorSuite is a suite that has no gate report, only the error that left it without one: its
// status says "error: …" with the reason on one line of at most 120 characters.
func ErrorSuite(name string, code int, reason string) Suite {
	h := oneLine(reason)
	if r := []rune(h); len(r) > 120 {
		h = string(r[:120]) + "…"
	}
	return Suite{Name: name, Verdict: VerdictError, ExitCode: code, Headline: "error: " + h, Reason: reason}
}
