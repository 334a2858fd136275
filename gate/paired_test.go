package gate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// drifting is an A/B spec whose arms share strong, slow round-to-round drift and a run offset:
// what pairing must cancel.
func drifting(seed uint64, slowdown float64) gatetest.ABSpec {
	return gatetest.ABSpec{Rounds: 30, PerRound: 2000, A: body(1), B: gatetest.Scale(body(1), slowdown),
		RoundSD: 0.08, RoundRho: 0.9, ArmSD: 0.003, RunSD: 0.2, Seed: seed}
}

func TestCompareAB(t *testing.T) {
	cases := []struct {
		name    string
		spec    gatetest.ABSpec
		rules   []string
		verdict gate.Verdict
		reason  string
	}{
		{"A/A under drift passes", drifting(1, 1), []string{"p50 < +5%", "mean < +5%"}, gate.VerdictPass, "rules out +5%"},
		{"+15% under drift regresses", drifting(2, 1.15), []string{"p50 < +5%"}, gate.VerdictRegression, "beyond +5%"},
		{"too few rounds for p99.9 is inconclusive", drifting(3, 1), []string{"p99.9 < +5%"}, gate.VerdictInconclusive, "expected samples beyond p99.9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			gatetest.WriteAB(t, dir, c.spec)
			a, b, err := gate.LoadAB(dir)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := gate.CompareAB(a, b, rules(t, c.rules...), gate.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s: %+v", rep.Verdict, c.verdict, rep.Rules)
			}
			r := row(t, rep, rep.Rules[0].Metric)
			if !strings.Contains(r.Reason, c.reason) || r.BetweenRunSD != 0 {
				t.Errorf("reason %q (between-run SD %g), want it to contain %q and no between-run SD", r.Reason, r.BetweenRunSD, c.reason)
			}
			if rep.Design != "interleaved, 30 rounds" || !strings.HasPrefix(rep.Headline, "vision (interleaved, 30 rounds) ") || !strings.HasPrefix(rep.Notes[0], "interleaved A/B, 30 rounds") {
				t.Errorf("design %q, headline %q, notes %q: want the interleaved design stated", rep.Design, rep.Headline, rep.Notes)
			}
		})
	}
}

// TestDesignMismatch: an A/B result is never mixed into a comparison of single runs, and a single
// run is never read as the arms of one.
func TestDesignMismatch(t *testing.T) {
	abDir, single := t.TempDir(), t.TempDir()
	gatetest.WriteAB(t, abDir, drifting(1, 1))
	gatetest.Write(t, single, spec(1, body(1)))
	ab, err := gate.LoadRun(abDir)
	if err != nil {
		t.Fatal(err)
	}
	one, err := gate.LoadRun(single)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		base, cand *gate.Run
	}{{"A/B as candidate", one, ab}, {"A/B as baseline", ab, one}} {
		t.Run(c.name, func(t *testing.T) {
			_, err := gate.Compare(c.base, c.cand, rules(t, "p50 < +5%"), gate.Options{})
			if !errors.Is(err, gate.ErrDesign) || !strings.Contains(err.Error(), abDir) {
				t.Fatalf("err = %v, want ErrDesign naming %s", err, abDir)
			}
		})
	}
	t.Run("single run as A/B", func(t *testing.T) {
		if _, _, err := gate.LoadAB(single); !errors.Is(err, gate.ErrDesign) {
			t.Fatalf("err = %v, want ErrDesign", err)
		}
	})
	t.Run("paired single runs", func(t *testing.T) {
		if _, err := gate.CompareAB(one, one, rules(t, "p50 < +5%"), gate.Options{}); !errors.Is(err, gate.ErrDesign) {
			t.Fatalf("err = %v, want ErrDesign", err)
		}
	})
}
