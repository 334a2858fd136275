package gate

import (
	"fmt"
	"strings"
)

// Unconfirmed is the verdict of a regression that a confirmation run did not reproduce: r is
// the confirmation run's report, first the regressing run's, attempt the confirmation's number.
// A one-off slowdown (a cron job, a thermal event the telemetry missed) is not proof of a
// regression, and the confirmation's pass is not proof of its absence: the suite is at least
// inconclusive, and its headline says why rather than reading "pass" beside exit 4.
func (r *Report) Unconfirmed(first *Report, attempt int) {
	r.Verdict = Worse(r.Verdict, VerdictInconclusive)
	r.ExitCode = r.Verdict.ExitCode(r.Policy)
	r.Notes = append(r.Notes, fmt.Sprintf("the first run regressed (%s); confirmation run %d did not", first.Headline, attempt))
	if r.Verdict == VerdictInconclusive {
		r.Headline = unconfirmedHeadline(r.Suite, first.Headline, attempt)
	}
}

// unconfirmedHeadline is the headline of a regression that confirmation run attempt did not
// reproduce, within HeadlineMax and cut on a rune boundary.
func unconfirmedHeadline(suite, first string, attempt int) string {
	s := fmt.Sprintf("%s inconclusive: confirmation run %d did not reproduce the regression (%s)", suite, attempt,
		strings.TrimPrefix(first, suite+" "))
	if len(s) <= HeadlineMax {
		return s
	}
	return truncate(s, HeadlineMax-len(")")) + ")"
}

// Bootstrapped marks the first run of an environment, compared with nothing, as the baseline it
// became: for that run incomparable is not a finding, becoming the baseline is what it was for.
func (r *Report) Bootstrapped() {
	if r.Verdict != VerdictIncomparable {
		return
	}
	r.Headline = "no baseline yet: this run became the baseline"
	r.Verdict, r.ExitCode = VerdictPass, ExitPass
}
