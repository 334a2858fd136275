package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestReportAB: `tailgate report AB_RESULT` gates arm B against arm A as compare does and draws
// the page of the two arms with their pairing; its COMPARISON.json reports the same; an A/B
// result with a baseline, or a comparison of another design, is refused.
func TestReportAB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ab")
	gatetest.WriteAB(t, dir, gatetest.ABSpec{Rounds: 16, PerRound: 400, A: gatetest.Lognormal(1e6, 0.05),
		B: gatetest.Scale(gatetest.Lognormal(1e6, 0.05), 1.2), RoundSD: 0.08, RoundRho: 0.9, ArmSD: 0.003, Seed: 5})
	out := t.TempDir()
	page, pngs, cmp := filepath.Join(out, "ab.html"), filepath.Join(out, "png"), filepath.Join(out, "cmp.json")
	code, stdout, stderr := runTailgate(t, nil, "report", dir, "--html", page, "--png", pngs, "--threshold", "p50 < +5%", "--no-wcet", "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, `"design": "interleaved, 16 rounds"`) || !strings.Contains(stdout, `"verdict": "regression"`) {
		t.Errorf("comparison is not arm B against arm A, interleaved:\n%s", stdout)
	}
	figs, body := reportFigures(t, page)
	if figs["paired"] != "A:16 B:16 ratio:16" {
		t.Errorf("pairing figure series %q, want 16 rounds of A, B and their ratio (figures %v)", figs["paired"], figs)
	}
	for _, w := range []string{"interleaved A/B, 16 rounds", "arm A (baseline)", "arm B (candidate)", "a.onnx, threads 1", "b.onnx, threads 1", "gate: p50 +"} {
		if !strings.Contains(body, w) {
			t.Errorf("page does not say %q", w)
		}
	}
	for _, name := range []string{"paired", "percentiles", "timeline-baseline", "timeline-candidate"} {
		f, err := os.Open(filepath.Join(pngs, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s.png: %v", name, err)
		}
		f.Close()
	}
	if err := os.WriteFile(cmp, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	page2 := filepath.Join(out, "from-json.html")
	if code, _, stderr := runTailgate(t, nil, "report", cmp, "--html", page2, "--no-wcet"); code != 0 {
		t.Fatalf("report COMPARISON.json of an A/B: exit %d\n%s", code, stderr)
	}
	if figs, _ := reportFigures(t, page2); figs["paired"] != "A:16 B:16 ratio:16" {
		t.Errorf("from COMPARISON.json: figures %v", figs)
	}

	single := synthResult(t, 0, 1e6, "", nil)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"with a baseline", []string{single, dir}, dir + " is an interleaved A/B result"},
		{"as the baseline", []string{dir, single}, dir + " is an interleaved A/B result"},
		{"with --store", []string{dir, "--store", t.TempDir()}, dir + " is an interleaved A/B result"},
		{"its comparison with a single run", []string{cmp, single}, "is a single run"},
		{"its comparison with BASE CAND", []string{cmp, single, single}, "interleaved A/B comparison"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runTailgate(t, nil, append([]string{"report", "--html", filepath.Join(t.TempDir(), "x.html")}, c.args...)...)
			if code != exitError || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, want 2 saying %q:\n%s", code, c.want, stderr)
			}
		})
	}
}
