package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestReportWCETGolden pins what `report --format json` and `wcet --format json` (GEV and GPD,
// default bootstrap) print for a small pair, so that computing them from streamed summaries and
// refitting the bootstrap in parallel is seen to change no number.
func TestReportWCETGolden(t *testing.T) {
	set := func(s *resulttest.Synthetic) { s.Intervals, s.PerInterval, s.Sigma = 120, 400, 0.1 }
	base := synthResult(t, 0, 1e6, "", set)
	cand := synthResult(t, 1, 1.1e6, "", set)
	tail := writeWCETResult(t, "tail", gatetest.Spec{Suite: "synth", Intervals: 150, PerIv: 500, Seed: 7, Process: expProcess})
	mask := func(s string) []byte {
		return []byte(strings.NewReplacer(base, "BASE", cand, "CAND", tail, "TAIL", version, "VERSION").Replace(s))
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"report.json", []string{"report", base, cand, "--format", "json", "--threshold", "p99 < +5%", "--threshold", "pwcet(1e-6) < 5ms"}},
		{"wcet_gev.json", []string{"wcet", tail, "--format", "json"}},
		{"wcet_gpd.json", []string{"wcet", tail, "--format", "json", "--method", "gpd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != exitPass && code != exitRegression && code != exitInconclusive {
				t.Fatalf("exit %d: %s", code, errs)
			}
			golden.Check(t, filepath.Join("testdata", "golden16", tc.name), mask(out))
		})
	}
}
