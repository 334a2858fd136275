package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestCompareStoreGolden pins the JSON comparison of a few pairs, each gated against the
// baseline promoted into a store (--store) and directly (BASE CAND), and what `baseline show`
// prints of the stored baseline: the verdicts and figures must not change with how a run is
// read (whole, or streamed out of the store).
func TestCompareStoreGolden(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	mk := func(name string, seed uint64, scale float64, night int) string {
		return gatetest.Write(t, filepath.Join(dir, name), gatetest.Spec{Suite: "synth", Intervals: 40, PerIv: 2000, Seed: seed,
			Process: tailProcess(scale), Start: time.Date(2026, 11, 20+night, 2, 0, 0, 0, time.UTC)}).Dir
	}
	base := mk("base", 1, 1, 0)
	// Three passing nights give the key a history, and so a between-run variance.
	for i, seed := range []uint64{11, 12, 13} {
		n := mk("night"+string(rune('a'+i)), seed, 1+0.01*float64(i), 1+i)
		if code, out, errs := runCLI(t, "baseline", "add", n, "--nightly", "--verdict", "pass", "--store", store); code != 0 {
			t.Fatalf("add: exit %d\n%s%s", code, out, errs)
		}
	}
	if code, out, errs := runCLI(t, "baseline", "promote", base, "--store", store, "--force", "--reason", "golden"); code != 0 {
		t.Fatalf("promote: exit %d\n%s%s", code, out, errs)
	}
	same := mk("same", 2, 1, 5)
	slow := mk("slow", 3, 1.2, 6)
	promoted := regexp.MustCompile(`"promoted_at": "[^"]*"`)
	mask := func(s string) string {
		return promoted.ReplaceAllString(strings.ReplaceAll(s, dir, "$TMP"), `"promoted_at": "TIME"`)
	}
	cases := []struct {
		name, cand string
		args       []string
		code       int
	}{
		{"pass", same, nil, 0},
		{"regression", slow, nil, 1},
		{"absolute_pwcet", same, []string{"--threshold", "p99 < +5%", "--threshold", "max < 40ms", "--threshold", "pwcet(1e-6) < 1s"}, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, how := range []struct {
				name string
				args []string
			}{{"store", []string{c.cand, "--store", store}}, {"dirs", []string{base, c.cand}}} {
				args := append(append([]string{"compare", "--format", "json"}, how.args...), c.args...)
				code, stdout, stderr := runCLI(t, args...)
				if c.code >= 0 && code != c.code {
					t.Errorf("%s: exit %d, want %d\n%s", how.name, code, c.code, stderr)
				}
				checkGolden(t, filepath.Join("compare", c.name+"_"+how.name+".json"), mask(stdout))
			}
		})
	}
	code, stdout, stderr := runCLI(t, "baseline", "show", "synth", "--store", store, "--format", "json")
	if code != 0 {
		t.Fatalf("show: exit %d\n%s", code, stderr)
	}
	checkGolden(t, filepath.Join("compare", "show_baseline.json"), mask(stdout))
	code, stdout, stderr = runCLI(t, "baseline", "show", "synth", "latest", "--store", store)
	if code != 0 {
		t.Fatalf("show latest: exit %d\n%s", code, stderr)
	}
	checkGolden(t, filepath.Join("compare", "show_latest.txt"), mask(stdout))
}
