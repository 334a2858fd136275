package gate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUnconfirmed: an unconfirmed regression is inconclusive whatever the confirmation said
// (a worse confirmation verdict stays), and its headline names the first run's regression
// within what a commit status takes, cut on a rune boundary.
func TestUnconfirmed(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first        string
		again        Verdict
		policy       InconclusivePolicy
		want         Verdict
		code         int
		wantHeadline string
	}{
		{"pass becomes inconclusive", "synth regression: p50 < +10% @ 0.99 (+100.0%)", VerdictPass, InconclusiveFail, VerdictInconclusive, ExitInconclusive,
			"synth inconclusive: confirmation run 1 did not reproduce the regression (regression: p50 < +10% @ 0.99 (+100.0%))"},
		{"policy pass", "synth regression: p50", VerdictPass, InconclusivePass, VerdictInconclusive, ExitPass, ""},
		{"long headline", "synth regression: " + strings.Repeat("µ", 100), VerdictPass, InconclusiveFail, VerdictInconclusive, ExitInconclusive, ""},
		{"incomparable stays", "synth regression: p50", VerdictIncomparable, InconclusiveFail, VerdictIncomparable, ExitIncomparable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Suite: "synth", Verdict: tc.again, Policy: tc.policy, Headline: "synth " + string(tc.again)}
			r.Unconfirmed(&Report{Suite: "synth", Verdict: VerdictRegression, Headline: tc.first}, 1)
			if r.Verdict != tc.want || r.ExitCode != tc.code {
				t.Errorf("verdict %s exit %d, want %s %d", r.Verdict, r.ExitCode, tc.want, tc.code)
			}
			if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], tc.first) {
				t.Errorf("notes %q do not name the first run", r.Notes)
			}
			if tc.want != VerdictInconclusive {
				return
			}
			h := r.Headline
			if tc.wantHeadline != "" && h != tc.wantHeadline {
				t.Errorf("got  %q\nwant %q", h, tc.wantHeadline)
			}
			if len(h) > HeadlineMax || !utf8.ValidString(h) || !strings.HasPrefix(h, "synth inconclusive: confirmation run 1") || !strings.HasSuffix(h, ")") {
				t.Errorf("%q: %d bytes (max %d), valid UTF-8 %v", h, len(h), HeadlineMax, utf8.ValidString(h))
			}
		})
	}
}

func TestBootstrapped(t *testing.T) {
	r := &Report{Verdict: VerdictIncomparable, ExitCode: ExitIncomparable}
	r.Bootstrapped()
	if r.Verdict != VerdictPass || r.ExitCode != ExitPass || !strings.Contains(r.Headline, "became the baseline") {
		t.Errorf("%+v", r)
	}
	r = &Report{Verdict: VerdictRegression, ExitCode: ExitRegression, Headline: "x"}
	r.Bootstrapped()
	if r.Verdict != VerdictRegression || r.Headline != "x" {
		t.Errorf("a regression was rewritten: %+v", r)
	}
}
