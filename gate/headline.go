package gate

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// headline summarises the verdict in one line for a commit status.
func headline(rep *Report) string {
	count := map[RuleVerdict]int{}
	var first *RuleResult
	for i := range rep.Rules {
		row := &rep.Rules[i]
		count[row.Verdict]++
		if first == nil && !row.Warn && (row.Verdict == RuleRegression || (rep.Verdict == VerdictInconclusive && (row.Verdict == RuleInconclusive || row.Verdict == RuleUnavailable))) {
			first = row
		}
	}
	var s string
	switch rep.Verdict {
	case VerdictPass:
		s = fmt.Sprintf("pass: %d/%d rules hold", count[RulePass]+count[RuleImproved], len(rep.Rules))
		if n := count[RuleImproved]; n > 0 {
			s += fmt.Sprintf(", %d improved", n)
		}
		if n := count[RuleWarn]; n > 0 {
			s += fmt.Sprintf(", %d warning", n)
		}
	case VerdictRegression:
		s = fmt.Sprintf("regression: %s", first.Rule)
		if first.Ratio != nil {
			s += fmt.Sprintf(" (%+.1f%%)", (*first.Ratio-1)*100)
		} else if first.Candidate != nil {
			s += " (" + FormatValue(*first.Candidate, first.Unit) + ")"
		}
		if n := count[RuleRegression]; n > 1 {
			s += fmt.Sprintf(" and %d more", n-1)
		}
	case VerdictIncomparable:
		s = "incomparable"
		if len(rep.Notes) > 0 {
			s += ": " + rep.Notes[0]
		}
	case VerdictInconclusive:
		s = "inconclusive"
		sick := ""
		for _, n := range rep.Notes {
			if strings.Contains(n, "unhealthy") && sick == "" {
				sick = n
			}
		}
		switch {
		case sick != "":
			// An unhealthy run's rule verdicts do not count, so the headline must not quote one.
			s += ": " + sick
		case first != nil && first.Verdict != RuleRegression:
			s += ": " + first.Rule + ": " + first.Reason
		case len(rep.Notes) > 0:
			s += ": " + rep.Notes[len(rep.Notes)-1]
		}
		if rep.Policy == InconclusivePass {
			s += " (policy: pass)"
		}
	default:
		s = string(rep.Verdict)
	}
	if rep.Suite != "" {
		s = rep.Suite + " " + s
	}
	if len(s) > HeadlineMax {
		s = truncate(s, HeadlineMax)
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary, ending in an ellipsis.
func truncate(s string, n int) string {
	const ell = "…"
	cut := n - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}
