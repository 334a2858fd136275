package harness

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRunAB: each round writes one interval per arm, tagged, in the recorded seeded order; both
// arms are warmed up and lose their first inferences after each switch; an arm that fails is
// named and the rounds before it stay written, whole.
func TestRunAB(t *testing.T) {
	cases := []struct {
		name    string
		failArm int   // 0 for none, else 1 (A) or 2 (B)
		failAt  int64 // the failing arm's run that errs (0: its first run after round 3)
		rounds  int
		err     string
	}{
		{name: "all rounds", rounds: 10},
		{name: "arm B fails mid-run", failArm: 2, rounds: 10, err: "arm B: round 3"},
		{name: "arm A fails in warm-up", failArm: 1, failAt: 3, rounds: 10, err: "arm A: warm-up"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arms := [2]*countBackend{{classes: []string{"default"}, runs: make([]int64, 1)},
				{classes: []string{"x", "y"}, runs: make([]int64, 2)}}
			if c.failArm > 0 {
				arms[c.failArm-1].failAt = c.failAt
			}
			sink := &memSink{}
			// OnRound runs on the timing thread between rounds: the failure lands in round 3
			// whatever the machine's speed.
			onRound := func(st RoundStats) {
				if c.failArm > 0 && c.failAt == 0 && st.Index == 2 {
					b := arms[c.failArm-1]
					b.failAt = b.total + 1
				}
			}
			rep, err := RunAB(arms[0], arms[1], ABOptions{Rounds: c.rounds, Round: 2 * time.Millisecond, Discard: 7, Seed: 3,
				Warmup: time.Millisecond, Calibration: -1, Sink: sink, OnRound: onRound})
			if c.err != "" {
				var ae *ArmError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want an ArmError containing %q", err, c.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if rep == nil {
				if len(sink.ivs) != 0 {
					t.Fatalf("no report but %d intervals written", len(sink.ivs))
				}
				return
			}
			if len(sink.ivs) != 2*rep.Rounds || len(rep.Order) != rep.Rounds {
				t.Fatalf("%d intervals, order %q for %d rounds: want two per round, whole", len(sink.ivs), rep.Order, rep.Rounds)
			}
			order := RoundOrder(c.rounds, 3)
			var logged [2]int64
			for k := range rep.Rounds {
				first, second := sink.ivs[2*k], sink.ivs[2*k+1]
				want := "AB"
				if order[k] {
					want = "BA"
				}
				if got := first.Tag + second.Tag; got != want || rep.Order[k] != want[0] {
					t.Errorf("round %d ran %s (order %q), want %s", k, got, rep.Order, want)
				}
				for _, iv := range []int{2 * k, 2*k + 1} {
					logged[strings.Index("AB", sink.ivs[iv].Tag)] += sink.ivs[iv].Hist.TotalCount()
				}
			}
			for i := range arms {
				if logged[i] != rep.Samples[i] || rep.Warmup[i] == 0 {
					t.Errorf("arm %d: logged %d, report %d samples, warm-up %d", i, logged[i], rep.Samples[i], rep.Warmup[i])
				}
				if d := rep.Discarded[i]; d < int64(7*rep.Rounds) || d > int64(7*(rep.Rounds+1)) {
					t.Errorf("arm %d discarded %d after %d rounds, want 7 per switch", i, d, rep.Rounds)
				}
			}
		})
	}
}

func TestRunABRefusesTooFewRounds(t *testing.T) {
	b := &countBackend{classes: []string{"default"}, runs: make([]int64, 1)}
	if _, err := RunAB(b, b, ABOptions{Rounds: MinRounds - 1, Sink: &memSink{}}); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Fatalf("err = %v, want the minimum of rounds", err)
	}
}

// TestAutoSchedule: the automatic round is the shortest of at least MinAutoRound in which the
// switch's discarded inferences take at most 1/SwitchBudget of it; a slow model gets shorter
// rounds rather than too few; the rounds fill the duration.
func TestAutoSchedule(t *testing.T) {
	cases := []struct {
		name      string
		d         time.Duration
		k         int
		lat       time.Duration
		w         int
		wantRound time.Duration
		wantK     int
	}{
		{"a sub-millisecond model: the shortest round", 30 * time.Second, 0, 700 * time.Microsecond, 5, 250 * time.Millisecond, 120},
		{"a 4-ms model: a 1-s round", 30 * time.Second, 0, 4 * time.Millisecond, 5, time.Second, 30},
		{"a slow model keeps 16 rounds", 30 * time.Second, 0, 100 * time.Millisecond, 5, 30 * time.Second / 16, 16},
		{"a short duration keeps rounds of at least 250ms", 3 * time.Second, 0, 100 * time.Millisecond, 5, 250 * time.Millisecond, 12},
		{"rounds given are kept", 0, 9, 4 * time.Millisecond, 5, time.Second, 9},
		{"no discard still budgets one inference", 30 * time.Second, 0, 10 * time.Millisecond, 0, 500 * time.Millisecond, 60},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, k := AutoSchedule(c.d, c.k, c.lat, c.w)
			if r != c.wantRound || k != c.wantK {
				t.Fatalf("AutoSchedule = %d rounds of %s, want %d of %s", k, r, c.wantK, c.wantRound)
			}
		})
	}
}

// TestRunABAutoRound: with no round given the run chooses one once the arms are warm, reports
// it, and splits the duration into that many whole rounds.
func TestRunABAutoRound(t *testing.T) {
	arms := [2]*countBackend{{classes: []string{"default"}, runs: make([]int64, 1)}, {classes: []string{"default"}, runs: make([]int64, 1)}}
	sink := &memSink{}
	rep, err := RunAB(arms[0], arms[1], ABOptions{Duration: 2 * time.Second, Calibration: -1, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Round != MinAutoRound || rep.Planned != 8 || rep.Rounds != 8 || len(sink.ivs) != 16 {
		t.Fatalf("%d of %d rounds of %s, %d intervals: want 8 rounds of %s", rep.Rounds, rep.Planned, rep.Round, len(sink.ivs), MinAutoRound)
	}
	if _, err := RunAB(arms[0], arms[1], ABOptions{Duration: time.Second, Sink: sink}); err == nil || !strings.Contains(err.Error(), "cannot hold 8 automatic rounds") {
		t.Errorf("1s in automatic rounds: err = %v", err)
	}
}
