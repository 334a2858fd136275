package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// writePilot writes a pilot result's meta.json: samples over span.
func writePilot(t *testing.T, samples int64, span time.Duration) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := &result.Meta{Suite: "vision-int8", Start: start, End: start.Add(span), Counts: result.Counts{Samples: samples, Intervals: 10}}
	if err := result.WriteMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPlan(t *testing.T) {
	pilot := writePilot(t, 10_000, 20*time.Second) // 500/s
	for _, tc := range []struct {
		name   string
		args   []string
		golden string
		want   []string // substrings of stdout
	}{
		{"p99", []string{"--quantile", "99", "--confidence", "0.99"}, "plan/p99.golden", []string{"samples     459\n"}},
		{"p99.9", []string{"--quantile", "99.9"}, "plan/p99.9.golden", []string{"samples     4,603\n"}},
		{"p99.99 at 30/s", []string{"--quantile", "99.99", "--rate", "30/s"}, "plan/p99.99-rate.golden", []string{"samples     46,050\n", "duration    25m35s"}},
		{"exceedances", []string{"--quantile", "99.9", "--exceedances", "10", "--rate", "1800/min"}, "plan/exceedances.golden", []string{"exceedances 10"}},
		{"pilot", []string{"--quantile", "99.9", "--pilot", pilot}, "", []string{"rate        500/s", "10000 samples over 20s", "duration    9.2s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTailgate(t, nil, append([]string{"plan"}, tc.args...)...)
			if code != exitPass {
				t.Fatalf("exit %d, stderr %s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tc.golden != "" {
				checkGolden(t, tc.golden, out)
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	empty := writePilot(t, 0, time.Second)
	for _, tc := range []struct {
		name string
		args []string
		want []string // every one must appear in stderr
	}{
		{"all flag errors at once", []string{"--quantile", "100", "--confidence", "1.5", "--exceedances", "-1", "--rate", "fast"},
			[]string{"--quantile 100", "--confidence 1.5", "--exceedances -1", `--rate: "fast"`}},
		{"rate and pilot", []string{"--rate", "30/s", "--pilot", missing}, []string{"--rate and --pilot"}},
		{"bad unit", []string{"--rate", "30/day"}, []string{`unit "day"`}},
		{"missing pilot", []string{"--pilot", missing}, []string{"--pilot", "nope"}},
		{"pilot without samples", []string{"--pilot", empty}, []string{"0 samples", "no rate"}},
		{"stray argument", []string{"results/x"}, []string{"unexpected arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runTailgate(t, nil, append([]string{"plan"}, tc.args...)...)
			if code != exitError {
				t.Fatalf("exit %d, want %d; stderr %s", code, exitError, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestPlanPilotScales reads a pilot's log: an independent (iid log-normal) pilot shows little
// variance inflation (its estimate rests on 8 blocks of 15 intervals, so it is noisy: about 50 %
// relative sd, and floored at 1), so the scaled count stays near MLPerf's, and the intervals its
// autocorrelation needs are MinBlocks blocks of a short length.
func TestPlanPilotScales(t *testing.T) {
	pilot := synthResult(t, 0, 2e6, "c0ffee", func(s *resulttest.Synthetic) { s.Intervals, s.PerInterval = 120, 500 })
	code, out, errOut := runTailgate(t, nil, "plan", "--quantile", "99", "--pilot", pilot)
	if code != exitPass {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	var vif float64
	var samples, intervals int64
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "inflation "):
			fmt.Sscan(strings.Fields(line)[1], &vif)
		case strings.HasPrefix(line, "samples ") && strings.Contains(line, "pilot's conditions"):
			fmt.Sscan(strings.ReplaceAll(strings.Fields(line)[1], ",", ""), &samples)
		case strings.HasPrefix(line, "intervals "):
			fmt.Sscan(strings.ReplaceAll(strings.Fields(line)[2], ",", ""), &intervals)
		}
	}
	if !(vif >= 1 && vif < 2.5) {
		t.Errorf("VIF %v of an iid pilot, want in [1, 2.5):\n%s", vif, out)
	}
	if samples < 459 || float64(samples) > 459*(vif+0.005)+1 { // VIF is printed to 3 digits
		t.Errorf("scaled samples %d, want 459 × VIF %.3g:\n%s", samples, vif, out)
	}
	if intervals < 8 || intervals > 8*4 {
		t.Errorf("intervals %d, want 8 blocks of a short length:\n%s", intervals, out)
	}
}
