package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/tailgate-ci/tailgate/gate"
)

// ReadReport reads a gate report written by `tailgate compare --format json`.
func ReadReport(path string) (*gate.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gate report: %w", err)
	}
	return ParseReport(path, b)
}

// ParseReport parses a gate report; name is its file, for messages.
func ParseReport(name string, b []byte) (*gate.Report, error) {
	var rep gate.Report
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("gate report %s: %w", name, err)
	}
	var errs []string
	if rep.Schema != gate.ReportSchema {
		errs = append(errs, fmt.Sprintf("schema %d, this tailgate reads %d", rep.Schema, gate.ReportSchema))
	}
	if rep.Suite == "" {
		errs = append(errs, "no suite")
	}
	if rep.Verdict == "" {
		errs = append(errs, "no verdict")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("gate report %s: %s", name, strings.Join(errs, "; "))
	}
	return &rep, nil
}

// FromReport turns a gate report into the suite publishing shows; markdown is the gate's
// rendering of the report (the details of the comment).
func FromReport(rep *gate.Report, markdown string) Suite {
	s := Suite{
		Name:             rep.Suite,
		Verdict:          string(rep.Verdict),
		ExitCode:         rep.ExitCode,
		Headline:         rep.Headline,
		Reason:           strings.Join(rep.Notes, " "),
		CandidateSamples: rep.Candidate.Samples,
		Markdown:         markdown,
	}
	if rep.Baseline != nil {
		s.BaselineSamples = rep.Baseline.Samples
		s.EnvChanges = envChanges(rep.Baseline.Env, rep.Candidate.Env)
	} else {
		for _, d := range rep.Pins.Diffs {
			s.EnvChanges = append(s.EnvChanges, fmt.Sprintf("%s: %s → %s (pinned)", d.Field, d.A, d.B))
		}
	}
	for _, r := range rep.Rules {
		s.Rules = append(s.Rules, ruleLine(r))
	}
	return s
}

// ruleLine maps a gate row to a comment row: regressions fail, improvements pass, and rules the
// build cannot compute are skipped.
func ruleLine(r gate.RuleResult) RuleLine {
	val := func(p *float64) string {
		if p == nil {
			return ""
		}
		return gate.FormatValue(*p, r.Unit)
	}
	l := RuleLine{Rule: r.Rule, Baseline: val(r.Baseline), Candidate: val(r.Candidate), Note: r.Reason}
	switch r.Verdict {
	case gate.RulePass, gate.RuleImproved:
		l.Verdict = RulePass
	case gate.RuleRegression:
		l.Verdict = RuleFail
	case gate.RuleWarn:
		l.Verdict = RuleWarn
	case gate.RuleInconclusive:
		l.Verdict = RuleInconclusive
	default:
		l.Verdict = RuleSkip
	}
	switch {
	case r.Ratio != nil && r.RatioLo != nil && r.RatioHi != nil:
		l.Change = fmt.Sprintf("%s [%s, %s]", gate.FormatRatio(*r.Ratio), gate.FormatRatio(*r.RatioLo), gate.FormatRatio(*r.RatioHi))
	case r.Ratio != nil:
		l.Change = gate.FormatRatio(*r.Ratio)
	case r.CandidateLo != nil && r.CandidateHi != nil:
		l.Change = fmt.Sprintf("[%s, %s]", gate.FormatValue(*r.CandidateLo, r.Unit), gate.FormatValue(*r.CandidateHi, r.Unit))
	}
	if r.Limit != "" {
		if l.Change != "" {
			l.Change += " "
		}
		l.Change += "(limit " + r.Limit + ")"
	}
	if r.Need != nil {
		need := fmt.Sprintf("needs %s samples", gate.GroupDigits(r.Need.Samples))
		switch {
		case r.Need.Intervals > 0 && r.Need.Samples > 0:
			need = fmt.Sprintf("needs %s intervals and %s samples", gate.GroupDigits(int64(r.Need.Intervals)), gate.GroupDigits(r.Need.Samples))
		case r.Need.Intervals > 0:
			need = fmt.Sprintf("needs %s intervals", gate.GroupDigits(int64(r.Need.Intervals)))
		}
		if r.Need.Duration > 0 {
			need += " (~" + gate.FormatDuration(r.Need.Duration) + ")"
		}
		l.Note = strings.TrimPrefix(l.Note+"; "+need, "; ")
	}
	return l
}

// envChanges lists the fingerprint fields that differ, pinned or not: a changed governor or
// model hash is exactly what a reader wants beside a verdict.
func envChanges(a, b any) []string {
	flat := func(v any) map[string]string {
		out := map[string]string{}
		raw, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		for k, x := range m {
			switch x := x.(type) {
			case string:
				out[k] = x
			default:
				j, _ := json.Marshal(x)
				out[k] = string(j)
			}
		}
		return out
	}
	fa, fb := flat(a), flat(b)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if fa[k] != fb[k] {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, orNone(fa[k]), orNone(fb[k])))
		}
	}
	sort.Strings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
