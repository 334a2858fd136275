package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// TestABWorkerArms runs interleaved A/Bs whose arms are worker processes (this test binary as
// `tailgate worker echo`, see TestMain) against each other and against an in-process fixture
// model, and checks the arms, meta.json's record of the workers and the verdict's shape.
func TestABWorkerArms(t *testing.T) {
	models, getenv := abEnv(t)
	echo := strings.Join(echoWorker(), " ")
	cases := []struct {
		name     string
		args     []string
		sessions int
		workers  [2]bool
		design   string
		analysis string
	}{
		{"echo against echo, 4 sessions", []string{"--worker-a", echo, "--worker-b", echo, "--sessions", "4"}, 4,
			[2]bool{true, true}, "interleaved, 4 session pairs of 8 rounds", "the session pair the unit of analysis (t on 3 df)"},
		{"echo against echo, 2 sessions", []string{"--worker-a", echo, "--worker-b", echo, "--sessions", "2"}, 2,
			[2]bool{true, true}, "interleaved, 2 session pairs of 8 rounds", "analysed per round"},
		{"model against echo", []string{"--model-a", filepath.Join(models, "vision-fp32.onnx"), "--worker-b", echo}, 1,
			[2]bool{false, true}, "interleaved, 8 rounds", "in one process"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ab")
			args := append([]string{"ab", "--rounds", "8", "--round", "20ms", "--warmup", "20ms", "--out", dir, "--quiet"}, c.args...)
			code, stdout, stderr := runGetenv(t, getenv, args...)
			if code != 0 {
				t.Fatalf("ab: exit %d\n%s%s", code, stdout, stderr)
			}
			if warned := strings.Contains(stderr, "at least 4 fresh session pairs"); warned != (c.sessions < 4) {
				t.Errorf("%d sessions: warned %v that they are too few for worker arms: %s", c.sessions, warned, stderr)
			}
			r, err := result.Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			ab := r.Meta.AB
			if rounds := 8 * c.sessions; ab.Rounds != rounds || len(r.Log.Intervals) != 2*rounds || max(ab.Sessions, 1) != c.sessions {
				t.Fatalf("meta.ab %+v with %d intervals: want %d sessions of 8 rounds", ab, len(r.Log.Intervals), c.sessions)
			}
			for i, w := range c.workers {
				arm := ab.Arms[i]
				if got := arm.Worker == echo && arm.Runtime == "echo" && arm.Version != ""; got != w || arm.Samples == 0 {
					t.Errorf("arm %s: %+v: want worker %v with the handshake's runtime", arm.Name, arm, w)
				}
			}
			if ab.Arms[1].Worker != "" && r.Meta.Env.Backend != "exec" {
				t.Errorf("env backend %q: arm B is a worker", r.Meta.Env.Backend)
			}
			code, stdout, stderr = runGetenv(t, getenv, "compare", dir, "--threshold", "p50 < +1000%", "--format", "json")
			var rep struct {
				Design string `json:"design"`
				Notes  []string
			}
			// Eight rounds may make too few units for an interval: pass or inconclusive, never a fault.
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitPass && code != exitInconclusive {
				t.Fatalf("compare: exit %d %v\n%s%s", code, err, stdout, stderr)
			}
			if rep.Design != c.design || len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "worker") || !strings.Contains(rep.Notes[0], c.analysis) {
				t.Errorf("design %q, notes %q: want %q naming the worker and saying %q", rep.Design, rep.Notes, c.design, c.analysis)
			}
			// Each arm is gated with its own runtime: an in-process arm against a worker arm
			// differs in backend, which the report states rather than refuses.
			differ := slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.HasPrefix(n, "the arms differ in backend, runtime") })
			if differ != (c.workers[0] != c.workers[1]) {
				t.Errorf("notes %q: the arms' runtimes differ: %v", rep.Notes, c.workers[0] != c.workers[1])
			}
		})
	}
}

// TestABWorkerRefuses: an arm given both a model and a worker, or a worker that does not start,
// exits 2 naming the arm.
func TestABWorkerRefuses(t *testing.T) {
	models, getenv := abEnv(t)
	vision := filepath.Join(models, "vision-fp32.onnx")
	echo := strings.Join(echoWorker(), " ")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"model and worker", []string{"--model", vision, "--worker-a", echo}, []string{"--worker-a:", "arm A gets a model or a worker, not both"}},
		{"worker does not start", []string{"--model-a", vision, "--worker-b", filepath.Join(t.TempDir(), "no-such-worker")},
			[]string{"arm B:", "no-such-worker", "does not start"}},
		{"worker fails its handshake", []string{"--worker-a", echoWorker()[0] + " worker nonsense", "--worker-b", echo},
			[]string{"arm A:", "handshake"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			abRefused(t, getenv, append([]string{"--rounds", "8", "--round", "10ms", "--warmup", "0s"}, c.args...), c.want)
		})
	}
}
