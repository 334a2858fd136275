package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestLoadGood(t *testing.T) {
	c, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Suite("vision-int8")
	if err != nil {
		t.Fatal(err)
	}
	if v.Line != 3 || v.Duration.For("nightly") != 6*time.Hour || v.Duration.For("pr") != 2*time.Minute {
		t.Errorf("suite line %d durations %+v", v.Line, v.Duration)
	}
	if got := v.InputSpecs(); len(got) != 1 || got[0] != "x=1x3x96x96:random" {
		t.Errorf("input specs %q", got)
	}
	if v.EffectiveSeed(0) != 1 || len(v.Thresholds) != 4 || v.Thresholds[2].Text != "p99.9 < +10% @ 0.95" || v.Thresholds[2].Line != 15 {
		t.Errorf("seed %d thresholds %+v", v.EffectiveSeed(0), v.Thresholds)
	}
	s := c.Suites["synth"]
	if s.Interval.For("nightly") != 10*time.Second || time.Duration(s.Deadline) != 33*time.Millisecond || s.Duration.For("nightly") != 10*time.Second {
		t.Errorf("synth %+v", s)
	}
	if c.Store.Kind != "git" || c.Store.Branch != "tailgate-data" || c.GitHub.Check == nil || *c.GitHub.Check {
		t.Errorf("store %+v github %+v", c.Store, c.GitHub)
	}
	if c.CI.Confirm == nil || *c.CI.Confirm != 2 || c.CI.DefaultBranch != "trunk" || c.CI.TrustedLabel != "board-ok" {
		t.Errorf("ci %+v", c.CI)
	}
	if len(c.Digest) != 64 {
		t.Errorf("digest %q", c.Digest)
	}
	if _, err := c.Suite("nope"); err == nil || !strings.Contains(err.Error(), "synth, vision-int8") {
		t.Errorf("missing suite error %v does not list the suites", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key names file and line", "version: 1\nsuites:\n  a:\n    model: m.onnx\n    treads: 2\n",
			[]string{"t.yaml:5: field treads not found"}},
		{"wrong type", "version: 1\nsuites:\n  a:\n    model: m.onnx\n    threads: many\n", []string{"t.yaml:5:"}},
		{"every semantic error at once", `version: 2
suites:
  a:
    sched: fifo:120
    warmup: soon
    duration: { pr: 1m, weekly: 1h }
  b:
    backend: synthetic
    synthetic: "lognormal:median=1ms"
    mode: open
    rate: fast
store: { kind: s3 }
`, []string{"t.yaml:1: version: 2 not supported", "t.yaml:6: unknown profile \"weekly\""}},
		{"semantic errors", `version: 1
suites:
  a:
    sched: fifo:120
    warmup: soon
  b:
    backend: synthetic
    synthetic: "lognormal:median=1ms"
    mode: open
    rate: fast
    inputs: { x: { shape: [1], fill: sparkly } }
store: { kind: s3 }
`, []string{"t.yaml:3: suites.a.model: required", "t.yaml:4: suites.a.sched:", "t.yaml:5: suites.a.warmup:",
			"t.yaml:8: suites.b.synthetic:", "t.yaml:10: suites.b.rate:", "t.yaml:11: suites.b.inputs.x:", "t.yaml:12: store.kind: unknown kind"}},
		{"ci: every problem with its line", `version: 1
suites: {a: {model: m}}
ci:
  confirm: -1
  default_branch: refs/heads/main
  trusted_label: " "
`, []string{"t.yaml:4: ci.confirm: -1 is negative", "t.yaml:5: ci.default_branch: \"refs/heads/main\" is not a branch name",
			"t.yaml:6: ci.trusted_label: blank"}},
		{"ci: unknown key", "version: 1\nsuites: {a: {model: m}}\nci:\n  confrim: 2\n", []string{"t.yaml:4: field confrim not found"}},
		{"ci: wrong type", "version: 1\nsuites: {a: {model: m}}\nci: { confirm: twice }\n", []string{"t.yaml:3:"}},
		{"empty", "", []string{"empty configuration"}},
		{"two documents", "version: 1\nsuites: {a: {model: m}}\n---\nversion: 1\n", []string{"more than one YAML document"}},
		{"bad pin", "version: 1\nsuites: {a: {model: m}}\npins: { model_sha256: { b: xyz } }\n", []string{"t.yaml:3: pins.model_sha256.b: no suite named \"b\"", "t.yaml:3: pins.model_sha256.b: \"xyz\" is not a hex SHA-256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseWarmup(t *testing.T) {
	if d, n, err := ParseWarmup("5s"); d != 5*time.Second || n != 0 || err != nil {
		t.Errorf("5s → %v %d %v", d, n, err)
	}
	if d, n, err := ParseWarmup("500"); d != 0 || n != 500 || err != nil {
		t.Errorf("500 → %v %d %v", d, n, err)
	}
}

// TestParseRate: run, ci and plan read rates with one grammar, the union of what each read
// before (plan took bare numbers and /h, the open loop neither).
func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"30/s", 30, true}, {"250", 250, true}, {"1800/min", 30, true}, {"120/m", 2, true}, {"2/ms", 2000, true},
		{"108000/h", 30, true}, {" 30 / s ", 30, true}, {"0/s", 0, false}, {"-3", 0, false}, {"-1/s", 0, false},
		{"x/s", 0, false}, {"3/fortnight", 0, false}, {"Inf", 0, false}, {"NaN/s", 0, false}, {"", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRate(tc.in)
			if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
				t.Errorf("ParseRate(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"30/s", "1e3/min", "", "/", "5/h", "NaN/s", "250"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseRate(s)
		if err == nil && !(v > 0 && !math.IsInf(v, 0)) {
			t.Fatalf("ParseRate(%q) = %v without error", s, v)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nsuites: {a: {model: m}}\n"))
	f.Add([]byte("version: 1\nsuites:\n  a:\n    duration: {pr: 1s}\n    thresholds: [\"p99 < 1ms\"]\n"))
	f.Add([]byte("version: 1\nsuites: {a: {model: m}}\nci: {confirm: 0, default_branch: main, trusted_label: ok}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("f.yaml", b)
		if err == nil && (c.Version != Version || len(c.Suites) == 0) {
			t.Fatalf("accepted an invalid config: %+v", c)
		}
	})
}

// TestCIUnset: a config without ci: leaves every setting to the flags' defaults, and
// confirm: 0 is kept apart from no confirm at all.
func TestCIUnset(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		confirm    *int
	}{
		{"absent", "version: 1\nsuites: {a: {model: m}}\n", nil},
		{"zero", "version: 1\nsuites: {a: {model: m}}\nci: {confirm: 0}\n", new(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if (c.CI.Confirm == nil) != (tc.confirm == nil) || (tc.confirm != nil && *c.CI.Confirm != *tc.confirm) {
				t.Errorf("confirm %v, want %v", c.CI.Confirm, tc.confirm)
			}
			if c.CI.DefaultBranch != "" || c.CI.TrustedLabel != "" {
				t.Errorf("ci %+v", c.CI)
			}
		})
	}
}
