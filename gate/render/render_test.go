package render_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/render"
)

var update = golden.Update

func body(tailScale float64) gatetest.Process {
	return gatetest.Tail(gatetest.Lognormal(1e6, 0.05), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), tailScale))
}

// reports returns the reports the goldens render. They are inputs kept under testdata
// (*.input.json) so that the goldens change only when rendering does; -update rebuilds them
// from seeded synthetic results through the real gate.
func reports(t *testing.T) map[string]*gate.Report {
	t.Helper()
	names := []string{"regression", "incomparable", "inconclusive"}
	if *update {
		out := compared(t)
		for _, n := range names {
			var b bytes.Buffer
			if err := render.JSON(&b, out[n]); err != nil {
				t.Fatal(err)
			}
			goldenFile(t, n+".input.json", b.Bytes())
		}
	}
	out := map[string]*gate.Report{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n+".input.json"))
		if err != nil {
			t.Fatalf("%v (go test ./gate/render -update creates it)", err)
		}
		var rep gate.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		out[n] = &rep
	}
	return out
}

// compared runs the real comparisons behind the golden inputs, with directories replaced by
// stable names.
func compared(t *testing.T) map[string]*gate.Report {
	t.Helper()
	base := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 40, PerIv: 2000, Seed: 1, Process: body(1)})
	slow := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 40, PerIv: 2000, Seed: 2, Process: body(1.2)})
	env := gatetest.Env()
	env.KernelRelease, env.ORTVersion = "6.6.51-v8+", "1.29.0"
	moved := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 40, PerIv: 2000, Seed: 2, Process: body(1), Env: &env})
	short := gatetest.Write(t, t.TempDir(), gatetest.Spec{Intervals: 2, PerIv: 1000, Seed: 3, Process: body(1),
		Health: &result.Health{Healthy: false, Reasons: []string{"under-voltage detected (bit 0)"}}})
	tool := gate.Tool{Name: "tailgate", Version: "v0.1.0-test"}
	cases := map[string]struct {
		base, cand *result.Result
		rules      []string
		opts       gate.Options
	}{
		"regression":   {base, slow, append(append([]string{}, gate.DefaultRules...), "max < 40ms", "miss(5ms) < 0.1%", "mean < +5%"), gate.Options{Tool: tool, DefaultRules: false, BetweenRun: map[string]float64{"p99": 0.01}}},
		"incomparable": {base, moved, gate.DefaultRules, gate.Options{Tool: tool, DefaultRules: true}},
		"inconclusive": {base, short, []string{"p99.99 < +5%", "p99 < 20ms", "pwcet(1e-9) < 50ms"}, gate.Options{Tool: tool}},
	}
	out := map[string]*gate.Report{}
	for name, c := range cases {
		rs, err := gate.ParseRules(gate.FlagRules(c.rules))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := gate.CompareResults(c.base, c.cand, rs, c.opts)
		if err != nil {
			t.Fatal(err)
		}
		rep.Baseline.Dir, rep.Candidate.Dir = "results/base", "results/"+name
		out[name] = rep
	}
	return out
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestGolden(t *testing.T) {
	for name, rep := range reports(t) {
		for _, f := range render.Formats {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := render.Write(&b, f, rep); err != nil {
					t.Fatal(err)
				}
				ext := map[render.Format]string{render.FormatTable: "txt", render.FormatMarkdown: "md", render.FormatJSON: "json"}[f]
				goldenFile(t, name+"."+ext, b.Bytes())
			})
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	rep := reports(t)["regression"]
	var b bytes.Buffer
	if err := render.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var back gate.Report
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back.Verdict != rep.Verdict || back.ExitCode != rep.ExitCode || len(back.Rules) != len(rep.Rules) || back.Schema != gate.ReportSchema {
		t.Errorf("round trip lost data: %+v", back)
	}
}

// TestMarkdownLimit: a gate with very many rules and long notes stays under the limit, cutting
// the details before the table and saying so.
func TestMarkdownLimit(t *testing.T) {
	rep := reports(t)["regression"]
	many := *rep
	many.Rules = nil
	for i := 0; i < 400; i++ {
		r := rep.Rules[i%len(rep.Rules)]
		r.Reason = strings.Repeat(fmt.Sprintf("reason %d ", i), 10)
		many.Rules = append(many.Rules, r)
	}
	cases := []struct {
		name  string
		limit int
		want  string
	}{
		{"details cut", 60000, "Details were cut"},
		{"rows cut", 8000, "rules shown to stay under"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full := render.Markdown(&many, 1<<30)
			if utf8.RuneCountInString(full) <= c.limit {
				t.Fatalf("the test report is only %d characters", utf8.RuneCountInString(full))
			}
			md := render.Markdown(&many, c.limit)
			if n := utf8.RuneCountInString(md); n > c.limit-render.MarkdownReserve {
				t.Errorf("%d characters, limit %d", n, c.limit-render.MarkdownReserve)
			}
			if !strings.Contains(md, c.want) {
				t.Errorf("no %q in the cut Markdown", c.want)
			}
			if !strings.Contains(md, strings.ReplaceAll(many.Headline, "<", "&lt;")) {
				t.Error("the headline was cut")
			}
		})
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := render.Write(&bytes.Buffer{}, "html", reports(t)["regression"])
	if err == nil || !strings.Contains(err.Error(), `unknown format "html"`) {
		t.Errorf("err = %v", err)
	}
}

// TestRenderRatioWithoutInterval: a relative rule whose run was too short for its
// autocorrelation has a ratio and no interval; every format renders it (it once crashed ci's
// comment).
func TestRenderRatioWithoutInterval(t *testing.T) {
	one := 1.3
	rep := &gate.Report{Suite: "s", Verdict: gate.VerdictInconclusive, Headline: "s inconclusive",
		Rules: []gate.RuleResult{{Rule: "p50 < +5% @ 0.99", Metric: "p50", Unit: "ns", Ratio: &one, Verdict: gate.RuleInconclusive,
			Reason: "run too short for its autocorrelation: need ≥ 112 intervals", LimitKind: "relative", Limit: "+5%"}}}
	for _, f := range []render.Format{render.FormatTable, render.FormatMarkdown, render.FormatJSON} {
		var b strings.Builder
		if err := render.Write(&b, f, rep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if f != render.FormatJSON && !strings.Contains(b.String(), "+30.0%") {
			t.Errorf("%s does not show the ratio:\n%s", f, b.String())
		}
	}
	if md := render.Markdown(rep, render.MarkdownLimit); !strings.Contains(md, "too short") {
		t.Errorf("Markdown lacks the reason:\n%s", md)
	}
}
