package calib

import (
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/stats"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

// TestFalseAlarmsAndPower is the fast calibration: 60 A/A pairs of 20k-sample runs per process,
// judged on p99 at confidence 0.99, and 60 pairs each with a +20 % and a +40 % shift. At the nominal one-sided
// level of 0.5 % the significance test should alarm on about 0.3 of 60 A/A pairs; the bound
// of 3 fails if the intervals are badly too narrow (an iid interval on the autocorrelated
// process alarms on a third of them). The long version is `make calibrate`.
func TestFalseAlarmsAndPower(t *testing.T) {
	scs := []Scenario{
		{Name: "A/A p99 @ 20k", Stat: stats.P(99), Limit: 0.05, Conf: 0.99, Intervals: 50, PerIntvl: 400, Shift: 1},
		{Name: "+20% p99 @ 20k", Stat: stats.P(99), Limit: 0.05, Conf: 0.99, Intervals: 50, PerIntvl: 400, Shift: 1.2},
		{Name: "+40% p99 @ 20k", Stat: stats.P(99), Limit: 0.05, Conf: 0.99, Intervals: 50, PerIntvl: 400, Shift: 1.4},
	}
	cfg := Config{Pairs: 60, Seed: 1000, Options: stats.Options{Resamples: 1000}}
	outs, err := Run(cfg, synth.Processes, scs)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := Write(&sb, outs); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
	for _, o := range outs {
		t.Run(string(o.Process)+"/"+o.Scenario.Name, func(t *testing.T) {
			if o.Scenario.Shift == 1 {
				if o.Significant > 3 || o.Rule > 1 {
					t.Errorf("A/A: %d significant and %d rule alarms in %d pairs; want ≤ 3 and ≤ 1", o.Significant, o.Rule, o.Pairs)
				}
				return
			}
			// The autocorrelated process drifts by about 5 % between runs of this length and
			// 50 intervals leave 9 blocks: a +20 % shift is within what it does on its own, so
			// only +40 % must be caught, and three times in four.
			want := 0.9
			if o.Process == synth.AR1 {
				if o.Scenario.Shift < 1.4 {
					return
				}
				want = 0.75
			}
			if float64(o.Rule) < want*float64(o.Pairs) {
				t.Errorf("%s: rule detected %d of %d; want ≥ %.0f%%", o.Scenario.Name, o.Rule, o.Pairs, 100*want)
			}
		})
	}
}

func TestUpperLower(t *testing.T) {
	for _, tc := range []struct {
		k, n     int
		lo, hi   float64
		min, max float64
	}{
		{0, 200, 0, 0, 0.0148, 0.0150}, // the rule of three: ≈ 3/200
		{200, 200, 0.9850, 0.9852, 1, 1},
	} {
		if u := Upper(tc.k, tc.n); u < tc.min || u > tc.max {
			t.Errorf("Upper(%d, %d) = %v, want in [%v, %v]", tc.k, tc.n, u, tc.min, tc.max)
		}
		if l := Lower(tc.k, tc.n); l < tc.lo || l > tc.hi {
			t.Errorf("Lower(%d, %d) = %v, want in [%v, %v]", tc.k, tc.n, l, tc.lo, tc.hi)
		}
	}
}
