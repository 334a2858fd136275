package gate

import (
	"math"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/stats"
)

// ratioOf builds a ratio point [lo, hi] (as changes: 0.06 for +6 %) whose width comes from
// the candidate, with a baseline of ±baseW on the log scale, as a short PR run against a long
// baseline gives.
func ratioOf(point, lo, hi, baseW float64) stats.Ratio {
	p, l, h := 1+point, 1+lo, 1+hi
	cd := math.Sqrt(max(math.Pow(math.Log(p/l), 2)-baseW*baseW, 0))
	cu := math.Sqrt(max(math.Pow(math.Log(h/p), 2)-baseW*baseW, 0))
	const b = 1e6
	return stats.Ratio{
		Point: p, Lo: l, Hi: h, Conf: 0.99, PSlower: 0.5, PFaster: 0.5,
		Base: stats.Estimate{Point: b, Lo: b * math.Exp(-baseW), Hi: b * math.Exp(baseW)},
		Cand: stats.Estimate{Point: b * p, Lo: b * p * math.Exp(-cd), Hi: b * p * math.Exp(cu)},
	}
}

func TestDecideRatio(t *testing.T) {
	mustRule := func(text string) Rule {
		r, err := ParseRule(RuleSource{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	fast := ratioOf(-0.10, -0.13, -0.07, 0.005)
	fast.PFaster = 1e-6
	cases := []struct {
		name        string
		rule        string
		rt          stats.Ratio
		significant bool
		verdict     RuleVerdict
		reason      string
		// Bounds on the samples factor when inconclusive: (width/target)², the target 2·ln(1+2L)
		// or, when the upper end is what must come in, 2·(ln(1+2L) − ln R̂).
		scale [2]float64
	}{
		// The pair: the old rule called the first inconclusive (point beyond +5 %) and
		// passed the second, though neither rules out more than the other. Both reach +10 %
		// (twice the limit): inconclusive, both.
		{"+6% [-2%, +14%] is inconclusive by width", "p99 < +5%", ratioOf(0.06, -0.02, 0.14, 0.005), false, RuleInconclusive, "does not rule out +10.0%", [2]float64{3.9, 4.5}}, // (0.151/(2·ln(1.10/1.06)))²
		{"+4% [-4%, +12%] is inconclusive by width", "p99 < +5%", ratioOf(0.04, -0.04, 0.12, 0.005), false, RuleInconclusive, "does not rule out +10.0%", [2]float64{1.7, 2.1}}, // (0.154/(2·ln(1.10/1.04)))²
		{"+10% [+3%, +17%] is a regression", "p99 < +5%", ratioOf(0.10, 0.03, 0.17, 0.005), true, RuleRegression, "beyond +5% and significant", [2]float64{}},
		{"warn rule warns", "p99 < +5% warn", ratioOf(0.10, 0.03, 0.17, 0.005), true, RuleWarn, "beyond +5%", [2]float64{}},
		{"[-20%, +40%] needs samples", "p99 < +5%", ratioOf(0.06, -0.20, 0.40, 0.005), false, RuleInconclusive, "too wide to resolve +5%", [2]float64{50, 65}}, // (0.560/(2·ln(1.10/1.06)))²
		{"narrow around 0 passes, ruling the limit out", "p99 < +5%", ratioOf(0.01, -0.02, 0.04, 0.005), false, RulePass, "within +5%; the interval rules out +5%", [2]float64{}},
		{"wide but under the limit passes", "p99 < +5%", ratioOf(-0.10, -0.30, 0.04, 0.005), false, RulePass, "rules out +5%", [2]float64{}},
		{"significant, not material", "p99 < +5%", ratioOf(0.03, 0.01, 0.05, 0.005), true, RulePass, "slower but within +5% (not material)", [2]float64{}},
		{"beyond the limit, not significant, narrow", "p99 < +5%", ratioOf(0.055, -0.005, 0.09, 0.005), false, RulePass, "slower, not significant", [2]float64{}},
		{"width alone: hi/lo over (1+2L)²", "p99 < +5%", ratioOf(-0.08, -0.20, 0.08, 0.005), false, RuleInconclusive, "hi/lo is 1.350", [2]float64{2.3, 2.8}}, // (0.300/(2·ln 1.10))²
		// ±6 % does not rule out +5 % but rules out +10 %, twice the limit: it resolves the limit
		// (a +10 % change would very likely have been caught), so it passes.
		{"±6% rules out twice the limit and passes", "p99 < +5%", ratioOf(0.0, -0.06, 0.06, 0.005), false, RulePass, "no slowdown beyond +5% detected", [2]float64{}},
		// Beyond the limit and significant, but the interval does not exclude half the limit:
		// not material, so not a regression.
		{"significant beyond the limit, not beyond half of it", "p99 < +5%", ratioOf(0.06, 0.02, 0.095, 0.005), true, RulePass, "not shown beyond +2.5%", [2]float64{}},
		{"significantly faster is improved", "p99 < +5%", fast, false, RuleImproved, "significantly faster", [2]float64{}},
		{"strict passes only under the limit", "p99 < +5% strict", ratioOf(0.01, -0.02, 0.04, 0.005), false, RulePass, "rules out +5%", [2]float64{}},
		{"strict, slower within, upper end at the limit", "p99 < +5% strict", ratioOf(0.03, 0.01, 0.06, 0.005), true, RuleInconclusive, "strict", [2]float64{1.5, 4}},
		{"strict regression", "p99 < +5% strict", ratioOf(0.10, 0.03, 0.17, 0.005), true, RuleRegression, "significant", [2]float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decideRatio(mustRule(c.rule), c.rt, c.significant)
			t.Logf("%s: %s (samples ×%.3g)", d.verdict, d.reason, d.scale)
			if d.verdict != c.verdict || !strings.Contains(d.reason, c.reason) {
				t.Errorf("got %s %q, want %s containing %q", d.verdict, d.reason, c.verdict, c.reason)
			}
			if c.verdict == RuleInconclusive && !(d.scale >= c.scale[0] && d.scale <= c.scale[1]) {
				t.Errorf("samples ×%v, want within %v", d.scale, c.scale)
			}
		})
	}
	// A strict rule whose point estimate is beyond the limit cannot be shown under it by any
	// number of samples: no need is given.
	if d := decideRatio(mustRule("p99 < +5% strict"), ratioOf(0.06, -0.01, 0.13, 0.005), false); d.verdict != RuleInconclusive || !math.IsNaN(d.scale) {
		t.Errorf("strict beyond the limit: %s ×%v", d.verdict, d.scale)
	}
	// A baseline wider than the limit allows cannot be fixed by a longer candidate.
	if d := decideRatio(mustRule("p99 < +5%"), ratioOf(0.0, -0.12, 0.12, 0.1), false); d.verdict != RuleInconclusive || !math.IsInf(d.scale, 1) {
		t.Errorf("baseline-bound interval: %s ×%v", d.verdict, d.scale)
	}
}
