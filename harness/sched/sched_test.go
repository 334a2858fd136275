package sched

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Policy
		wantErr string
	}{
		{in: "other", want: Policy{Kind: Other}},
		{in: "", want: Policy{Kind: Other}},
		{in: "fifo:80", want: Policy{Kind: FIFO, Priority: 80}},
		{in: "deadline:5ms/10ms/10ms", want: Policy{Kind: Deadline, Runtime: 5 * time.Millisecond, Deadline: 10 * time.Millisecond, Period: 10 * time.Millisecond}},
		{in: "fifo:0", wantErr: "1..99"},
		{in: "fifo:high", wantErr: "1..99"},
		{in: "deadline:5ms/10ms", wantErr: "RUNTIME/DEADLINE/PERIOD"},
		{in: "deadline:20ms/10ms/5ms", wantErr: "runtime ≤ deadline ≤ period"},
		{in: "deadline:x/y/1ns", wantErr: "period 1ns is below"},
		{in: "rr:5", wantErr: "unknown policy"},
		{in: "other:1", wantErr: "takes no argument"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || p != tc.want {
				t.Fatalf("got %+v, %v", p, err)
			}
			if back, err := Parse(p.String()); err != nil || back != p {
				t.Fatalf("%q does not round-trip: %+v %v", p.String(), back, err)
			}
		})
	}
}

func TestThrottleAndPacing(t *testing.T) {
	for _, tc := range []struct {
		name, runtime, period string
		limited               bool
		pace                  Pacing
	}{
		{"debian default", "950000", "1000000", true, Pacing{Run: 900 * time.Millisecond, Sleep: 100 * time.Millisecond}},
		{"unlimited", "-1", "1000000", false, Pacing{}},
		{"tight budget", "100000", "1000000", true, Pacing{Run: 50 * time.Millisecond, Sleep: 950 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "proc/sys/kernel")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "sched_rt_runtime_us"), []byte(tc.runtime+"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "sched_rt_period_us"), []byte(tc.period+"\n"), 0o644)
			th, err := ReadThrottle(root)
			if err != nil {
				t.Fatal(err)
			}
			if th.Limited() != tc.limited || PaceFor(th) != tc.pace {
				t.Fatalf("throttle %+v limited=%v pace=%+v", th, th.Limited(), PaceFor(th))
			}
		})
	}
	if _, err := ReadThrottle(t.TempDir()); err == nil {
		t.Fatal("a tree without the files must be an error")
	}
}

func TestApplyOnThisHost(t *testing.T) {
	// Real syscalls on a locked thread that is thrown away afterwards.
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := Pin([]int{0}); err != nil {
			done <- err
			return
		}
		var set unix.CPUSet
		unix.SchedGetaffinity(0, &set)
		if set.Count() != 1 || !set.IsSet(0) {
			done <- errors.New("Pin did not restrict the thread to CPU 0")
			return
		}
		err := Apply(Policy{Kind: FIFO, Priority: 5})
		var pe *PrivilegeError
		if errors.As(err, &pe) {
			if !strings.Contains(pe.Error(), "CAP_SYS_NICE") || !strings.Contains(pe.Error(), "RLIMIT_RTPRIO") {
				err = errors.New("privilege error does not name CAP_SYS_NICE and RLIMIT_RTPRIO: " + pe.Error())
			} else {
				err = nil // unprivileged test user: the refusal is what is tested
			}
		}
		if err == nil && unix.Getuid() == 0 {
			if p, _, _ := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0); p != schedFIFO {
				err = errors.New("thread is not SCHED_FIFO after Apply")
			}
		}
		if err == nil {
			err = Apply(Policy{Kind: Other})
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"other", "fifo:80", "deadline:5ms/10ms/10ms", "deadline:1us/1us/1us", "fifo:", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(p.String())
		if err != nil || back != p {
			t.Fatalf("%q parsed to %+v, which renders as %q and parses back to %+v, %v", s, p, p.String(), back, err)
		}
	})
}
