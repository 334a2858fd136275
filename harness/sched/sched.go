// Package sched puts the calling OS thread where the timed loop needs it: pinned to CPUs,
// under SCHED_FIFO or SCHED_DEADLINE, with memory locked; and it detects the kernel's RT
// throttling so the loop can stay inside the RT budget. It owns the --sched grammar and the
// privilege errors. It does not run the loop (harness) or check the host's hardening (doctor).
package sched

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kind is a scheduling class.
type Kind int

// Scheduling classes tailgate can ask for.
const (
	Other    Kind = iota // SCHED_OTHER, the default time-sharing class
	FIFO                 // SCHED_FIFO with a static priority
	Deadline             // SCHED_DEADLINE with runtime/deadline/period
)

// DefaultPolicy is the --sched default.
const DefaultPolicy = "other"

// Policy is a parsed --sched value.
type Policy struct {
	Kind     Kind
	Priority int           // FIFO: 1..99
	Runtime  time.Duration // DEADLINE
	Deadline time.Duration // DEADLINE
	Period   time.Duration // DEADLINE
}

// String renders the policy in the grammar Parse reads, so it round-trips into meta.json.
func (p Policy) String() string {
	switch p.Kind {
	case FIFO:
		return "fifo:" + strconv.Itoa(p.Priority)
	case Deadline:
		return fmt.Sprintf("deadline:%s/%s/%s", p.Runtime, p.Deadline, p.Period)
	}
	return "other"
}

// IsRT reports whether the policy is a real-time class (subject to RT throttling).
func (p Policy) IsRT() bool { return p.Kind != Other }

// Parse reads a scheduling policy (the --sched flag, sched: in tailgate.yaml). Errors quote the
// value but name no flag or key: the caller knows which it was. The grammar is:
//
//	other                      SCHED_OTHER (default)
//	fifo:PRIO                  SCHED_FIFO, PRIO in 1..99
//	deadline:RUNTIME/DEADLINE/PERIOD   SCHED_DEADLINE, Go durations with
//	                           0 < RUNTIME ≤ DEADLINE ≤ PERIOD, each ≥ 1024ns
func Parse(s string) (Policy, error) {
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch strings.ToLower(kind) {
	case "other", "":
		if hasArg {
			return Policy{}, fmt.Errorf("%q: \"other\" takes no argument", s)
		}
		return Policy{Kind: Other}, nil
	case "fifo":
		prio, err := strconv.Atoi(arg)
		if err != nil || prio < 1 || prio > 99 {
			return Policy{}, fmt.Errorf("%q: fifo priority must be an integer 1..99 (e.g. fifo:80)", s)
		}
		return Policy{Kind: FIFO, Priority: prio}, nil
	case "deadline":
		parts := strings.Split(arg, "/")
		if len(parts) != 3 {
			return Policy{}, fmt.Errorf("%q: want deadline:RUNTIME/DEADLINE/PERIOD (e.g. deadline:5ms/10ms/10ms)", s)
		}
		var d [3]time.Duration
		var errs []error
		for i, name := range []string{"runtime", "deadline", "period"} {
			v, err := time.ParseDuration(parts[i])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %q: %w", name, parts[i], err))
				continue
			}
			if v < 1024 {
				errs = append(errs, fmt.Errorf("%s %s is below the kernel's 1024ns minimum", name, v))
			}
			d[i] = v
		}
		if len(errs) == 0 && !(d[0] <= d[1] && d[1] <= d[2]) {
			errs = append(errs, fmt.Errorf("need runtime ≤ deadline ≤ period, got %s/%s/%s", d[0], d[1], d[2]))
		}
		if len(errs) > 0 {
			return Policy{}, fmt.Errorf("%q: %w", s, errors.Join(errs...))
		}
		return Policy{Kind: Deadline, Runtime: d[0], Deadline: d[1], Period: d[2]}, nil
	}
	return Policy{}, fmt.Errorf("%q: unknown policy %q (want other, fifo:PRIO or deadline:R/D/P)", s, kind)
}

// sched_attr from include/uapi/linux/sched/types.h.
type schedAttr struct {
	size     uint32
	policy   uint32
	flags    uint64
	nice     int32
	priority uint32
	runtime  uint64
	deadline uint64
	period   uint64
	utilMin  uint32
	utilMax  uint32
}

const (
	schedOther    = 0
	schedFIFO     = 1
	schedDeadline = 6
)

// PrivilegeError says the kernel refused a request for lack of a privilege, and which.
type PrivilegeError struct {
	What string // what was asked, e.g. "SCHED_FIFO priority 80"
	Need string // the privilege or limit that grants it
	Err  error
}

func (e *PrivilegeError) Error() string {
	return fmt.Sprintf("%s refused (%v): needs %s", e.What, e.Err, e.Need)
}

func (e *PrivilegeError) Unwrap() error { return e.Err }

// Apply sets the calling thread's scheduling policy. The caller must have locked its goroutine
// to the OS thread (runtime.LockOSThread): the policy applies to the thread, not the process.
func Apply(p Policy) error {
	attr := schedAttr{size: uint32(unsafe.Sizeof(schedAttr{}))}
	what := ""
	switch p.Kind {
	case Other:
		attr.policy = schedOther
		what = "SCHED_OTHER"
	case FIFO:
		attr.policy, attr.priority = schedFIFO, uint32(p.Priority)
		what = fmt.Sprintf("SCHED_FIFO priority %d", p.Priority)
	case Deadline:
		attr.policy = schedDeadline
		attr.runtime, attr.deadline, attr.period = uint64(p.Runtime), uint64(p.Deadline), uint64(p.Period)
		what = "SCHED_DEADLINE " + p.String()
	}
	_, _, errno := unix.Syscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&attr)), 0)
	if errno == 0 {
		return nil
	}
	switch {
	case errno == unix.EPERM && p.Kind == FIFO:
		return &PrivilegeError{What: what, Err: errno, Need: fmt.Sprintf("CAP_SYS_NICE or RLIMIT_RTPRIO ≥ %d (ulimit -r %d, or rtprio in /etc/security/limits.conf)", p.Priority, p.Priority)}
	case errno == unix.EPERM && p.Kind == Deadline:
		return &PrivilegeError{What: what, Err: errno, Need: "CAP_SYS_NICE (SCHED_DEADLINE is root-only) and a thread affinity spanning its whole root domain (pin with an exclusive cpuset rather than --cpus)"}
	case errno == unix.EBUSY && p.Kind == Deadline:
		return fmt.Errorf("%s refused (%v): the root domain's deadline bandwidth is exhausted (admission control; see /proc/sys/kernel/sched_rt_runtime_us)", what, errno)
	}
	return fmt.Errorf("%s: sched_setattr: %w", what, errno)
}

// Pin restricts the calling thread to cpus. The goroutine must be locked to its OS thread.
func Pin(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pinning the timing thread to CPUs %v: %w", cpus, err)
	}
	return nil
}

// Allowed returns the CPUs the calling thread may run on.
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var out []int
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// PinAwayFrom restricts the calling thread to the CPUs it may run on minus avoid, so a helper
// thread (the interval writer) never competes with the measured CPU. When nothing would be
// left it leaves the affinity unchanged and returns false.
func PinAwayFrom(avoid []int) (bool, error) {
	if len(avoid) == 0 {
		return false, nil
	}
	allowed, err := Allowed()
	if err != nil {
		return false, err
	}
	skip := map[int]bool{}
	for _, c := range avoid {
		skip[c] = true
	}
	var rest []int
	for _, c := range allowed {
		if !skip[c] {
			rest = append(rest, c)
		}
	}
	if len(rest) == 0 {
		return false, nil
	}
	return true, Pin(rest)
}

// Mlock locks the process's current and future pages in memory, so the loop never takes a
// major fault.
func Mlock() error {
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE); err != nil {
		if err == unix.EPERM || err == unix.ENOMEM {
			return &PrivilegeError{What: "mlockall", Err: err, Need: "CAP_IPC_LOCK or a RLIMIT_MEMLOCK above the process size (ulimit -l unlimited, or memlock in /etc/security/limits.conf)"}
		}
		return fmt.Errorf("mlockall: %w", err)
	}
	return nil
}

// Munlock undoes Mlock.
func Munlock() error { return unix.Munlockall() }

// Tid returns the calling thread's id.
func Tid() int { return unix.Gettid() }

// Throttle is the kernel's RT bandwidth limit: RT threads of a CPU may run Runtime out of
// every Period; beyond it they are stopped until the period ends.
type Throttle struct {
	Runtime time.Duration // < 0: unlimited (sched_rt_runtime_us = -1)
	Period  time.Duration
}

// Limited reports whether RT threads are throttled at all.
func (t Throttle) Limited() bool { return t.Runtime >= 0 && t.Runtime < t.Period }

// ReadThrottle reads sched_rt_runtime_us and sched_rt_period_us under root (normally "/"), so
// it can be tested on captured trees.
func ReadThrottle(root string) (Throttle, error) {
	read := func(name string) (int64, error) {
		p := filepath.Join(root, "proc/sys/kernel", name)
		b, err := os.ReadFile(p)
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		return v, nil
	}
	rt, err1 := read("sched_rt_runtime_us")
	per, err2 := read("sched_rt_period_us")
	if err := errors.Join(err1, err2); err != nil {
		return Throttle{}, err
	}
	t := Throttle{Period: time.Duration(per) * time.Microsecond, Runtime: time.Duration(rt) * time.Microsecond}
	if rt < 0 {
		t.Runtime = -1
	}
	return t, nil
}

// Pacing is how the loop keeps a CPU-bound RT thread inside the kernel's RT budget: it runs
// for at most Run, then sleeps Sleep (outside any timed section), so that every window of one
// RT period contains at least Sleep of idle time and the kernel never throttles mid-inference.
type Pacing struct {
	Run   time.Duration
	Sleep time.Duration
}

// PacingMargin is how much below the RT budget the paced loop stays: the iteration that
// crosses the run window still completes, and the kernel accounts runtime in ticks.
const PacingMargin = 50 * time.Millisecond

// PaceFor returns the pacing that keeps an RT thread inside t, or the zero Pacing when t does
// not limit RT threads.
func PaceFor(t Throttle) Pacing {
	if !t.Limited() {
		return Pacing{}
	}
	run := t.Runtime - PacingMargin
	if run < t.Runtime/2 {
		run = t.Runtime / 2
	}
	return Pacing{Run: run, Sleep: t.Period - run}
}

// String describes the pacing for meta.json.
func (p Pacing) String() string {
	if p.Run == 0 {
		return ""
	}
	return fmt.Sprintf("paced: run %s then sleep %s (outside timing) to stay inside the kernel's RT budget", p.Run, p.Sleep)
}
