package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/gate"
)

// reportFigures parses an HTML report and returns each figure's id → data-series, failing
// unless every figure holds exactly one <svg>.
func reportFigures(t *testing.T, path string) (map[string]string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	figs := map[string]string{}
	var visit func(n *html.Node, fig string)
	svgs := map[string]int{}
	visit = func(n *html.Node, fig string) {
		if n.Type == html.ElementNode {
			get := func(k string) string {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch n.Data {
			case "figure":
				fig = get("data-plot")
				figs[fig] = get("data-series")
			case "svg":
				svgs[fig]++
			case "script", "link", "img":
				t.Errorf("report is not self-contained: <%s>", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c, fig)
		}
	}
	visit(doc, "")
	for f := range figs {
		if svgs[f] != 1 {
			t.Errorf("figure %s has %d <svg>, want 1", f, svgs[f])
		}
	}
	if svgs[""] != 0 {
		t.Errorf("%d <svg> outside figures", svgs[""])
	}
	return figs, string(b)
}

func TestReportComparison(t *testing.T) {
	set40 := func(s *resulttest.Synthetic) { s.Intervals, s.PerInterval = 40, 500 }
	base := synthResult(t, 0, 1e6, "", set40)
	cand := synthResult(t, 1, 1.3e6, "", set40)
	out := t.TempDir()
	page, pngs := filepath.Join(out, "report.html"), filepath.Join(out, "png")
	code, stdout, stderr := runTailgate(t, nil, "report", base, cand, "--html", page, "--png", pngs, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep gate.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, stdout)
	}
	if rep.Verdict != gate.VerdictRegression {
		t.Errorf("a 30%% slower candidate: verdict %s", rep.Verdict)
	}
	figs, text := reportFigures(t, page)
	want := map[string]string{
		"percentiles":        "baseline:", // point counts depend only on the sample count
		"timeline-baseline":  "max:40 p99:40 p50:40 temperature:40",
		"timeline-candidate": "max:40 p99:40 p50:40 temperature:40",
		"exceedance":         "observed:",
	}
	for id, w := range want {
		if got, ok := figs[id]; !ok || !strings.HasPrefix(got, w) {
			t.Errorf("figure %s: data-series %q, want prefix %q", id, got, w)
		}
	}
	if len(figs) != len(want) {
		t.Errorf("figures %v, want %d", figs, len(want))
	}
	for _, s := range []string{`id="verdict">regression`, "latency by percentile", "Ljung-Box", "p99"} {
		if !strings.Contains(text, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	for id := range want {
		b, err := os.ReadFile(filepath.Join(pngs, id+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("%s.png: %v", id, err)
		}
	}

	// The same comparison saved as JSON renders without recomputing.
	cmp := filepath.Join(out, "cmp.json")
	if err := os.WriteFile(cmp, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	page2 := filepath.Join(out, "from-json.html")
	if code, _, stderr := runTailgate(t, nil, "report", cmp, "--html", page2, "--no-wcet"); code != 0 {
		t.Fatalf("report COMPARISON.json: exit %d: %s", code, stderr)
	}
	figs2, text2 := reportFigures(t, page2)
	if _, ok := figs2["exceedance"]; ok || len(figs2) != 3 || !strings.Contains(text2, `id="verdict">regression`) {
		t.Errorf("from JSON with --no-wcet: figures %v", figs2)
	}
}

func TestReportSingleResultWithTrend(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	args := []string{"baseline", "add", "--store", store, "--nightly", "--verdict", "pass"}
	var last string
	for i := range 16 {
		median := 1e6
		if i >= 10 {
			median = 1.15e6
		}
		last = synthResult(t, i, median, "", nil)
		args = append(args, last)
	}
	if code, _, stderr := runTailgate(t, nil, args...); code != 0 {
		t.Fatalf("baseline add: exit %d: %s", code, stderr)
	}
	page := filepath.Join(t.TempDir(), "r.html")
	code, _, stderr := runTailgate(t, nil, "report", last, "--store", store, "--html", page, "--no-wcet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	figs, text := reportFigures(t, page)
	if got := figs["trend"]; got != "p99.9:16 p99:16 p50:16 changes:1" {
		t.Errorf("trend data-series %q, want 16 nights and one change", got)
	}
	if got := figs["percentiles"]; !strings.HasPrefix(got, "candidate:") || strings.Contains(got, "baseline") {
		t.Errorf("single result percentiles %q", got)
	}
	// No baseline was promoted: the page says so and shows no verdict.
	if strings.Contains(text, `id="verdict"`) || !strings.Contains(text, "no baseline") {
		t.Error("a report without a baseline must show no verdict and say why")
	}
}

func TestReportUsageErrors(t *testing.T) {
	dir := synthResult(t, 0, 1e6, "", nil)
	code, _, stderr := runTailgate(t, nil, "report", dir, "--format", "html", "--wcet-method", "weibull", "--nights", "-1")
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	for _, w := range []string{`--format "html"`, `--wcet-method "weibull"`, "--nights -1"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q (all errors at once):\n%s", w, stderr)
		}
	}
	code, _, stderr = runTailgate(t, nil, "report", dir)
	if code != exitError || !strings.Contains(stderr, "nothing to write") {
		t.Errorf("no output flag: exit %d: %s", code, stderr)
	}
	code, _, stderr = runTailgate(t, nil, "report", filepath.Join(dir, "missing"), "--html", filepath.Join(t.TempDir(), "x.html"))
	if code != exitError || !strings.Contains(stderr, "candidate") {
		t.Errorf("missing result: exit %d: %s", code, stderr)
	}
}
