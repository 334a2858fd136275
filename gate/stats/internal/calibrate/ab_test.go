package main

import (
	"slices"

	"bytes"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/stats/internal/calib"
)

// TestRunABSmoke gates a few seeded A/B pairs per table and process through gate.CompareAB: the
// tables and the checklist come out, the same seed gives the same report, and A/A pairs never
// regress.
func TestRunABSmoke(t *testing.T) {
	report := func() string {
		res, err := runAB(abConfig{Pairs: 2, Seed: 7, Workers: 2, Tables: abTables})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := res.write(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	a, b := report(), report()
	strip := func(s string) string { return s[strings.Index(s, "\n"):] } // the first line holds the time taken
	if strip(a) != strip(b) {
		t.Errorf("same seed, different reports:\n%s\n%s", a, b)
	}
	for _, want := range []string{"== 30 rounds, paired rounds ==", "== 4 sessions of 8 rounds, the session pair the unit (t on 3 df)",
		"PASS  1  no change: regression ≤ 1%             p50 < +5% · 30 rounds", "mean < +5%", "checks pass", "== contrast:"} {
		if !strings.Contains(a, want) {
			t.Errorf("report lacks %q:\n%s", want, a)
		}
	}
}

// TestSessionsSmoke gates seeded 4-session A/B results of the calibration's process whose arms
// get their own 5 % offset each session, with the session pair as the unit and per round. Every
// round of a session sees its offset, so per round the intervals are narrower than the true
// spread of ln R̂ and pairs at no change or 0.6L regress, while over sessions (t on 3 df) they
// are wider and none does.
func TestSessionsSmoke(t *testing.T) {
	tb := abTable{Layout: abLayout{Sessions: 4, Rounds: 8}, Processes: abSessionProcesses[2:3]}
	if got := tb.Layout.analyses(); !slices.Equal(got, []string{"session pairs", "per round"}) {
		t.Fatalf("analyses %v, want session pairs then per round", got)
	}
	res, err := runAB(abConfig{Pairs: 16, Seed: 3, Workers: 2, Tables: []abTable{tb}})
	if err != nil {
		t.Fatal(err)
	}
	var regressions [2]int
	for a, name := range tb.Layout.analyses() {
		for k, kind := range abKinds {
			for s := range 2 { // no change and 0.6L
				regressions[a] += res.Cells[0][a][0][k][s].Regression
			}
			c := res.Cells[0][a][0][k][0]
			width := median(c.Half) / (calib.OracleZ * c.SDLnR())
			t.Logf("%s, %s: median half-width %.2f × the oracle's", name, kind.Rule, width)
			if (a == 0 && width < 1) || (a == 1 && width > 0.8) {
				t.Errorf("%s, %s: median half-width %.2f × the oracle's z·sd: want ≥ 1 over sessions, ≤ 0.8 per round", name, kind.Rule, width)
			}
		}
	}
	if regressions[0] != 0 || regressions[1] == 0 {
		var b bytes.Buffer
		_, _ = res.write(&b)
		t.Errorf("regressions at no change and 0.6L: %d over sessions (want 0), %d per round (want some)\n%s", regressions[0], regressions[1], b.String())
	}
}
