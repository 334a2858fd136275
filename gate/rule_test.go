package gate

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	cases := []struct {
		in   string
		want Rule
	}{
		{"p99 < +5%", Rule{Metric: Metric{Kind: Quantile, Q: 0.99, Percentile: "99"}, Op: Less, Limit: Limit{Relative, 0.05, "+5%"}, Confidence: 0.99}},
		{"p99.9<=+10%@0.95", Rule{Metric: Metric{Kind: Quantile, Q: 0.999, Percentile: "99.9"}, Op: LessEq, Limit: Limit{Relative, 0.10, "+10%"}, Confidence: 0.95}},
		{"  p50 < +3% warn ", Rule{Metric: Metric{Kind: Quantile, Q: 0.5, Percentile: "50"}, Op: Less, Limit: Limit{Relative, 0.03, "+3%"}, Confidence: 0.99, Warn: true}},
		{"p99.99 < 20ms @ 0.9 warn", Rule{Metric: Metric{Kind: Quantile, Q: 0.9999, Percentile: "99.99"}, Op: Less, Limit: Limit{Absolute, 20e6, "20ms"}, Confidence: 0.9, Warn: true}},
		{"mean < 150us", Rule{Metric: Metric{Kind: Mean}, Op: Less, Limit: Limit{Absolute, 150e3, "150us"}, Confidence: 0.99}},
		{"mean <= +2.5%", Rule{Metric: Metric{Kind: Mean}, Op: LessEq, Limit: Limit{Relative, 0.025, "+2.5%"}, Confidence: 0.99}},
		{"max < 40ms", Rule{Metric: Metric{Kind: Max}, Op: Less, Limit: Limit{Absolute, 40e6, "40ms"}, Confidence: 0.99}},
		{"miss(33ms) < 0.1%", Rule{Metric: Metric{Kind: Miss, Deadline: 33 * time.Millisecond}, Op: Less, Limit: Limit{Share, 0.001, "0.1%"}, Confidence: 0.99}},
		{"pwcet(1e-9) < 50ms", Rule{Metric: Metric{Kind: PWCET, Prob: 1e-9}, Op: Less, Limit: Limit{Absolute, 50e6, "50ms"}, Confidence: 0.99}},
		{"p90 < 1.5s", Rule{Metric: Metric{Kind: Quantile, Q: 0.9, Percentile: "90"}, Op: Less, Limit: Limit{Absolute, 1.5e9, "1.5s"}, Confidence: 0.99}},
		{"p99 < +5% strict", Rule{Metric: Metric{Kind: Quantile, Q: 0.99, Percentile: "99"}, Op: Less, Limit: Limit{Relative, 0.05, "+5%"}, Confidence: 0.99, Strict: true}},
		{"p99.9 < +10% @ 0.95 warn strict", Rule{Metric: Metric{Kind: Quantile, Q: 0.999, Percentile: "99.9"}, Op: Less, Limit: Limit{Relative, 0.10, "+10%"}, Confidence: 0.95, Strict: true, Warn: true}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			src := RuleSource{Text: c.in, Origin: "--threshold"}
			got, err := ParseRule(src)
			if err != nil {
				t.Fatal(err)
			}
			c.want.Source = src
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			// The canonical form parses back to the same rule.
			again, err := ParseRule(RuleSource{Text: got.String()})
			if err != nil {
				t.Fatalf("canonical %q: %v", got.String(), err)
			}
			again.Source = src
			if again.Metric.Kind != got.Metric.Kind || again.Limit != got.Limit || again.Confidence != got.Confidence || again.Warn != got.Warn || again.Strict != got.Strict || again.Op != got.Op {
				t.Errorf("canonical %q parsed to %+v", got.String(), again)
			}
		})
	}
}

func TestParseRuleErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"max < +5%", "max is a single sample"},
		{"miss(33ms) < 5ms", "miss takes a share"},
		{"miss(33ms) < +5%", "miss takes a share"},
		{"p99 < 0.1%", "not a share"},
		{"pwcet(1e-9) < +5%", "absolute limit"},
		{"p100 < 20ms", "p100 is max"},
		{"p0 < 20ms", "between p0 and p100"},
		{"p99 > +5%", "operator must be < or <="},
		{"p99 +5%", "expected < or <="},
		{"p99 < -5%", "write +5%"},
		{"p99 < +5", "needs a % sign"},
		{"p99 < 20", "not a duration with a unit"},
		{"p99 < 0ms", "must be positive"},
		{"p99 < +5% @ 1.5", "0.8 <= c < 1"},
		{"p99 < +5% @ 0.3", "0.8 <= c < 1"},
		{"p99 < +5% fail", `unexpected "fail"`},
		{"p99 < +5% warn warn", "warn given twice"},
		{"p99 < +5% strict strict", "strict given twice"},
		{"p99 < 20ms strict", "strict applies to relative limits"},
		{"miss(33ms) < 0.1% strict", "strict applies to relative limits"},
		{"latency < 5ms", "unknown metric"},
		{"pfoo < 5ms", "p followed by a percentile"},
		{"p1e2 < 5ms", "p followed by a percentile"},
		{"miss < 1%", "in parentheses"},
		{"miss(33) < 1%", "miss deadline"},
		{"miss(33ms < 1%", "closing )"},
		{"pwcet(2) < 5ms", "0 < p < 1"},
		{"", "expected a metric"},
		{"p99 <", "expected a limit"},
		{"miss(1ms) < 101%", "over 100%"},
		{"p99 < +NaN%", "not a non-negative percentage"},
		{"max < 2h", "can never fail"},
		{"p99 <= 61m", "can never fail"},
		{"miss(1h) < 0.1%", "can never fail"},
		{"miss(33ms) <= 100%", "can never fail"},
		{"p99 < +5% @ 0.5", "0.8 <= c < 1"},
		{"p99 < +5% @ 0.79", "0.8 <= c < 1"},
		{"p99 < +1e6%", "can never decide"},
		{"p99.999999999999 < 20ms", "can never decide"},
		{"p99.999999999999 < +5%", "can never decide"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			src := RuleSource{Text: c.in, File: "tailgate.yaml", Line: 12}
			_, err := ParseRule(src)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not say %q", msg, c.want)
			}
			if !strings.HasPrefix(msg, "tailgate.yaml:12: threshold ") {
				t.Errorf("error %q does not name the source", msg)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Errorf("error is %T, want *RuleError", err)
			}
		})
	}
}

func TestParseRulesCollectsAllErrors(t *testing.T) {
	srcs := []RuleSource{
		{Text: "p99 < +5%", File: "t.yaml", Line: 3},
		{Text: "max < +5%", File: "t.yaml", Line: 4},
		{Text: "bogus", Origin: "--threshold"},
	}
	_, err := ParseRules(srcs)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"t.yaml:4:", "--threshold: threshold \"bogus\""} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "t.yaml:3") {
		t.Errorf("error %q blames the valid rule", err)
	}
}

func TestDefaultRulesParse(t *testing.T) {
	rules, err := ParseRules(DefaultRuleSources())
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != len(DefaultRules) {
		t.Fatalf("%d rules", len(rules))
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"p99 < +5%", "p99.9 <= +10% @ 0.95 warn", "max < 40ms", "miss(33ms) < 0.1%", "pwcet(1e-9) < 50ms", "mean<150us", "p<", "miss(", "@", "+%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(RuleSource{Text: s, Origin: "fuzz"})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: threshold ") {
				t.Fatalf("error without source: %v", err)
			}
			return
		}
		if r.Confidence < 0.5 || r.Confidence >= 1 {
			t.Fatalf("%q: confidence %v", s, r.Confidence)
		}
		if r.Limit.Value < 0 || r.Limit.Value != r.Limit.Value {
			t.Fatalf("%q: limit %v", s, r.Limit.Value)
		}
		if r.Metric.Kind == Quantile && (r.Metric.Q <= 0 || r.Metric.Q >= 1) {
			t.Fatalf("%q: quantile %v", s, r.Metric.Q)
		}
		if err := r.validate(); err != nil {
			t.Fatalf("%q parsed but does not validate: %v", s, err)
		}
		// The canonical form must parse to the same rule.
		again, err := ParseRule(RuleSource{Text: r.String()})
		if err != nil {
			t.Fatalf("%q: canonical %q does not parse: %v", s, r.String(), err)
		}
		if again.Metric != r.Metric || again.Op != r.Op || again.Limit.Kind != r.Limit.Kind || again.Limit.Value != r.Limit.Value || again.Confidence != r.Confidence || again.Warn != r.Warn {
			t.Fatalf("%q: canonical %q parsed to %+v, want %+v", s, r.String(), again, r)
		}
	})
}
