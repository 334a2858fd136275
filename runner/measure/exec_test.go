package measure

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/execbackend/workertest"
)

// The test binary doubles as the exec backend's workers (workertest.Command).
func TestMain(m *testing.M) {
	workertest.Main()
	os.Exit(m.Run())
}

func execPlan(t *testing.T, mode string) *Plan {
	t.Helper()
	worker := strings.Join(workertest.Command(mode), " ")
	p, err := Resolve(Request{Overrides: Overrides{Backend: ptr("exec"), Worker: &worker, Iterations: ptr(int64(2000)),
		Warmup: ptr("0"), Interval: ptr(50 * time.Millisecond)}, Out: filepath.Join(t.TempDir(), "r")})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExecRun: a worker's run records its runtime, version and device, the device-side times
// beside the end-to-end ones, the transport calibration, and the worker sees no token.
func TestExecRun(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "ghp_must_not_reach_the_worker")
	p := execPlan(t, "device")
	m, err := Measure(context.Background(), p, Options{EchoWorker: workertest.Command("echo")})
	if err != nil {
		t.Fatal(err)
	}
	if m.Env.Device != "env:" {
		t.Fatalf("the worker saw GITHUB_TOKEN (device %q)", m.Env.Device)
	}
	if m.Env.Backend != "exec" || m.Env.Runtime != "fake" || m.Env.RuntimeVersion != "1.2.3" {
		t.Errorf("fingerprint %+v", m.Env)
	}
	if m.Counts.Samples != 2000 || len(m.Classes) != 2 {
		t.Errorf("samples %d, classes %v", m.Counts.Samples, m.Classes)
	}
	if m.DeviceTime == nil || m.DeviceTime.Count != 2000 || m.DeviceTime.Min != 1000 {
		t.Errorf("device time %+v", m.DeviceTime)
	}
	if c := m.Calibration; c.TransportP50Ns <= 0 || c.TransportP99Ns < c.TransportP50Ns {
		t.Errorf("transport calibration %+v", c)
	}
	if _, err := result.Read(p.Out); err != nil {
		t.Fatal(err)
	}
}

// TestExecWorkerDies: a worker that dies mid-run fails the run with its stderr tail, and the
// intervals timed before it died form a valid result.
func TestExecWorkerDies(t *testing.T) {
	p := execPlan(t, "die@1001")
	m, err := Measure(context.Background(), p, Options{})
	if err == nil || !strings.Contains(err.Error(), "segfault in npu driver") || !strings.Contains(err.Error(), "exit status 139") {
		t.Fatalf("error %v", err)
	}
	if m == nil || m.Counts.Samples != 1000 {
		t.Fatalf("meta %+v", m)
	}
	r, err := result.Read(p.Out)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Merged().TotalCount(); n != 1000 {
		t.Fatalf("log holds %d samples, want the 1000 timed", n)
	}
}

func TestResolveExec(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Overrides
		want string
	}{
		{"no worker", Overrides{Backend: ptr("exec")}, "worker: required with backend exec"},
		{"inputs", Overrides{Backend: ptr("exec"), Worker: ptr("w"), Inputs: &[]string{"x=1"}}, "input: does not apply to backend exec"},
		{"deadline", Overrides{Backend: ptr("exec"), Worker: ptr("w"), Sched: ptr("deadline:1ms/2ms/2ms")}, "sched: deadline does not apply to backend exec"},
		{"worker with ort", Overrides{Model: ptr("m.onnx"), Worker: ptr("w")}, "worker: applies to backend exec only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(Request{Overrides: c.o})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	p, err := Resolve(Request{Overrides: Overrides{Backend: ptr("exec"), Worker: ptr("node 'my worker.js' m.onnx"), CPUs: ptr("2,3")}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Worker, "|") != "node|my worker.js|m.onnx" || len(p.CPUs) != 2 || p.Suite != "exec" {
		t.Fatalf("plan %+v", p)
	}
}
