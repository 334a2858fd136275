package doctor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
	"github.com/tailgate-ci/tailgate/runner/host"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "fixtures", "hosts", name)
	if _, err := os.Stat(filepath.Join(p, "proc", "cmdline")); err != nil {
		t.Fatalf("fixture tree %s: %v", name, err)
	}
	return p
}

// TestChecksOnFixtures asserts every check's outcome on each captured tree.
func TestChecksOnFixtures(t *testing.T) {
	P, W, F := Pass, Warn, Fail
	tests := []struct {
		tree string
		cpus []int
		want map[string]Status
	}{
		{"pi5-rt", nil, map[string]Status{
			"cpus": P, "preempt_rt": P, "isolcpus": P, "nohz_full": P, "rcu_nocbs": P, "governor": P,
			"irq_affinity": P, "idle_states": P, "swap": P, "rt_throttling": P, "memlock": P, "cap_sys_nice": P,
			"throttle_now": P, "throttle_since_boot": P, "temperature": P, "pin.kernel": P,
		}},
		{"pi5-stock", nil, map[string]Status{
			"cpus": P, "preempt_rt": W, "isolcpus": W, "nohz_full": W, "rcu_nocbs": W, "governor": F,
			"irq_affinity": W, "idle_states": W, "swap": W, "rt_throttling": W, "memlock": W, "cap_sys_nice": W,
			"throttle_now": P, "throttle_since_boot": W, "temperature": W, "pin.kernel": F,
		}},
		{"x86-here", nil, map[string]Status{
			"cpus": P, "preempt_rt": W, "isolcpus": W, "nohz_full": W, "rcu_nocbs": W, "governor": W,
			"irq_affinity": W, "idle_states": P, "swap": P, "rt_throttling": W, "memlock": P, "cap_sys_nice": P,
			"throttle_now": W, "throttle_since_boot": W, "temperature": W, "pin.kernel": F,
		}},
		// Measuring CPU 2 on the hardened Pi: it is not isolated and its IRQs and idle states
		// were left alone.
		{"pi5-rt", []int{2}, map[string]Status{
			"cpus": P, "preempt_rt": P, "isolcpus": W, "nohz_full": W, "rcu_nocbs": W, "governor": P,
			"irq_affinity": W, "idle_states": W, "swap": P, "rt_throttling": P, "memlock": P, "cap_sys_nice": P,
			"throttle_now": P, "throttle_since_boot": P, "temperature": P, "pin.kernel": P,
		}},
		{"pi5-rt", []int{0, 1, 2, 3}, map[string]Status{"cpus": W, "irq_affinity": W}},
		{"pi5-rt", []int{7}, map[string]Status{"cpus": F}},
	}
	for _, tt := range tests {
		name := tt.tree
		if tt.cpus != nil {
			name += "/cpus=" + host.FormatCPUList(tt.cpus)
		}
		t.Run(name, func(t *testing.T) {
			rep := Run(Options{Root: fixture(t, tt.tree), CPUs: tt.cpus, Pins: Pins{Kernel: "6.12.*-rt*"}})
			for id, want := range tt.want {
				c, ok := rep.Check(id)
				if !ok {
					t.Errorf("no check %q", id)
					continue
				}
				if c.Status != want {
					t.Errorf("%s = %s (%s), want %s", id, c.Status, c.Detail, want)
				}
				if (c.Status == Pass) != (c.Fix == "") {
					t.Errorf("%s: status %s with fix %q: every WARN/FAIL needs a fix and a PASS none", id, c.Status, c.Fix)
				}
			}
			if len(tt.want) == 16 && len(rep.Checks) != 16 {
				t.Errorf("%d checks, want 16", len(rep.Checks))
			}
			if got, want := rep.PinsFailed(), tt.want["pin.kernel"] == Fail; got != want {
				t.Errorf("PinsFailed() = %v, want %v", got, want)
			}
		})
	}
}

func TestDefaultCPUs(t *testing.T) {
	for tree, want := range map[string]string{"pi5-rt": "3", "pi5-stock": "3", "x86-here": "1"} {
		rep := Run(Options{Root: fixture(t, tree)})
		if got := host.FormatCPUList(rep.CPUs); got != want {
			t.Errorf("%s: measured CPUs %s, want %s", tree, got, want)
		}
	}
}

// TestFixesNameTheMeasuredCPUs checks that fixes are commands for this host, not templates.
func TestFixesNameTheMeasuredCPUs(t *testing.T) {
	rep := Run(Options{Root: fixture(t, "pi5-stock")})
	wants := map[string]string{
		"isolcpus":      `sudo sed -i '1 s/$/ isolcpus=3/' /boot/firmware/cmdline.txt && sudo reboot`,
		"governor":      "echo performance | sudo tee /sys/devices/system/cpu/cpu3/cpufreq/scaling_governor",
		"irq_affinity":  "do echo 0-2 | sudo tee $f",
		"idle_states":   "echo 1 | sudo tee /sys/devices/system/cpu/cpu3/cpuidle/state1/disable",
		"swap":          "sudo swapoff /dev/zram0 && sudo systemctl mask systemd-zram-setup@zram0.service",
		"rt_throttling": "sudo sysctl -w kernel.sched_rt_runtime_us=-1",
	}
	for id, want := range wants {
		c, _ := rep.Check(id)
		if !strings.Contains(c.Fix, want) {
			t.Errorf("%s fix %q lacks %q", id, c.Fix, want)
		}
	}
	// A non-Pi host is fixed through GRUB; an existing value is replaced, widened to cover.
	x86 := Run(Options{Root: fixture(t, "x86-here")})
	if c, _ := x86.Check("isolcpus"); !strings.Contains(c.Fix, "/etc/default/grub") || !strings.Contains(c.Fix, "isolcpus=1 ") {
		t.Errorf("x86 isolcpus fix %q", c.Fix)
	}
	rt := Run(Options{Root: fixture(t, "pi5-rt"), CPUs: []int{2}})
	if c, _ := rt.Check("nohz_full"); !strings.Contains(c.Fix, `s/(^| )nohz_full=[^ ]*/\1nohz_full=2-3/`) {
		t.Errorf("widening fix %q", c.Fix)
	}
}

// fakeThrottle is a throttle source for the bits the fixtures do not show.
type fakeThrottle struct {
	t   host.Throttled
	err error
}

func (f fakeThrottle) Throttled() (host.Throttled, error) { return f.t, f.err }
func (fakeThrottle) Source() string                       { return "fake" }

func TestThrottleAndTemperature(t *testing.T) {
	tests := []struct {
		name      string
		src       fakeThrottle
		now, boot Status
	}{
		{"clean", fakeThrottle{t: 0}, Pass, Pass},
		{"under-voltage now", fakeThrottle{t: 0x50005}, Fail, Warn},
		{"soft limit since boot", fakeThrottle{t: 0x80000}, Pass, Warn},
		{"unreadable", fakeThrottle{err: errors.New("permission denied")}, Fail, Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Run(Options{Root: fixture(t, "pi5-rt"), Throttle: tt.src})
			now, _ := rep.Check("throttle_now")
			boot, _ := rep.Check("throttle_since_boot")
			if now.Status != tt.now || boot.Status != tt.boot {
				t.Errorf("now %s (%s), boot %s (%s); want %s, %s", now.Status, now.Detail, boot.Status, boot.Detail, tt.now, tt.boot)
			}
		})
	}
	for _, tt := range []struct {
		warn, fail float64
		want       Status
	}{{40, 50, Fail}, {50, 0, Warn}, {0, 0, Pass}} {
		rep := Run(Options{Root: fixture(t, "pi5-rt"), TempWarnC: tt.warn, TempFailC: tt.fail})
		if c, _ := rep.Check("temperature"); c.Status != tt.want {
			t.Errorf("52 °C with warn %v fail %v = %s, want %s", tt.warn, tt.fail, c.Status, tt.want)
		}
	}
}

func TestPins(t *testing.T) {
	lib := ortlibtest.Load(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "vision-int8.onnx")
	if err := os.WriteFile(model, []byte("not really a model, but hashed all the same"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("not really a model, but hashed all the same"))
	good := hex.EncodeToString(sum[:])
	loadORT := func() (ortlib.Library, error) { return lib, nil }
	tests := []struct {
		name   string
		pins   Pins
		paths  map[string]string
		ort    func() (ortlib.Library, error)
		want   map[string]Status
		failed bool
	}{
		{"all match", Pins{Kernel: "6.12.*-rt*", ORTVersion: ortlib.PinnedVersion, ORTSHA256: ortlib.PinnedSHA256[ortlib.CacheArch()],
			Models: map[string]string{"vision-int8": strings.ToUpper(good)}}, map[string]string{"vision-int8": model}, loadORT,
			map[string]Status{"pin.kernel": Pass, "pin.onnxruntime": Pass, "pin.onnxruntime_sha256": Pass, "pin.model.vision-int8": Pass}, false},
		{"ort version differs", Pins{ORTVersion: "1.22.0"}, nil, loadORT, map[string]Status{"pin.onnxruntime": Fail}, true},
		{"ort missing", Pins{ORTVersion: "1.30.0", ORTSHA256: "ab"}, nil,
			func() (ortlib.Library, error) {
				return ortlib.Library{}, &ortlib.NotFoundError{Tried: []string{"/nowhere"}}
			},
			map[string]Status{"pin.onnxruntime": Fail, "pin.onnxruntime_sha256": Fail}, true},
		{"no loader", Pins{ORTVersion: "1.30.0"}, nil, nil, map[string]Status{"pin.onnxruntime": Fail}, true},
		{"model differs", Pins{Models: map[string]string{"vision-int8": strings.Repeat("0", 64)}}, map[string]string{"vision-int8": model}, nil,
			map[string]Status{"pin.model.vision-int8": Fail}, true},
		{"model missing", Pins{Models: map[string]string{"m": good}}, map[string]string{"m": filepath.Join(dir, "gone.onnx")}, nil,
			map[string]Status{"pin.model.m": Fail}, true},
		{"model without path", Pins{Models: map[string]string{"m": good}}, nil, nil, map[string]Status{"pin.model.m": Fail}, true},
		{"bad kernel glob", Pins{Kernel: "6.12.[*"}, nil, nil, map[string]Status{"pin.kernel": Fail}, true},
		{"nothing pinned", Pins{}, nil, nil, map[string]Status{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := Run(Options{Root: fixture(t, "pi5-rt"), Pins: tt.pins, ModelPaths: tt.paths, ORT: tt.ort})
			pins := 0
			for _, c := range rep.Checks {
				if c.Pin {
					pins++
					if c.Status == Fail && c.Fix == "" {
						t.Errorf("%s fails without a fix", c.ID)
					}
				}
			}
			if pins != len(tt.want) {
				t.Errorf("%d pin checks, want %d", pins, len(tt.want))
			}
			for id, want := range tt.want {
				if c, _ := rep.Check(id); c.Status != want || !c.Pin {
					t.Errorf("%s = %s pin=%v (%s), want %s", id, c.Status, c.Pin, c.Detail, want)
				}
			}
			if rep.PinsFailed() != tt.failed {
				t.Errorf("PinsFailed() = %v, want %v", rep.PinsFailed(), tt.failed)
			}
		})
	}
}

func TestReportJSON(t *testing.T) {
	rep := Run(Options{Root: fixture(t, "pi5-stock"), Pins: Pins{Kernel: "6.12.*-rt*"}})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Checks     []Check        `json:"checks"`
		Summary    map[string]int `json:"summary"`
		Worst      Status         `json:"worst"`
		PinsFailed bool           `json:"pins_failed"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	p, w, f := rep.Counts()
	if back.Summary["pass"] != p || back.Summary["warn"] != w || back.Summary["fail"] != f || back.Worst != Fail || !back.PinsFailed {
		t.Errorf("summary %v worst %s pins_failed %v", back.Summary, back.Worst, back.PinsFailed)
	}
	if len(back.Checks) != len(rep.Checks) || back.Checks[0] != rep.Checks[0] {
		t.Errorf("checks do not round-trip")
	}
	var s Status
	if err := s.UnmarshalText([]byte("MAYBE")); err == nil {
		t.Error("status MAYBE parsed")
	}
}

// TestLiveHost runs every check on this machine: it must produce the full set without a
// fingerprint failure, whatever the verdicts.
func TestLiveHost(t *testing.T) {
	rep := Run(Options{})
	if _, bad := rep.Check("fingerprint"); bad {
		t.Fatalf("fingerprint of this host failed: %+v", rep.Checks[0])
	}
	if len(rep.Checks) != 15 {
		t.Errorf("%d checks on this host, want 15", len(rep.Checks))
	}
}

// BenchmarkRun measures every check on the stock Pi tree (doctor runs once before a CI job).
func BenchmarkRun(b *testing.B) {
	root := filepath.Join("..", "..", "fixtures", "hosts", "pi5-stock")
	b.ReportAllocs()
	for b.Loop() {
		if rep := Run(Options{Root: root, Pins: Pins{Kernel: "6.12.*-rt*"}}); len(rep.Checks) != 16 {
			b.Fatalf("%d checks", len(rep.Checks))
		}
	}
}

// TestRuntimePins: a runtime pin matches the version an exec suite's worker names in its
// handshake; a worker naming another version, none naming the runtime, or a worker that does
// not start fails the pin.
func TestRuntimePins(t *testing.T) {
	hailo := func(v string) func() (execbackend.Ready, error) {
		return func() (execbackend.Ready, error) {
			return execbackend.Ready{Runtime: "hailort", Version: v, Device: "HAILO10H"}, nil
		}
	}
	broken := func() (execbackend.Ready, error) {
		return execbackend.Ready{}, errors.New("worker \"python3\" does not start")
	}
	for _, tt := range []struct {
		name    string
		workers []Worker
		status  Status
		detail  string
	}{
		{"match", []Worker{{"npu", hailo("4.20.0")}}, Pass, `suite npu: hailort 4.20.0 matches "4.20.*"`},
		{"other version", []Worker{{"npu", hailo("4.21.0")}}, Fail, `suite npu: hailort 4.21.0 does not match pins.hailort "4.20.*"`},
		{"no worker names it", nil, Fail, "no exec suite's worker names runtime hailort"},
		{"worker does not start", []Worker{{"npu", broken}}, Fail, `workers: suite npu: worker "python3" does not start`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := Run(Options{Root: fixture(t, "pi5-rt"), Pins: Pins{Runtimes: map[string]string{"hailort": "4.20.*"}}, Workers: tt.workers})
			var c *Check
			for i := range rep.Checks {
				if rep.Checks[i].ID == "pin.runtime.hailort" {
					c = &rep.Checks[i]
				}
			}
			if c == nil || c.Status != tt.status || !strings.Contains(c.Detail, tt.detail) || !c.Pin {
				t.Fatalf("check %+v, want %v with %q", c, tt.status, tt.detail)
			}
			if rep.PinsFailed() != (tt.status == Fail) {
				t.Errorf("PinsFailed %v", rep.PinsFailed())
			}
		})
	}
}
