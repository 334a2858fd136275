package wcet_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// TestGateFunc wires the analysis into the gate the way the compare command does and checks
// the pwcet rule passes, fails and stays inconclusive when it should.
func TestGateFunc(t *testing.T) {
	exp := func(rng *rand.Rand, _ *float64) float64 { return 1e6 + 5e4*rng.ExpFloat64() }
	good := gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "synth", Intervals: 100, PerIv: 1000, Seed: 9, Process: exp})
	shallow := gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "synth", Intervals: 60, PerIv: 1000, Seed: 9, Process: exp})
	few := gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "synth", Intervals: 10, PerIv: 1000, Seed: 9, Process: exp})
	cases := []struct {
		name    string
		res     *result.Result
		rule    string
		verdict gate.Verdict
		reason  string
	}{
		{"bound under the limit", good, "pwcet(1e-9) < 50ms", gate.VerdictPass, "pWCET"},
		{"bound over the limit", good, "pwcet(1e-9) < 1.2ms", gate.VerdictRegression, "pWCET"},
		{"60 blocks suffice at 1e-6", shallow, "pwcet(1e-6) < 50ms", gate.VerdictPass, "pWCET"},
		{"60 blocks are too few at 1e-9", shallow, "pwcet(1e-9) < 50ms", gate.VerdictInconclusive, "need at least 100 block maxima (intervals), have 60; record 40 more"},
		{"too few blocks", few, "pwcet(1e-9) < 50ms", gate.VerdictInconclusive, "need at least 30 block maxima"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := gate.ParseRules([]gate.RuleSource{{Text: c.rule, Origin: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := gate.CompareResults(nil, c.res, rules, gate.Options{PWCET: wcet.GateFunc(wcet.Options{Bootstrap: 49})})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rules) != 1 {
				t.Fatalf("%d rule rows", len(rep.Rules))
			}
			row := rep.Rules[0]
			if rep.Verdict != c.verdict || !strings.Contains(row.Reason, c.reason) {
				t.Errorf("verdict %s, row %s: %s", rep.Verdict, row.Verdict, row.Reason)
			}
		})
	}
}
