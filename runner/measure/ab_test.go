package measure_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/runner/measure"
)

func TestABSchedule(t *testing.T) {
	cases := []struct {
		name     string
		d, r     time.Duration
		k, want  int
		errorHas string
	}{
		{name: "duration in rounds", d: 30 * time.Second, r: time.Second, want: 30},
		{name: "default duration", r: time.Second, want: int(measure.DefaultABDuration / time.Second)},
		{name: "rounds given", r: 500 * time.Millisecond, k: 12, want: 12},
		{name: "both agree", d: 6 * time.Second, r: 500 * time.Millisecond, k: 12, want: 12},
		{name: "both disagree", d: 5 * time.Second, r: time.Second, k: 8, errorHas: "not the duration 5s"},
		{name: "cannot fit", d: 5 * time.Second, r: time.Second, errorHas: "cannot fit: 5 rounds of 1s"},
		{name: "not whole rounds", d: 10500 * time.Millisecond, r: time.Second, errorHas: "not a whole number of rounds"},
		{name: "negative round", d: 10 * time.Second, r: -time.Second, errorHas: "round -1s"},
		{name: "automatic round over a duration", d: 10 * time.Second, want: 0},
		{name: "automatic round, default duration", want: 0},
		{name: "automatic round, rounds given", k: 12, want: 12},
		{name: "automatic round, both given", d: 10 * time.Second, k: 12, errorHas: "not both"},
		{name: "automatic round, too short", d: time.Second, errorHas: "fewer than 8 rounds of at least 250ms"},
		{name: "automatic round, too few rounds", k: 5, errorHas: "5 rounds; the paired analysis needs at least 8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := measure.ABSchedule(c.d, c.r, c.k)
			if c.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errorHas) {
					t.Fatalf("err = %v, want it to say %q", err, c.errorHas)
				}
				return
			}
			if err != nil || k != c.want {
				t.Fatalf("ABSchedule = %d, %v; want %d", k, err, c.want)
			}
		})
	}
}

// TestResolveAB: every problem at once, each named by its setting and arm.
func TestResolveAB(t *testing.T) {
	ok := measure.ABRequest{Models: [2]string{"a.onnx", "b.onnx"}, Threads: [2]int{1, 2}, GraphOpt: [2]string{"all", "disable"},
		Duration: 10 * time.Second, Round: time.Second, Online: []int{0, 1}}
	p, err := measure.ResolveAB(ok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rounds != 10 || p.Suite != "b" || p.Arms[1].GraphOpt != "disable" || p.Arms[1].Threads != 2 || !strings.HasPrefix(p.Out, "b-ab-") {
		t.Errorf("plan %+v", p)
	}
	bad := ok
	bad.Models[0], bad.Threads[1], bad.GraphOpt[1], bad.Inputs[0], bad.CPUs, bad.Duration = "", 9, "fast", []string{"x"}, "7", 3*time.Second
	_, err = measure.ResolveAB(bad)
	for _, want := range []string{"model-a: required", "threads-b: 9", "graph-opt-b: graph optimisation level \"fast\"", "input-a", "cpus: CPU 7 is not online", "rounds: the schedule cannot fit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
	workers := ok
	workers.Models[0], workers.Workers, workers.Inputs[0], workers.Sessions = "", [2]string{"node w.js 'a.onnx", "tailgate worker echo"}, []string{"x=1"}, -1
	_, err = measure.ResolveAB(workers)
	for _, want := range []string{"worker-a: ", "quote", "worker-b: arm B gets a model or a worker, not both", "input-a: does not apply to arm A's worker", "sessions: -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
	workers.Models[1], workers.Workers[0], workers.Inputs[0], workers.Sessions = "", "node w.js a.onnx", nil, 4
	if p, err = measure.ResolveAB(workers); err != nil || p.Sessions != 4 || p.Suite != "echo" || len(p.Arms[0].Worker) != 3 {
		t.Errorf("worker arms: plan %+v, err %v", p, err)
	}
}
