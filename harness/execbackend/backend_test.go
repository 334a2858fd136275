package execbackend

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tailgate-ci/tailgate/harness/sched"
)

// The test binary is its own worker: with TAILGATE_TEST_WORKER set it plays the worker that
// variable names instead of running the tests (the stand-ins for every fault of the protocol).
func TestMain(m *testing.M) {
	if mode := os.Getenv("TAILGATE_TEST_WORKER"); mode != "" {
		os.Exit(testWorker(mode))
	}
	os.Exit(m.Run())
}

func testWorker(mode string) int {
	if mode == "echo" {
		if err := Echo(0, 1); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "cannot open /dev/hailo0: no such device")
		return 3
	case "silent":
		time.Sleep(time.Hour)
	case "badhello", "errhello":
		fmt.Println(map[string]string{"badhello": "hello, I am a worker", "errhello": `{"worker":1,"error":"model.hef: file not found"}`}[mode])
		_, _ = io.Copy(io.Discard, os.Stdin) // until tailgate closes it
		return 0
	}
	var line [1]byte
	for line[0] != '\n' {
		if readFull(0, line[:]) != nil {
			return 1
		}
	}
	ready := Ready{Worker: 1, Runtime: "fake", Version: "1.2.3", Device: "env:" + os.Getenv("GITHUB_TOKEN"), Classes: []string{"small", "large"}}
	b, _ := json.Marshal(ready)
	os.Stdout.Write(append(b, '\n'))
	var req [RequestSize]byte
	var rep [ReplySize]byte
	for n := 1; ; n++ {
		if readFull(0, req[:]) != nil {
			return 0
		}
		rep[0] = opOK
		copy(rep[1:8], req[1:8])
		binary.LittleEndian.PutUint64(rep[8:], uint64(1000*n))
		switch {
		case mode == "garbage" && n == 3:
			copy(rep[:], "HTTP/1.1 200 OK\r\n")
		case mode == "die" && n == 3:
			fmt.Fprintln(os.Stderr, "segfault in npu driver")
			return 139
		case mode == "hang" && n == 3:
			fmt.Fprintln(os.Stderr, "waiting for the NPU")
			time.Sleep(time.Hour)
		case mode == "fail" && n == 3:
			msg := "input tensor has the wrong shape"
			rep[0] = opError
			binary.LittleEndian.PutUint64(rep[8:], uint64(len(msg)))
			os.Stdout.Write(append(rep[:], msg...))
			continue
		}
		os.Stdout.Write(rep[:])
	}
}

func worker(mode string) Options {
	return Options{Command: []string{os.Args[0]}, Env: []string{"TAILGATE_TEST_WORKER=" + mode},
		HandshakeTimeout: time.Second, RequestTimeout: 300 * time.Millisecond}
}

func TestRoundTrips(t *testing.T) {
	b, err := Open(worker("device"))
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
	b, err := Open(worker("echo"))
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
			b, err := Open(worker(c.mode))
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
	_, err := Open(Options{Command: []string{"/nonexistent/worker"}})
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
	b, err := Open(o)
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
	if _, err := Open(o); err == nil || !strings.Contains(err.Error(), "SCHED_DEADLINE") {
		t.Fatalf("deadline: %v", err)
	}
}

func TestCalibrateTransport(t *testing.T) {
	tr, err := CalibrateTransport(Options{Env: []string{"TAILGATE_TEST_WORKER=echo"}}, []string{os.Args[0]}, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Samples != 2000 || tr.P50Ns <= 0 || tr.P99Ns < tr.P50Ns {
		t.Fatalf("transport %+v", tr)
	}
	if _, err := CalibrateTransport(worker("device"), []string{os.Args[0]}, 10); err == nil || !strings.Contains(err.Error(), "is not the echo worker") {
		t.Fatalf("a non-echo worker: %v", err)
	}
}
