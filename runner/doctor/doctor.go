// Package doctor judges whether a host is fit to measure latency tails on: PREEMPT_RT, CPU
// isolation, governor, IRQ affinity, idle states, swap, RT throttling, memlock and
// CAP_SYS_NICE, Raspberry Pi throttling and under-voltage, temperature headroom, and the pins
// (kernel, ONNX Runtime, model hashes). Each check is PASS, WARN or FAIL with the exact
// command or file edit that fixes it.
//
// It reads the host through runner/host (so it runs on captured trees), and takes pins as a
// plain struct so it does not depend on the config loader. It neither renders (cmd does) nor
// stops a run (`ci` asks Report.PinsFailed).
package doctor

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/runner/host"
)

// Status is a check's outcome. Higher is worse.
type Status int

// Outcomes, from best to worst.
const (
	Pass Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText renders the status as PASS, WARN or FAIL.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses PASS, WARN or FAIL.
func (s *Status) UnmarshalText(b []byte) error {
	for _, c := range []Status{Pass, Warn, Fail} {
		if string(b) == c.String() {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("status %q: want PASS, WARN or FAIL", b)
}

// Check is one verdict about the host.
type Check struct {
	// ID is stable and machine-readable ("isolcpus", "pin.model.vision-int8").
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	// Detail says what was found, with the file it was read from when that helps.
	Detail string `json:"detail"`
	// Fix is the exact command or file edit that turns a WARN or FAIL into a PASS; empty on PASS.
	Fix string `json:"fix,omitempty"`
	// Pin marks checks of the config's pins: their failure stops `ci` before it runs.
	Pin bool `json:"pin,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Root   string             `json:"root"`
	CPUs   []int              `json:"cpus"`
	Host   result.Fingerprint `json:"host"`
	Checks []Check            `json:"checks"`
}

// Worst returns the worst status of all checks (Pass when there are none).
func (r Report) Worst() Status {
	w := Pass
	for _, c := range r.Checks {
		w = max(w, c.Status)
	}
	return w
}

// PinsFailed reports whether any pin check failed: the host is not the pinned environment and
// a run would not be comparable with its baseline.
func (r Report) PinsFailed() bool {
	for _, c := range r.Checks {
		if c.Pin && c.Status == Fail {
			return true
		}
	}
	return false
}

// Counts returns how many checks passed, warned and failed.
func (r Report) Counts() (pass, warn, fail int) {
	for _, c := range r.Checks {
		switch c.Status {
		case Pass:
			pass++
		case Warn:
			warn++
		default:
			fail++
		}
	}
	return
}

// Check returns the check with id, and whether there is one.
func (r Report) Check(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// MarshalJSON adds the counts and PinsFailed so JSON readers need not recompute them.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p, w, f := r.Counts()
	return json.Marshal(struct {
		plain
		Summary    map[string]int `json:"summary"`
		Worst      Status         `json:"worst"`
		PinsFailed bool           `json:"pins_failed"`
	}{plain(r), map[string]int{"pass": p, "warn": w, "fail": f}, r.Worst(), r.PinsFailed()})
}

// Pins are the config's pins (tailgate.yaml `pins:`). Empty fields are not checked.
type Pins struct {
	// Kernel is a glob matched against the kernel release, e.g. "6.12.*-rt*".
	Kernel string
	// ORTVersion and ORTSHA256 pin the ONNX Runtime library.
	ORTVersion, ORTSHA256 string
	// Models maps a suite's model name to its file's hex SHA-256.
	Models map[string]string
	// Runtimes maps a worker runtime's name to a glob on the version its worker names in the
	// exec backend's handshake (pins: { hailort: "4.20.*" }).
	Runtimes map[string]string
}

// Worker is an exec suite's worker, for the runtime pins: Probe starts it, reads its
// handshake and ends it.
type Worker struct {
	Suite string
	Probe func() (execbackend.Ready, error)
}

// Defaults for Options.
const (
	// DefaultTempWarnC and DefaultTempFailC leave headroom below the Raspberry Pi 5's 85 °C
	// firmware throttling point: a run that starts at 80 °C will likely throttle mid-run.
	DefaultTempWarnC = 70.0
	DefaultTempFailC = 80.0
	// DefaultIdleLatencyUs is the exit latency above which an enabled idle state counts as
	// deep: WFI/HLT (about 1 µs) is fine, cluster or core power-down (hundreds of µs) is not.
	DefaultIdleLatencyUs = 10
)

// Options configure Run.
type Options struct {
	// Root holds proc/ and sys/; "" means host.DefaultRoot.
	Root string
	// CPUs are the measured CPUs. Empty means the isolated CPUs (isolcpus=) if there are any,
	// otherwise the highest-numbered present CPU, the usual choice for the timing thread.
	CPUs []int
	Pins Pins
	// ModelPaths maps a pinned model name to its file.
	ModelPaths map[string]string
	// Workers are the exec suites' workers, probed only when a runtime pin is set.
	Workers []Worker
	// ORT loads (or returns the already loaded) ONNX Runtime library; it is called only when an
	// ORT pin is set. Nil with an ORT pin set fails that pin.
	ORT func() (ortlib.Library, error)
	// Throttle overrides the throttle source; nil picks host.FindThrottleSource.
	Throttle host.ThrottleSource
	// TempWarnC, TempFailC and IdleLatencyUs override the defaults when non-zero.
	TempWarnC, TempFailC float64
	IdleLatencyUs        int64
	// ToolVersion goes into the reported fingerprint.
	ToolVersion string
}

// Run reads the host below o.Root and runs every check.
func Run(o Options) Report {
	if o.TempWarnC == 0 {
		o.TempWarnC = DefaultTempWarnC
	}
	if o.TempFailC == 0 {
		o.TempFailC = DefaultTempFailC
	}
	if o.IdleLatencyUs == 0 {
		o.IdleLatencyUs = DefaultIdleLatencyUs
	}
	f := host.NewFS(o.Root)
	d := &doc{o: o, f: f}
	d.present, _ = f.PresentCPUs()
	d.cmdline, _ = f.ReadCmdline()
	d.cpus = o.CPUs
	if len(d.cpus) == 0 {
		d.cpus = defaultCPUs(d.cmdline, d.present)
	}
	fp, err := host.Collect(host.Options{Root: o.Root, CPUs: d.cpus, ToolVersion: o.ToolVersion})
	d.fp = fp
	d.pi = strings.Contains(fp.Board, "Raspberry Pi")
	rep := Report{Root: f.Root, CPUs: d.cpus, Host: fp}
	if err != nil {
		rep.Checks = append(rep.Checks, Check{ID: "fingerprint", Title: "host fingerprint", Status: Fail,
			Detail: err.Error(), Fix: "run doctor on a Linux host with /proc and /sys mounted, or point --root at a complete capture (fixtures/hosts/capture.sh)"})
	}
	for _, check := range []func() Check{
		d.checkCPUs, d.checkRT,
		func() Check { return d.checkIsolation("isolcpus") },
		func() Check { return d.checkIsolation("nohz_full") },
		func() Check { return d.checkIsolation("rcu_nocbs") },
		d.checkGovernor, d.checkIRQs, d.checkIdle, d.checkSwap, d.checkRTThrottling,
		d.checkMemlock, d.checkSysNice,
	} {
		rep.Checks = append(rep.Checks, check())
	}
	rep.Checks = append(rep.Checks, d.checkThrottle()...)
	rep.Checks = append(rep.Checks, d.checkTemperature())
	rep.Checks = append(rep.Checks, d.checkPins()...)
	return rep
}

// doc carries what several checks share.
type doc struct {
	o       Options
	f       host.FS
	fp      result.Fingerprint
	present []int
	cpus    []int
	cmdline host.Cmdline
	pi      bool
}

// defaultCPUs picks the measured CPUs when none are given.
func defaultCPUs(cl host.Cmdline, present []int) []int {
	if list, _ := cl.IsolatedCPUs(); list != "" {
		if cpus, err := host.ParseCPUList(list); err == nil && len(cpus) > 0 {
			return cpus
		}
	}
	if len(present) > 0 {
		return present[len(present)-1:]
	}
	return []int{0}
}

// housekeeping returns the present CPUs that are not measured, the ones IRQs and daemons
// should run on.
func (d *doc) housekeeping() []int { return host.Subtract(d.present, d.cpus) }

func (d *doc) cpuList() string { return host.FormatCPUList(d.cpus) }
