package publish_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

func gateReport(t *testing.T, scale float64, mutEnv func(*gatetestEnv)) *gate.Report {
	t.Helper()
	proc := func(s float64) gatetest.Process {
		return gatetest.Tail(gatetest.Lognormal(1e6, 0.05), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), s))
	}
	env := gatetest.Env()
	if mutEnv != nil {
		mutEnv(&env)
	}
	base := gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "vision", Intervals: 30, PerIv: 1000, Seed: 1, Process: proc(1)})
	cand := gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "vision", Intervals: 30, PerIv: 1000, Seed: 2, Process: proc(scale), Env: &env})
	rules, err := gate.ParseRules(gate.FlagRules([]string{"p50 < +5%", "p99 < +5%", "max < 40ms", "p99.99 < +5%"}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gate.CompareResults(base, cand, rules, gate.Options{Tool: gate.Tool{Name: "tailgate", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

type gatetestEnv = result.Fingerprint

func TestFromGateReport(t *testing.T) {
	t.Run("regression", func(t *testing.T) {
		rep := gateReport(t, 1.4, func(e *gatetestEnv) { e.ModelSHA256 = "cd34"; e.GoVersion = "go1.26.9" })
		s := publish.FromReport(rep, render.Markdown(rep, render.MarkdownLimit))
		if s.Name != "vision" || s.Verdict != "regression" || s.Code() != publish.ExitRegression {
			t.Fatalf("suite %s verdict %s code %d", s.Name, s.Verdict, s.Code())
		}
		if s.Headline != rep.Headline || s.BaselineSamples != rep.Baseline.Samples || s.CandidateSamples != rep.Candidate.Samples {
			t.Errorf("headline/samples not carried: %+v", s)
		}
		if len(s.Rules) != len(rep.Rules) {
			t.Fatalf("%d rows, want %d", len(s.Rules), len(rep.Rules))
		}
		var failed bool
		for i, l := range s.Rules {
			if rep.Rules[i].Verdict == gate.RuleRegression {
				failed = true
				if l.Verdict != publish.RuleFail || !strings.Contains(l.Change, "[") || !strings.Contains(l.Change, "limit") {
					t.Errorf("regressed row %+v: want fail with its interval and limit", l)
				}
			}
		}
		if !failed {
			t.Error("no regressed rule in a 1.4× tail")
		}
		want := []string{"go_version: go1.26.8 → go1.26.9", "model_sha256: ab12 → cd34"}
		if strings.Join(s.EnvChanges, "|") != strings.Join(want, "|") {
			t.Errorf("env changes %q, want %q", s.EnvChanges, want)
		}
	})
	t.Run("incomparable names the pins", func(t *testing.T) {
		rep := gateReport(t, 1, func(e *gatetestEnv) { e.KernelRelease = "6.6.51-v8+" })
		s := publish.FromReport(rep, "")
		if s.Verdict != "incomparable" || s.Code() != publish.ExitIncomparable {
			t.Fatalf("verdict %s code %d", s.Verdict, s.Code())
		}
		if !strings.Contains(strings.Join(s.EnvChanges, "|"), "kernel_release: 6.12.25-rt-v8+ → 6.6.51-v8+") {
			t.Errorf("env changes %q lack the kernel", s.EnvChanges)
		}
	})
}

func TestReadReport(t *testing.T) {
	rep := gateReport(t, 1, nil)
	var b bytes.Buffer
	if err := render.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := publish.ReadReport(good)
	if err != nil || got.Suite != "vision" || got.Verdict != rep.Verdict {
		t.Fatalf("read back %+v, %v", got, err)
	}
	for _, tc := range []struct{ name, body, errHas string }{
		{"not json", "{", "bad.json"},
		{"future schema", `{"schema":99,"suite":"a","verdict":"pass"}`, "schema 99"},
		{"empty", `{"schema":1}`, "no suite; no verdict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := publish.ParseReport("bad.json", []byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %v, want %q", err, tc.errHas)
			}
		})
	}
	if _, err := publish.ReadReport(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseReport(f *testing.F) {
	f.Add([]byte(`{"schema":1,"suite":"a","verdict":"pass","rules":[{"rule":"p99 < +5%","verdict":"regression","ratio":1.1,"ratio_lo":1.05,"ratio_hi":1.2}]}`))
	f.Add([]byte(`{"schema":1,"suite":"a","verdict":"bogus","baseline":{"samples":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := publish.ParseReport("fuzz", b)
		if err != nil {
			return
		}
		s := publish.FromReport(rep, "")
		// Whatever the report says, a verdict that is not a pass never maps to exit 0.
		if rep.Verdict != gate.VerdictPass && s.Code() == publish.ExitPass {
			t.Fatalf("verdict %q published as a pass", rep.Verdict)
		}
		in := publish.Input{Config: "c", Suites: []publish.Suite{s}}
		if body := publish.RenderComment(in, publish.RenderOptions{Limit: 4096}); len(body) > 4096 {
			t.Fatalf("body of %d bytes over the limit", len(body))
		}
	})
}
