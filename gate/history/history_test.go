package history

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/changepoint"
)

// series generates n nights whose quantiles follow level(i) (1 ms scale) with 0.5 % noise; p99
// and p99.9 sit at fixed multiples of p50.
func series(seed uint64, n int, level func(i int) float64) []Night {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([]Night, n)
	for i := range out {
		v := 1e6 * level(i)
		noise := func() float64 { return 1 + 0.005*rng.NormFloat64() }
		out[i] = Night{P50: int64(v * noise()), P99: int64(1.07 * v * noise()), P999: int64(1.1 * v * noise())}
	}
	return out
}

func TestChanges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level func(i int) float64
		// steps are the nights where every metric should move, in order.
		steps []int
		creep bool
	}{
		{"flat", func(int) float64 { return 1 }, nil, false},
		{"step +8% at night 40", func(i int) float64 { return 1 + 0.08*float64(min(max(i-39, 0), 1)) }, []int{40}, false},
		{"creep +0.3% a night", func(i int) float64 { return 1 + 0.003*float64(i) }, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := changepoint.Options{Seed: DefaultSeed}
			nights := series(1, 60, tc.level)
			changes, err := Changes(nights, opt)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(changes); i++ {
				if changes[i].Night < changes[i-1].Night {
					t.Fatalf("changes not in night order: %+v", changes)
				}
			}
			steps := Steps(changes)
			creeps, err := Creeps(nights, changes, opt)
			if err != nil {
				t.Fatal(err)
			}
			if tc.creep {
				// A steady climb is a drift of every metric over all the nights, not a step.
				if len(changes) != 0 {
					t.Errorf("creep read as change points %+v", changes)
				}
				if len(creeps) != 3 {
					t.Fatalf("creeps %+v, want one per metric", creeps)
				}
				for _, c := range creeps {
					if c.Faster || c.Moves != 0 || c.Start != 0 || c.End != 59 || c.PValue > changepoint.DefaultAlpha || !(c.Shift() > 0.12 && c.Shift() < 0.24) {
						t.Errorf("creep %+v: want an upward drift over nights 0..59 of about +18%%", c)
					}
				}
				return
			}
			if len(creeps) != 0 {
				t.Errorf("creeps = %+v, want none", creeps)
			}
			var at []int
			for _, s := range steps {
				at = append(at, s.Night)
				var names []string
				for _, c := range s.Changes {
					names = append(names, c.Metric)
				}
				if want := []string{"p50", "p99", "p99.9"}; !reflect.DeepEqual(names, want) {
					t.Errorf("night %d moved %v, want %v", s.Night, names, want)
				}
			}
			if !reflect.DeepEqual(at, tc.steps) {
				t.Errorf("steps at nights %v, want %v", at, tc.steps)
			}
		})
	}
}

func TestStepsAndCreeps(t *testing.T) {
	changes := []Change{
		{Metric: "p50", Night: 10, Shift: 0.05, Before: 100, After: 105},
		{Metric: "p99", Night: 10, Shift: 0.05, Before: 200, After: 210},
		{Metric: "p50", Night: 20, Shift: 0.04, Before: 105, After: 109.2},
		{Metric: "p99", Night: 30, Shift: -0.1, Before: 210, After: 189},
		{Metric: "p99.9", Night: 30, Shift: -0.1, Before: 300, After: 270},
		{Metric: "p99.9", Night: 40, Shift: -0.1, Before: 270, After: 243},
	}
	steps := Steps(changes)
	var nights []int
	for _, s := range steps {
		nights = append(nights, s.Night)
	}
	if want := []int{10, 20, 30, 40}; !reflect.DeepEqual(nights, want) {
		t.Errorf("steps at %v, want %v", nights, want)
	}
	if n := len(steps[0].Changes); n != 2 {
		t.Errorf("night 10 has %d changes, want 2", n)
	}
	// p50 crept up twice; p99 went up then down (no creep); p99.9 crept down twice.
	// Flat nights: no drift, so the creep is the moves'.
	flat := make([]Night, 50)
	for i := range flat {
		flat[i] = Night{P50: 1e6, P99: 1.1e6, P999: 1.2e6}
	}
	creeps, err := Creeps(flat, changes, changepoint.Options{Seed: DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	want := []Creep{{Metric: "p50", Moves: 2, Start: 10, End: 20, From: 100, To: 109.2}, {Metric: "p99.9", Moves: 2, Start: 30, End: 40, Faster: true, From: 300, To: 243}}
	if !reflect.DeepEqual(creeps, want) {
		t.Fatalf("creeps = %+v, want %+v", creeps, want)
	}
	if got := creeps[1].Shift(); math.Abs(got-(-0.19)) > 1e-12 {
		t.Errorf("shift = %v, want -0.19", got)
	}
}

// TestSeasonExcursionThenCreep is the season test's history: +30 % over nights 10..15, then
// +1 % a night from night 40 to the end. The creep used to wipe out the steps (the whole
// history was judged a line) and was not reported either.
func TestSeasonExcursionThenCreep(t *testing.T) {
	level := func(i int) float64 {
		v := 1.0
		if i >= 10 && i < 16 {
			v = 1.3
		}
		return v * (1 + 0.01*float64(max(i-39, 0)))
	}
	for seed := uint64(1); seed <= 3; seed++ {
		nights := series(seed, 59, level)
		opt := changepoint.Options{Seed: DefaultSeed}
		changes, err := Changes(nights, opt)
		if err != nil {
			t.Fatal(err)
		}
		var at []int
		for _, s := range Steps(changes) {
			at = append(at, s.Night)
			if len(s.Changes) != 3 {
				t.Errorf("seed %d: night %d moved %+v, want every metric", seed, s.Night, s.Changes)
			}
		}
		if !reflect.DeepEqual(at, []int{10, 16}) {
			t.Errorf("seed %d: steps at nights %v, want [10 16]", seed, at)
		}
		creeps, err := Creeps(nights, changes, opt)
		if err != nil {
			t.Fatal(err)
		}
		if len(creeps) != 3 {
			t.Fatalf("seed %d: creeps %+v, want one per metric", seed, creeps)
		}
		for _, c := range creeps {
			if c.Moves != 0 || c.Faster || c.Start < 36 || c.Start > 42 || c.End != 58 || !(c.Shift() > 0.12 && c.Shift() < 0.26) {
				t.Errorf("seed %d: creep %+v, want a drift from about night 40 to 58 of about +19%%", seed, c)
			}
		}
	}
}

// TestGatedQuantileChanges: a quantile only a rule gates (p90, recorded from night 5 on, when
// the rule was added, and missing on night 20) is analysed over the nights that hold it: a tail-only change that moves
// p90 threefold and leaves p50, p99 and p99.9 alone is found at its night.
func TestGatedQuantileChanges(t *testing.T) {
	nights := series(3, 60, func(int) float64 { return 1 })
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 5; i < len(nights); i++ {
		v := 1.02e6
		if i >= 25 && i < 31 {
			v *= 3
		}
		nights[i].Gated = map[string]int64{"p90": int64(v * (1 + 0.005*rng.NormFloat64()))}
	}
	nights[20].Gated = nil // a night whose rule gave no estimate
	if got := MetricsOf(nights); len(got) != 4 || got[3].Name != "p90" {
		t.Fatalf("MetricsOf: %v metrics, want p50, p99, p99.9, p90", len(got))
	}
	changes, err := Changes(nights, changepoint.Options{Seed: DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	var at []int
	for _, c := range changes {
		if c.Metric != "p90" {
			t.Errorf("change in %s at night %d: only p90 moved", c.Metric, c.Night)
			continue
		}
		at = append(at, c.Night)
	}
	if !reflect.DeepEqual(at, []int{25, 31}) {
		t.Errorf("p90 changes at nights %v, want [25 31]", at)
	}
	if _, err := Creeps(nights, changes, changepoint.Options{Seed: DefaultSeed}); err != nil {
		t.Fatal(err)
	}
}
