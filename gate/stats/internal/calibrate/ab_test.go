package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRunABSmoke gates a few seeded A/B pairs per process through gate.CompareAB: the table and
// the checklist come out, the same seed gives the same report, and A/A pairs never regress.
func TestRunABSmoke(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := runAB(&a, 2, 7, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := runAB(&b, 2, 7, 2); err != nil {
		t.Fatal(err)
	}
	strip := func(s string) string { return s[strings.Index(s, "\n"):] } // the first line holds the time taken
	if strip(a.String()) != strip(b.String()) {
		t.Errorf("same seed, different reports:\n%s\n%s", a.String(), b.String())
	}
	out := a.String()
	for _, want := range []string{"== interleaved A/B: 30 rounds", "PASS p50 < +5% · no change: regression ≤ 1%: worst 0.0%", "mean < +5%"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
