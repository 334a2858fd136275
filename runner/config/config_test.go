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
		{"github: site_url not an address", "version: 1\nsuites: {a: {model: m}}\ngithub:\n  site_url: javascript:alert(1)\n", []string{"t.yaml:4: github.site_url: \"javascript:alert(1)\" is not an http(s) address"}},
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
	f.Add([]byte("version: 1\nsuites:\n  a:\n    cpus: [1, 1]\n    duration: {pr: 0s, nightly: 2000000h}\n    mode: open\n    rate: 1e9/s\n    thresholds: [\"p101 < +5%\"]\n"))
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

// TestSuiteChecks: every suite value is checked at load, each problem at the line of its key
// (of the suite when the key is missing) and named by its path.
func TestSuiteChecks(t *testing.T) {
	// Each body follows "version: 1\nsuites:\n  a:\n", so its first line is line 4.
	for _, tc := range []struct {
		name, body, want string
	}{
		{"suite name leaves the store", "    model: m\n", `t.yaml:3: suites: invalid suite name "../x"`},
		{"threshold that does not parse", "    model: m\n    thresholds:\n      - \"p99 < +5%\"\n      - \"p101 < +5%\"\n", `t.yaml:7: suites.a.thresholds: "p101 < +5%": quantile`},
		{"threshold that can never fail", "    model: m\n    thresholds: [\"max < 2h\"]\n", `t.yaml:5: suites.a.thresholds: "max < 2h": can never fail`},
		{"negative cpu", "    model: m\n    cpus: [-1]\n", "t.yaml:5: suites.a.cpus: -1 is not a CPU id"},
		{"cpu beyond the kernel's", "    model: m\n    cpus: [9000]\n", "t.yaml:5: suites.a.cpus: 9000 is not a CPU id"},
		{"cpu twice", "    model: m\n    threads: 2\n    cpus: [3, 3]\n", "t.yaml:6: suites.a.cpus: CPU 3 is listed twice"},
		{"cpus for threads", "    model: m\n    threads: 2\n    cpus: [1, 2, 3]\n", "t.yaml:6: suites.a.cpus: 3 CPUs for 2 threads: give 1 CPU"},
		{"cpus with threads unset", "    model: m\n    cpus: [2, 3]\n", "t.yaml:5: suites.a.cpus: 2 CPUs for 1 threads"},
		{"zero threads", "    model: m\n    threads: 0\n", "t.yaml:5: suites.a.threads: 0: want 1 to 1024"},
		{"too many threads", "    model: m\n    threads: 100000\n", "t.yaml:5: suites.a.threads: 100000: want 1 to 1024"},
		{"sched", "    model: m\n    sched: fifo:200\n", `t.yaml:5: suites.a.sched: "fifo:200": fifo priority`},
		{"warmup", "    model: m\n    warmup: soon\n", `t.yaml:5: suites.a.warmup: "soon" is neither`},
		{"warmup too long", "    model: m\n    warmup: 2000000h\n", "t.yaml:5: suites.a.warmup: 2000000h0m0s is longer than 720h0m0s"},
		{"duration too long", "    model: m\n    duration: 2000000h\n", "t.yaml:5: suites.a.duration: 2000000h0m0s is longer than 720h0m0s"},
		{"nightly duration too long", "    model: m\n    duration:\n      pr: 1m\n      nightly: 2000000h\n", "t.yaml:7: suites.a.duration.nightly: 2000000h0m0s is longer"},
		{"zero duration", "    model: m\n    duration: { pr: 0s }\n", "t.yaml:5: suites.a.duration.pr: 0s is not positive"},
		{"zero interval", "    model: m\n    interval: 0s\n", "t.yaml:5: suites.a.interval: 0s is not positive"},
		{"interval longer than duration", "    model: m\n    duration: { pr: 2s, nightly: 1h }\n    interval:\n      pr: 5s\n", "t.yaml:7: suites.a.interval.pr: 5s is longer than the pr duration 2s"},
		{"one interval longer than a duration", "    model: m\n    duration: { pr: 2s, nightly: 1h }\n    interval: 5s\n", "t.yaml:6: suites.a.interval: 5s is longer than the pr duration 2s"},
		{"negative iterations", "    model: m\n    iterations: -1\n", "t.yaml:5: suites.a.iterations: -1 is negative"},
		{"mode", "    model: m\n    mode: burst\n", `t.yaml:5: suites.a.mode: "burst" (want closed or open)`},
		{"open without rate", "    model: m\n    mode: open\n", "t.yaml:3: suites.a.rate: required with mode: open"},
		{"rate", "    model: m\n    mode: open\n    rate: fast\n", `t.yaml:6: suites.a.rate: "fast": want a positive rate`},
		{"rate beyond the loop", "    model: m\n    mode: open\n    rate: 1e9/s\n", "t.yaml:6: suites.a.rate: open loop: rate 1e+09/s is above"},
		{"deadline beyond the histogram", "    model: m\n    mode: open\n    rate: 30\n    deadline: 2h\n", "t.yaml:7: suites.a.deadline: 2h0m0s is above the longest latency"},
		{"zero deadline", "    model: m\n    mode: open\n    rate: 30\n    deadline: 0s\n", "t.yaml:7: suites.a.deadline: 0s is not positive"},
		{"overrun", "    model: m\n    mode: open\n    rate: 30/s\n    overrun: skip\n", `t.yaml:7: suites.a.overrun: "skip" (want queue or drop)`},
		{"open-loop keys in closed mode", "    model: m\n    deadline: 33ms\n", "t.yaml:5: suites.a.deadline: applies to mode: open only"},
		{"input", "    model: m\n    inputs:\n      x: { shape: [1, 0], fill: zeros }\n", `t.yaml:6: suites.a.inputs.x: "x=1x0:zeros"`},
		{"synthetic spec", "    backend: synthetic\n    synthetic: \"lognormal:median=1ms\"\n", `t.yaml:5: suites.a.synthetic: "lognormal:median=1ms": lognormal: missing sigma=`},
		{"model with synthetic", "    backend: synthetic\n    model: m\n", "t.yaml:5: suites.a.model: does not apply to backend synthetic"},
		{"backend", "    backend: tflite\n", `t.yaml:4: suites.a.backend: "tflite" (want ort, synthetic or exec)`},
		{"exec without worker", "    backend: exec\n", "t.yaml:3: suites.a.worker: required for the exec backend"},
		{"exec worker quoting", "    backend: exec\n    worker: \"node 'w.js\"\n", "t.yaml:5: suites.a.worker: "},
		{"exec with inputs", "    backend: exec\n    worker: w\n    inputs:\n      x: { shape: [1], fill: zeros }\n", "t.yaml:6: suites.a.inputs: does not apply to backend exec"},
		{"worker without exec", "    model: m\n    worker: w\n", "t.yaml:5: suites.a.worker: applies to backend exec only"},
		{"model missing", "    threads: 1\n", "t.yaml:3: suites.a.model: required for the ort backend"},
		{"runtime pin", "    backend: exec\n    worker: w\npins:\n  HailoRT: \"4.20.*\"\n", "t.yaml:7: pins.HailoRT: not a pin tailgate knows"},
		{"runtime pin glob", "    backend: exec\n    worker: w\npins:\n  hailort: \"4.[20\"\n", `t.yaml:7: pins.hailort: "4.[20" is not a version glob`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suite := "a"
			if strings.Contains(tc.name, "suite name") {
				suite = "../x"
			}
			_, err := Parse("t.yaml", []byte("version: 1\nsuites:\n  "+suite+":\n"+tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not contain %q:\n%v", tc.want, err)
			}
		})
	}
}

// TestEveryProblemAtOnce: five problems of one config, in two suites, are all reported by one
// Parse, each at its own line.
func TestEveryProblemAtOnce(t *testing.T) {
	_, err := Parse("t.yaml", []byte(`version: 1
suites:
  a:
    model: m
    threads: 100000
    sched: fifo:200
    thresholds: ["p101 < +5%"]
  b:
    backend: synthetic
    duration: 2000000h
    cpus: [1, 1]
`))
	if err == nil {
		t.Fatal("accepted")
	}
	want := []string{"t.yaml:5: suites.a.threads:", "t.yaml:6: suites.a.sched:", "t.yaml:7: suites.a.thresholds:",
		"t.yaml:10: suites.b.duration:", "t.yaml:11: suites.b.cpus:"}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%v", w, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("%d problems, want %d:\n%v", n, len(want), err)
	}
}

// TestLoadRefusesBadNightlyRule: a nightly suite's malformed rule stops Load, so `tailgate ci`
// refuses the config in milliseconds rather than after six hours of measuring.
func TestLoadRefusesBadNightlyRule(t *testing.T) {
	start := time.Now()
	_, err := Load("testdata/bad-nightly-rule.yaml")
	if err == nil {
		t.Fatal("accepted")
	}
	if want := `testdata/bad-nightly-rule.yaml:10: suites.nightly-vision.thresholds: "p101 < +5%"`; !strings.Contains(err.Error(), want) {
		t.Errorf("error does not contain %q:\n%v", want, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Load took %s", d)
	}
}
