package gate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// body is a 1 ms lognormal with a 2 % slow tail near 3 ms, so p99 sits in the tail.
func body(tailScale float64) gatetest.Process {
	return gatetest.Tail(gatetest.Lognormal(1e6, 0.05), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), tailScale))
}

func spec(seed uint64, p gatetest.Process) gatetest.Spec {
	return gatetest.Spec{Intervals: 60, PerIv: 2000, Seed: seed, Process: p}
}

func rules(t *testing.T, texts ...string) []gate.Rule {
	t.Helper()
	r, err := gate.ParseRules(gate.FlagRules(texts))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func row(t *testing.T, rep *gate.Report, metric string) gate.RuleResult {
	t.Helper()
	for _, r := range rep.Rules {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row for %s in %+v", metric, rep.Rules)
	return gate.RuleResult{}
}

func TestCompare(t *testing.T) {
	base := gatetest.Write(t, t.TempDir(), spec(1, body(1)))
	unhealthy := spec(2, body(1.2)) // a real regression, which an unhealthy run must not report
	unhealthy.Health = &result.Health{Healthy: false, Reasons: []string{"throttled at 12:00:03 (bit 2)", "cpu3 frequency 2400→1500 MHz"}}
	otherEnv := gatetest.Env()
	otherEnv.KernelRelease, otherEnv.Threads = "6.6.51-v8+", 4
	diffPins := spec(2, body(1))
	diffPins.Env = &otherEnv
	short := gatetest.Spec{Intervals: 2, PerIv: 1000, Seed: 3, Process: body(1)}

	cases := []struct {
		name    string
		base    *result.Result
		cand    gatetest.Spec
		rules   []string
		opts    gate.Options
		verdict gate.Verdict
		exit    int
		check   func(t *testing.T, rep *gate.Report)
	}{
		{name: "A/A passes", base: base, cand: spec(2, body(1)), rules: gate.DefaultRules, verdict: gate.VerdictPass, exit: 0,
			check: func(t *testing.T, rep *gate.Report) {
				for _, r := range rep.Rules {
					if r.Verdict != gate.RulePass || r.Ratio == nil || *r.RatioLo > 1 || *r.RatioHi < 1 {
						t.Errorf("%s: %s (%s)", r.Rule, r.Verdict, r.Reason)
					}
				}
			}},
		{name: "p99 +20% fails naming the rule", base: base, cand: spec(2, body(1.2)), rules: gate.DefaultRules, verdict: gate.VerdictRegression, exit: 1,
			check: func(t *testing.T, rep *gate.Report) {
				p99 := row(t, rep, "p99")
				if p99.Verdict != gate.RuleRegression || !p99.Significant || *p99.Ratio < 1.15 {
					t.Errorf("p99 row %+v", p99)
				}
				if p50 := row(t, rep, "p50"); p50.Verdict != gate.RulePass {
					t.Errorf("p50 (unchanged) is %s: %s", p50.Verdict, p50.Reason)
				}
				if !strings.Contains(rep.Headline, "regression: p99 < +5% @ 0.99") {
					t.Errorf("headline %q does not name the rule", rep.Headline)
				}
			}},
		{name: "faster is improved", base: base, cand: spec(2, gatetest.Scale(body(1), 0.8)), rules: []string{"p50 < +5%", "mean < +5%"}, verdict: gate.VerdictPass, exit: 0,
			check: func(t *testing.T, rep *gate.Report) {
				for _, r := range rep.Rules {
					if r.Verdict != gate.RuleImproved {
						t.Errorf("%s: %s (%s)", r.Rule, r.Verdict, r.Reason)
					}
				}
			}},
		{name: "short run on p99.99 is inconclusive with N", base: base, cand: short, rules: []string{"p99.99 < +5%"}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				r := row(t, rep, "p99.99")
				if r.Need == nil || r.Need.Samples != 46050 {
					t.Fatalf("need %+v, want 46050 samples", r.Need)
				}
				if r.Need.Duration != 46*time.Second {
					t.Errorf("need duration %v, want 46s at 1000/s", r.Need.Duration)
				}
				if !strings.Contains(r.Reason, "need 46,050 samples (≈ 46s at the observed rate)") {
					t.Errorf("reason %q", r.Reason)
				}
			}},
		{name: "between-run SD widens the interval and is reported", base: base, cand: spec(2, body(1)), rules: []string{"p99 < +5%"}, opts: gate.Options{BetweenRun: map[string]float64{"p99": 0.01}}, verdict: gate.VerdictPass, exit: 0,
			check: func(t *testing.T, rep *gate.Report) {
				r := row(t, rep, "p99")
				// z·√2·σ at 0.99 is 3.6 % each way on its own.
				if r.BetweenRunSD != 0.01 || !(*r.RatioHi > 1.036 && *r.RatioLo < 1/1.036) {
					t.Errorf("row %+v: interval [%v, %v]", r, *r.RatioLo, *r.RatioHi)
				}
			}},
		{name: "between-run SD too large to resolve +5% is inconclusive", base: base, cand: spec(2, body(1)), rules: []string{"p99 < +5%"}, opts: gate.Options{BetweenRun: map[string]float64{"p99": 0.03}}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "p99"); r.Need != nil || !strings.Contains(r.Reason, "interleaved A/B") {
					t.Errorf("need %+v, reason %q", r.Need, r.Reason)
				}
			}},
		{name: "strict passes only when the upper end is under the limit", base: base, cand: spec(2, body(1.045)), rules: []string{"p99 < +5% strict", "p50 < +5% strict"}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "p99"); !r.Strict || r.Verdict != gate.RuleInconclusive || *r.RatioHi < 1.05 {
					t.Errorf("p99 (+4.5%%) strict: %s [%v, %v] %s", r.Verdict, *r.RatioLo, *r.RatioHi, r.Reason)
				}
				if r := row(t, rep, "p50"); r.Verdict != gate.RulePass {
					t.Errorf("p50 (unchanged) strict: %s %s", r.Verdict, r.Reason)
				}
			}},
		{name: "inconclusive policy pass exits 0", base: base, cand: short, rules: []string{"p99.99 < +5%"}, opts: gate.Options{Inconclusive: gate.InconclusivePass}, verdict: gate.VerdictInconclusive, exit: 0},
		{name: "regression outranks inconclusive", base: base, cand: spec(2, body(1.2)), rules: []string{"p99 < +5%", "p99.9999 < +5%"}, opts: gate.Options{Inconclusive: gate.InconclusivePass}, verdict: gate.VerdictRegression, exit: 1},
		{name: "pins differ is incomparable listing every field", base: base, cand: diffPins, rules: gate.DefaultRules, verdict: gate.VerdictIncomparable, exit: 3,
			check: func(t *testing.T, rep *gate.Report) {
				var fields []string
				for _, d := range rep.Pins.Diffs {
					fields = append(fields, d.Field)
				}
				if strings.Join(fields, ",") != "kernel_release,threads" {
					t.Errorf("diffs %v", fields)
				}
				if !strings.Contains(rep.Headline, "kernel_release, threads") {
					t.Errorf("headline %q", rep.Headline)
				}
				for _, r := range rep.Rules {
					if r.Verdict != gate.RuleSkipped {
						t.Errorf("%s evaluated: %s", r.Rule, r.Verdict)
					}
				}
			}},
		{name: "ignore pins compares and says so", base: base, cand: diffPins, rules: gate.DefaultRules, opts: gate.Options{IgnorePins: true}, verdict: gate.VerdictPass, exit: 0,
			check: func(t *testing.T, rep *gate.Report) {
				if !rep.Pins.Ignored || len(rep.Pins.Diffs) != 2 {
					t.Errorf("pins %+v", rep.Pins)
				}
			}},
		{name: "unhealthy candidate is inconclusive with reasons", base: base, cand: unhealthy, rules: gate.DefaultRules, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				if !strings.HasPrefix(rep.Headline, "vision inconclusive: candidate run unhealthy: throttled") {
					t.Errorf("headline %q", rep.Headline)
				}
				if !strings.Contains(strings.Join(rep.Notes, "\n"), "candidate run unhealthy: throttled at 12:00:03 (bit 2); cpu3 frequency") {
					t.Errorf("notes %q", rep.Notes)
				}
			}},
		{name: "absolute rules without a baseline", cand: spec(2, body(1)), rules: []string{"p99 < 20ms", "max < 40ms", "miss(5ms) < 1%", "mean < 2ms"}, verdict: gate.VerdictPass, exit: 0,
			check: func(t *testing.T, rep *gate.Report) {
				if rep.Baseline != nil {
					t.Error("baseline side without a baseline")
				}
				for _, r := range rep.Rules {
					if r.Verdict != gate.RulePass {
						t.Errorf("%s: %s (%s)", r.Rule, r.Verdict, r.Reason)
					}
				}
			}},
		{name: "absolute limit exceeded", cand: spec(2, body(1)), rules: []string{"p99 < 2ms", "max < 3ms warn"}, verdict: gate.VerdictRegression, exit: 1,
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "max"); r.Verdict != gate.RuleWarn {
					t.Errorf("warn rule: %s", r.Verdict)
				}
			}},
		{name: "absolute p99.99 on a short run needs more samples", cand: short, rules: []string{"p99.99 < 20ms"}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "p99.99"); r.Need == nil || r.Need.Samples != 46050 {
					t.Errorf("need %+v", r.Need)
				}
			}},
		{name: "miss share over its limit", cand: spec(2, body(1)), rules: []string{"miss(2ms) < 1%"}, verdict: gate.VerdictRegression, exit: 1,
			check: func(t *testing.T, rep *gate.Report) {
				r := row(t, rep, "miss(2ms)")
				if *r.Candidate < 0.015 || *r.Candidate > 0.025 {
					t.Errorf("miss share %v, want about 2%%", *r.Candidate)
				}
			}},
		{name: "relative rule without a baseline is incomparable", cand: spec(2, body(1)), rules: []string{"p99 < +5%", "max < 40ms"}, verdict: gate.VerdictIncomparable, exit: 3},
		{name: "empty candidate is inconclusive", base: base, cand: gatetest.Spec{Seed: 5, Process: body(1)}, rules: []string{"p99 < +5%", "max < 40ms"}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				for _, r := range rep.Rules {
					if r.Verdict != gate.RuleInconclusive || r.Reason != "the candidate has no samples" {
						t.Errorf("%s: %s (%s)", r.Rule, r.Verdict, r.Reason)
					}
				}
			}},
		{name: "pwcet unavailable is never a pass", cand: spec(2, body(1)), rules: []string{"pwcet(1e-9) < 50ms"}, verdict: gate.VerdictInconclusive, exit: 4,
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "pwcet(1e-09)"); r.Verdict != gate.RuleUnavailable {
					t.Errorf("pwcet %s", r.Verdict)
				}
			}},
		{name: "pwcet from a plugged analysis", cand: spec(2, body(1)), rules: []string{"pwcet(1e-9) < 50ms"}, verdict: gate.VerdictPass, exit: 0,
			opts: gate.Options{PWCET: func(c *gate.Run, prob, conf float64) (gate.PWCETEstimate, error) {
				return gate.PWCETEstimate{Valid: true, BoundNs: 7.5e6}, nil
			}}},
		{name: "pwcet analysis that finds no valid bound", cand: spec(2, body(1)), rules: []string{"pwcet(1e-9) < 50ms"}, verdict: gate.VerdictInconclusive, exit: 4,
			opts: gate.Options{PWCET: func(c *gate.Run, prob, conf float64) (gate.PWCETEstimate, error) {
				return gate.PWCETEstimate{Reason: "Ljung-Box rejects independence (p=0.001)"}, nil
			}},
			check: func(t *testing.T, rep *gate.Report) {
				if r := row(t, rep, "pwcet(1e-09)"); !strings.Contains(r.Reason, "Ljung-Box") {
					t.Errorf("reason %q", r.Reason)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cand := gatetest.Write(t, t.TempDir(), c.cand)
			rep, err := gate.CompareResults(c.base, cand, rules(t, c.rules...), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Rules {
				t.Logf("%s: %s: %s", r.Rule, r.Verdict, r.Reason)
			}
			if rep.Verdict != c.verdict || rep.ExitCode != c.exit {
				t.Fatalf("verdict %s exit %d, want %s exit %d (%s)", rep.Verdict, rep.ExitCode, c.verdict, c.exit, rep.Headline)
			}
			if len(rep.Headline) > gate.HeadlineMax || strings.Contains(rep.Headline, "\n") {
				t.Errorf("headline %q is not one line of at most %d", rep.Headline, gate.HeadlineMax)
			}
			if c.check != nil {
				c.check(t, rep)
			}
		})
	}
}

// TestCompareDeterministic: the same inputs give the same report, bootstrap included.
func TestCompareDeterministic(t *testing.T) {
	base := gatetest.Write(t, t.TempDir(), spec(1, body(1)))
	cand := gatetest.Write(t, t.TempDir(), spec(2, body(1.03)))
	rs := rules(t, gate.DefaultRules...)
	a, err := gate.CompareResults(base, cand, rs, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := gate.CompareResults(base, cand, rs, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Rules {
		if *a.Rules[i].RatioLo != *b.Rules[i].RatioLo || *a.Rules[i].PSlower != *b.Rules[i].PSlower {
			t.Errorf("%s differs between identical comparisons", a.Rules[i].Rule)
		}
	}
}

// TestBetweenRunDefault: separate runs carry DefaultBetweenRunSD unless the options say
// otherwise; an explicit 0 (interleaved A/B runs) adds nothing.
func TestBetweenRunDefault(t *testing.T) {
	base := gatetest.Write(t, t.TempDir(), spec(1, body(1)))
	cand := gatetest.Write(t, t.TempDir(), spec(2, body(1)))
	rs := rules(t, "p99 < +5%")
	def, err := gate.CompareResults(base, cand, rs, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	paired, err := gate.CompareResults(base, cand, rs, gate.Options{BetweenRun: map[string]float64{"p99": 0}})
	if err != nil {
		t.Fatal(err)
	}
	d, p := def.Rules[0], paired.Rules[0]
	if d.BetweenRunSD != gate.DefaultBetweenRunSD || p.BetweenRunSD != 0 {
		t.Errorf("between_run_sd: default %v, explicit 0 gives %v", d.BetweenRunSD, p.BetweenRunSD)
	}
	if !(*d.RatioHi > *p.RatioHi && *d.RatioLo < *p.RatioLo) {
		t.Errorf("the default σ should widen [%v, %v] to more than [%v, %v]", *d.RatioLo, *d.RatioHi, *p.RatioLo, *p.RatioHi)
	}
}

// TestRelativeTooShort: a candidate whose statistic's autocorrelation needs longer blocks than
// the run can hold MinBlocks of is measured on blocks of a MinBlocks-th of it, and the reason
// says the run was short and what covers the rest.
func TestRelativeTooShort(t *testing.T) {
	base := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 600, PerIv: 500, Seed: 1, Process: gatetest.Drift(gatetest.Lognormal(1e6, 0.05), 0.9999, 0.05)})
	cand := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 40, PerIv: 500, Seed: 2, Process: gatetest.Drift(gatetest.Lognormal(1e6, 0.05), 0.9999, 0.05)})
	rep, err := gate.CompareResults(base, cand, rules(t, "p50 < +5%"), gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The candidate's blocks are capped at a MinBlocks-th of the run, an interval is computed
	// (the between-run SD covers slower drift), and the reason says the run was short.
	r := rep.Rules[0]
	if r.RatioLo == nil || r.RatioHi == nil || !strings.Contains(r.Reason, "too short for its autocorrelation") || !strings.Contains(r.Reason, "between-run SD covers slower drift") {
		t.Errorf("%s: %s", r.Verdict, r.Reason)
	}
}
