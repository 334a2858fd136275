package plan_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/plan"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name        string
		p, c        float64
		exceedances int64
		want        int64
		ok          bool
	}{
		{"p99", 99, 0.99, 0, 459, true},
		{"p99.9", 99.9, 0.99, 0, 4603, true},
		{"p99.99", 99.99, 0.99, 0, 46050, true},
		{"percentile out of range", 100, 0.99, 0, 0, false},
		{"negative exceedances", 99, 0.99, -1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := plan.New(tc.p, tc.c, tc.exceedances)
			if (err == nil) != tc.ok || (tc.ok && p.Samples != tc.want) {
				t.Errorf("New(%v, %v, %d) = %d, %v; want %d, ok=%v", tc.p, tc.c, tc.exceedances, p.Samples, err, tc.want, tc.ok)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan plan.Plan
		want []string
	}{
		{"no rate", plan.Plan{Percentile: 99, Confidence: 0.99, Samples: 459},
			[]string{"claim       p99 ≤ bound", "exceedances 0 (the bound is the run's maximum)", "samples     459\n"}},
		{"rate and exceedances", plan.Plan{Percentile: 99.99, Confidence: 0.99, Exceedances: 2, Samples: 46050, Rate: 30, RateFrom: "--rate 30/s"},
			[]string{"the 3rd-largest sample", "samples     46,050\n", "rate        30/s (--rate 30/s)", "duration    25m35s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.plan.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("text lacks %q:\n%s", w, b.String())
				}
			}
			if tc.plan.Rate == 0 && strings.Contains(b.String(), "duration") {
				t.Errorf("a duration without a rate:\n%s", b.String())
			}
		})
	}
}

func TestPilotRate(t *testing.T) {
	write := func(samples int64, span time.Duration) string {
		dir := t.TempDir()
		start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := result.WriteMeta(dir, &result.Meta{Suite: "s", Start: start, End: start.Add(span), Counts: result.Counts{Samples: samples, Intervals: 10}}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, tc := range []struct {
		name   string
		dir    string
		want   float64
		errHas string
	}{
		{"rate", write(10_000, 20*time.Second), 500, ""},
		{"no samples", write(0, time.Second), 0, "no rate"},
		{"missing", filepath.Join(t.TempDir(), "nope"), 0, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rate, from, err := plan.PilotRate(tc.dir)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want %q", err, tc.errHas)
				}
				return
			}
			if err != nil || rate != tc.want || !strings.Contains(from, "10000 samples over 20s") {
				t.Errorf("PilotRate = %v, %q, %v", rate, from, err)
			}
		})
	}
}

func TestFormatSeconds(t *testing.T) {
	for _, tc := range []struct {
		secs float64
		want string
	}{{9.21, "9.2s"}, {184.4, "3m4s"}, {4620, "1h17m"}, {1e12, "3.17e+04 years"}} {
		t.Run(tc.want, func(t *testing.T) {
			if got := plan.FormatSeconds(tc.secs); got != tc.want {
				t.Errorf("FormatSeconds(%v) = %q, want %q", tc.secs, got, tc.want)
			}
		})
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int64]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 112: "112th", 1001: "1,001st"} {
		t.Run(want, func(t *testing.T) {
			if got := plan.Ordinal(n); got != want {
				t.Errorf("Ordinal(%d) = %q, want %q", n, got, want)
			}
		})
	}
}
