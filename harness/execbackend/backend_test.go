package execbackend_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/execbackend/workertest"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// The test binary is its own worker (workertest.Main): the stand-ins for every fault.
func TestMain(m *testing.M) {
	workertest.Main()
	os.Exit(m.Run())
}

func worker(mode string) execbackend.Options {
	return execbackend.Options{Command: []string{os.Args[0]}, Env: []string{workertest.Env + "=" + mode},
		HandshakeTimeout: time.Second, RequestTimeout: 300 * time.Millisecond}
}

func TestRoundTrips(t *testing.T) {
	b, err := execbackend.Open(worker("device"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r := b.Ready()
	if r.Runtime != "fake" || r.Version != "1.2.3" || strings.Join(r.Classes, ",") != "small,large" {
		t.Fatalf("ready %+v", r)
	}
	if r.Device != "env:" {
		t.Errorf("device %q: the worker saw a GITHUB_TOKEN it was not given", r.Device)
	}
	for i := 1; i <= 5; i++ {
		if err := b.Run(i % 2); err != nil {
			t.Fatal(err)
		}
		if got := b.DeviceNs(); got != int64(1000*i) {
			t.Fatalf("request %d: device ns %d, want %d", i, got, 1000*i)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRunDoesNotAllocate: Run is the timed call.
func TestRunDoesNotAllocate(t *testing.T) {
	b, err := execbackend.Open(worker("echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a := testing.AllocsPerRun(1000, func() {
		if err := b.Run(0); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("Run allocates %.1f times per call", a)
	}
}

// TestFaults: every way a worker can fail is an error that says which, with its stderr tail,
// and leaves no process behind.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		mode, want string
		open       bool // the fault comes at Open
	}{
		{"exit", "exit status 3", true},
		{"silent", "no reply within 1s, the worker was killed", true},
		{"badhello", `ready line "hello, I am a worker" is not the protocol's JSON object`, true},
		{"errhello", "the worker could not start: model.hef: file not found", true},
		{"garbage", "garbage reply 48 54 54 50", false},
		{"die", "(worker exited: exit status 139)", false},
		{"hang", "no reply within 300ms, the worker was killed", false},
		{"fail", "the worker failed request 3: input tensor has the wrong shape", false},
	} {
		t.Run(c.mode, func(t *testing.T) {
			b, err := execbackend.Open(worker(c.mode))
			if err == nil {
				if c.open {
					b.Close()
					t.Fatal("Open succeeded")
				}
				for i := 0; i < 3 && err == nil; i++ {
					err = b.Run(0)
				}
				b.Close()
			} else if !c.open {
				t.Fatalf("Open: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if tail := map[string]string{"exit": "no such device", "die": "segfault in npu driver", "hang": "waiting for the NPU"}[c.mode]; tail != "" && !strings.Contains(err.Error(), "stderr ends:\n") || !strings.Contains(err.Error(), tail) {
				t.Errorf("error %v lacks the stderr tail %q", err, tail)
			}
		})
	}
}

func TestMissingCommand(t *testing.T) {
	_, err := execbackend.Open(execbackend.Options{Command: []string{"/nonexistent/worker"}})
	if err == nil || !strings.Contains(err.Error(), `worker "/nonexistent/worker" does not start`) {
		t.Fatalf("error %v", err)
	}
}

// TestPlacement: the worker runs where the timing thread does, and with its class.
func TestPlacement(t *testing.T) {
	allowed, err := sched.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	cpu := allowed[len(allowed)-1]
	o := worker("echo")
	o.CPUs = []int{cpu}
	b, err := execbackend.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(b.Pid(), &set); err != nil {
		t.Fatal(err)
	}
	if set.Count() != 1 || !set.IsSet(cpu) {
		t.Fatalf("worker affinity has %d CPUs, want only CPU %d", set.Count(), cpu)
	}
	o.Sched = sched.Policy{Kind: sched.Deadline, Runtime: time.Millisecond, Deadline: 2 * time.Millisecond, Period: 2 * time.Millisecond}
	if _, err := execbackend.Open(o); err == nil || !strings.Contains(err.Error(), "SCHED_DEADLINE") {
		t.Fatalf("deadline: %v", err)
	}
}

func TestCalibrateTransport(t *testing.T) {
	tr, err := execbackend.CalibrateTransport(execbackend.Options{Env: []string{workertest.Env + "=echo"}}, []string{os.Args[0]}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Samples != 2000 || tr.P50Ns <= 0 || tr.P99Ns < tr.P50Ns {
		t.Fatalf("transport %+v", tr)
	}
	if _, err := execbackend.CalibrateTransport(worker("device"), []string{os.Args[0]}, 10); err == nil || !strings.Contains(err.Error(), "is not the echo worker") {
		t.Fatalf("a non-echo worker: %v", err)
	}
}
