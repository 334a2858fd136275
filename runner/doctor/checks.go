package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/runner/host"
)

func pass(id, title, detail string) Check {
	return Check{ID: id, Title: title, Status: Pass, Detail: detail}
}

func (d *doc) checkCPUs() Check {
	const id, title = "cpus", "measured CPUs present"
	missing := host.Subtract(d.cpus, d.present)
	if len(d.present) == 0 {
		return Check{ID: id, Title: title, Status: Fail, Detail: "cannot read " + d.f.HostPath("sys/devices/system/cpu/present"),
			Fix: "point --root at a tree with sys/devices/system/cpu/present"}
	}
	if len(missing) > 0 {
		return Check{ID: id, Title: title, Status: Fail,
			Detail: fmt.Sprintf("CPU %s not present (present: %s)", host.FormatCPUList(missing), host.FormatCPUList(d.present)),
			Fix:    fmt.Sprintf("measure on present CPUs: --cpus %d (or cpus: [%d] in tailgate.yaml)", d.present[len(d.present)-1], d.present[len(d.present)-1])}
	}
	if len(d.housekeeping()) == 0 {
		return Check{ID: id, Title: title, Status: Warn,
			Detail: fmt.Sprintf("measuring on every CPU (%s): nothing is left for IRQs, the writer and the OS", d.cpuList()),
			Fix:    fmt.Sprintf("measure on fewer CPUs, e.g. --cpus %d", d.present[len(d.present)-1])}
	}
	return pass(id, title, fmt.Sprintf("measuring CPU %s; housekeeping on %s", d.cpuList(), host.FormatCPUList(d.housekeeping())))
}

func (d *doc) checkRT() Check {
	const id, title = "preempt_rt", "PREEMPT_RT kernel"
	if d.fp.KernelRelease == "" {
		return Check{ID: id, Title: title, Status: Fail, Detail: "kernel release unreadable",
			Fix: "point --root at a tree with proc/sys/kernel/osrelease and version"}
	}
	if d.fp.PreemptRT {
		return pass(id, title, fmt.Sprintf("%s (%s)", d.fp.KernelRelease, d.fp.KernelVersion))
	}
	fix := fmt.Sprintf("sudo apt install linux-image-rt-%s && sudo reboot", debArch(d.fp.Arch))
	if d.pi {
		fix = "build the Raspberry Pi kernel (github.com/raspberrypi/linux, rpi-6.12.y, bcm2712_defconfig) with CONFIG_PREEMPT_RT=y and install it (docs/pi5-runner.md)"
	}
	return Check{ID: id, Title: title, Status: Warn,
		Detail: fmt.Sprintf("%s is not PREEMPT_RT (%s): expect longer, rarer tails", d.fp.KernelRelease, d.fp.KernelVersion), Fix: fix}
}

func debArch(goarch string) string {
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	return goarch // Debian's and Go's names agree for amd64 and arm64.
}

// checkIsolation checks that a CPU-list kernel parameter (isolcpus, nohz_full, rcu_nocbs)
// covers the measured CPUs.
func (d *doc) checkIsolation(param string) Check {
	titles := map[string]string{
		"isolcpus":  "isolcpus covers measured CPUs",
		"nohz_full": "nohz_full covers measured CPUs",
		"rcu_nocbs": "rcu_nocbs covers measured CPUs",
	}
	why := map[string]string{
		"isolcpus":  "the scheduler may run other tasks there",
		"nohz_full": "the scheduler tick interrupts the timing thread",
		"rcu_nocbs": "RCU callbacks run there",
	}
	id, title := param, titles[param]
	val, ok := d.cmdline.Get(param)
	list := val
	if param == "isolcpus" {
		list, _ = d.cmdline.IsolatedCPUs()
	}
	var have []int
	if list == "all" {
		have = d.present
	} else if l, err := host.ParseCPUList(list); err == nil {
		have = l
	} else {
		return Check{ID: id, Title: title, Status: Fail,
			Detail: fmt.Sprintf("%s: %s=%s: %v", d.f.HostPath("proc/cmdline"), param, val, err),
			Fix:    d.cmdlineFix(param, d.cpuList(), true)}
	}
	missing := host.Subtract(d.cpus, have)
	if len(missing) == 0 {
		return pass(id, title, fmt.Sprintf("%s=%s", param, val))
	}
	detail := fmt.Sprintf("no %s= on the kernel command line: %s", param, why[param])
	if ok {
		detail = fmt.Sprintf("%s=%s leaves CPU %s out: %s", param, val, host.FormatCPUList(missing), why[param])
	}
	want := host.FormatCPUList(append(append([]int(nil), have...), d.cpus...))
	return Check{ID: id, Title: title, Status: Warn, Detail: detail, Fix: d.cmdlineFix(param, want, ok)}
}

// cmdlineFix says how to set param=value on the kernel command line, replacing an existing
// value when replace is set: /boot/firmware/cmdline.txt on a Raspberry Pi, GRUB elsewhere.
func (d *doc) cmdlineFix(param, value string, replace bool) string {
	if d.pi {
		if replace {
			return fmt.Sprintf(`sudo sed -i -E '1 s/(^| )%s=[^ ]*/\1%s=%s/' /boot/firmware/cmdline.txt && sudo reboot`, param, param, value)
		}
		return fmt.Sprintf(`sudo sed -i '1 s/$/ %s=%s/' /boot/firmware/cmdline.txt && sudo reboot`, param, value)
	}
	if replace {
		return fmt.Sprintf(`sudo sed -i -E '/^GRUB_CMDLINE_LINUX=/ s/%s=[^ "]*/%s=%s/' /etc/default/grub && sudo update-grub && sudo reboot`, param, param, value)
	}
	return fmt.Sprintf(`sudo sed -i -E 's/^GRUB_CMDLINE_LINUX="/&%s=%s /' /etc/default/grub && sudo update-grub && sudo reboot`, param, value)
}

func (d *doc) checkGovernor() Check {
	const id, title = "governor", "cpufreq governor performance"
	var bad, none []string
	var fixes []string
	for _, c := range d.cpus {
		g, err := d.f.Governor(c)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			none = append(none, strconv.Itoa(c))
		case err != nil:
			bad = append(bad, fmt.Sprintf("cpu%d: %v", c, err))
		case g != "performance":
			bad = append(bad, fmt.Sprintf("cpu%d: %s", c, g))
			fixes = append(fixes, fmt.Sprintf("/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", c))
		}
	}
	if len(bad) > 0 {
		return Check{ID: id, Title: title, Status: Fail,
			Detail: strings.Join(bad, "; ") + ": the clock will change mid-run and the run will be judged unhealthy",
			Fix: fmt.Sprintf("echo performance | sudo tee %s; to keep it across reboots add cpufreq.default_governor=performance to the kernel command line",
				strings.Join(fixes, " "))}
	}
	if len(none) > 0 {
		return Check{ID: id, Title: title, Status: Warn,
			Detail: fmt.Sprintf("no cpufreq on CPU %s (%s missing): firmware or a hypervisor sets the clock and tailgate cannot see it change",
				strings.Join(none, ","), d.f.HostPath("sys/devices/system/cpu/cpuN/cpufreq")),
			Fix: "on bare metal, load the platform's cpufreq driver (e.g. enable it in firmware/BIOS); in a VM, pin the host's vCPU clock and accept the warning"}
	}
	return pass(id, title, fmt.Sprintf("performance on CPU %s", d.cpuList()))
}

// perCPUIRQs returns the IRQ numbers that are per-CPU by nature (GIC SGIs and PPIs such as
// arch_timer): their affinity always lists every CPU and cannot be changed.
func (d *doc) perCPUIRQs() map[int]bool {
	out := map[int]bool{}
	in, err := d.f.ReadInterrupts()
	if err != nil {
		return out
	}
	for _, r := range in.Rows {
		n, err := strconv.Atoi(r.IRQ)
		if err != nil {
			continue
		}
		fl := strings.Fields(r.Desc)
		if len(fl) >= 2 && strings.HasPrefix(fl[0], "GIC") {
			if hw, err := strconv.Atoi(fl[1]); err == nil && hw < 32 {
				out[n] = true
			}
		}
	}
	return out
}

func (d *doc) checkIRQs() Check {
	const id, title = "irq_affinity", "IRQs off measured CPUs"
	affs, err := d.f.IRQAffinities()
	if len(affs) == 0 {
		detail := "no " + d.f.HostPath("proc/irq/*/smp_affinity_list") + " to check"
		if err != nil {
			detail = err.Error()
		}
		return Check{ID: id, Title: title, Status: Warn, Detail: detail, Fix: "run doctor as a user who can read /proc/irq"}
	}
	perCPU := d.perCPUIRQs()
	var on []string
	for _, a := range affs {
		if perCPU[a.IRQ] {
			continue
		}
		if len(host.Intersect(a.CPUs, d.cpus)) > 0 {
			on = append(on, strconv.Itoa(a.IRQ))
		}
	}
	if len(on) == 0 {
		return pass(id, title, fmt.Sprintf("%d IRQs kept off CPU %s", len(affs)-len(perCPU), d.cpuList()))
	}
	hk := host.FormatCPUList(d.housekeeping())
	if hk == "" {
		return Check{ID: id, Title: title, Status: Warn,
			Detail: fmt.Sprintf("%d IRQs may run on CPU %s and there is no other CPU to move them to", len(on), d.cpuList()),
			Fix:    "measure on fewer CPUs (--cpus) so that IRQs have somewhere else to go"}
	}
	shown := on
	if len(shown) > 8 {
		shown = append(append([]string(nil), on[:8]...), "…")
	}
	return Check{ID: id, Title: title, Status: Warn,
		Detail: fmt.Sprintf("%d IRQs may run on CPU %s (IRQ %s)", len(on), d.cpuList(), strings.Join(shown, ",")),
		Fix: fmt.Sprintf("for f in /proc/irq/[0-9]*/smp_affinity_list; do echo %s | sudo tee $f >/dev/null; done; "+
			"keep it across reboots with irqaffinity=%s on the kernel command line (and IRQBALANCE_BANNED_CPULIST=%s in /etc/default/irqbalance if irqbalance runs)",
			hk, hk, d.cpuList())}
}

func (d *doc) checkIdle() Check {
	const id, title = "idle_states", "deep idle states off"
	var deep, fixes []string
	var errs []string
	states := 0
	for _, c := range d.cpus {
		st, err := d.f.IdleStates(c)
		if err != nil {
			errs = append(errs, err.Error())
		}
		states += len(st)
		for _, s := range st {
			if s.LatencyUs > d.o.IdleLatencyUs && !s.Disabled {
				deep = append(deep, fmt.Sprintf("cpu%d state%d %s (%d µs)", c, s.Index, s.Name, s.LatencyUs))
				fixes = append(fixes, fmt.Sprintf("/sys/devices/system/cpu/cpu%d/cpuidle/state%d/disable", c, s.Index))
			}
		}
	}
	if len(deep) > 0 {
		return Check{ID: id, Title: title, Status: Warn,
			Detail: "enabled idle states with exit latency above " + strconv.FormatInt(d.o.IdleLatencyUs, 10) + " µs: " + strings.Join(deep, "; "),
			Fix:    fmt.Sprintf("echo 1 | sudo tee %s; or boot with cpuidle.off=1 on the kernel command line", strings.Join(fixes, " "))}
	}
	if len(errs) > 0 {
		return Check{ID: id, Title: title, Status: Warn, Detail: strings.Join(errs, "; "), Fix: "run doctor as a user who can read cpuidle state files"}
	}
	if states == 0 {
		return pass(id, title, fmt.Sprintf("no cpuidle states on CPU %s: idle is the architecture's WFI/HLT", d.cpuList()))
	}
	return pass(id, title, fmt.Sprintf("every idle state above %d µs is disabled on CPU %s", d.o.IdleLatencyUs, d.cpuList()))
}

func (d *doc) checkSwap() Check {
	const id, title = "swap", "no swap"
	sw, err := d.f.ReadSwaps()
	if err != nil {
		return Check{ID: id, Title: title, Status: Warn, Detail: err.Error(), Fix: "mount /proc (or capture proc/swaps)"}
	}
	if len(sw) == 0 {
		return pass(id, title, "no active swap")
	}
	var names, fixes []string
	zram, other := false, false
	for _, s := range sw {
		names = append(names, fmt.Sprintf("%s (%s, %d MiB, %d MiB used)", s.Name, s.Type, s.SizeKB/1024, s.UsedKB/1024))
		if strings.HasPrefix(path.Base(s.Name), "zram") {
			zram = true
			fixes = append(fixes, fmt.Sprintf("sudo swapoff %s && sudo systemctl mask systemd-zram-setup@%s.service", s.Name, path.Base(s.Name)))
		} else {
			other = true
		}
	}
	if other {
		fix := "sudo swapoff -a && remove swap lines from /etc/fstab"
		if d.pi {
			fix = "sudo swapoff -a && sudo systemctl disable --now dphys-swapfile"
		}
		fixes = append(fixes, fix)
	}
	detail := "active swap: " + strings.Join(names, "; ") + ": a page-in lands in the timed loop unless the harness runs with --mlock"
	if zram && !other {
		detail += " (zram is RAM-backed but still a page fault)"
	}
	return Check{ID: id, Title: title, Status: Warn, Detail: detail, Fix: strings.Join(fixes, "; ")}
}

func (d *doc) checkRTThrottling() Check {
	const id, title = "rt_throttling", "RT throttling off"
	rt, err := d.f.ReadInt("proc/sys/kernel/sched_rt_runtime_us")
	if err != nil {
		return Check{ID: id, Title: title, Status: Warn, Detail: err.Error(), Fix: "mount /proc (or capture proc/sys/kernel/sched_rt_runtime_us)"}
	}
	if rt < 0 {
		return pass(id, title, "kernel.sched_rt_runtime_us = -1")
	}
	period, err := d.f.ReadInt("proc/sys/kernel/sched_rt_period_us")
	if err != nil || period <= 0 {
		period = 1000000
	}
	return Check{ID: id, Title: title, Status: Warn,
		Detail: fmt.Sprintf("kernel.sched_rt_runtime_us = %d of %d: a SCHED_FIFO timing thread is stopped for %.0f ms every %.0f ms, so the harness paces itself (recorded as rt_pacing)",
			rt, period, float64(period-rt)/1000, float64(period)/1000),
		Fix: "sudo sysctl -w kernel.sched_rt_runtime_us=-1 && echo 'kernel.sched_rt_runtime_us = -1' | sudo tee /etc/sysctl.d/90-tailgate.conf"}
}

func (d *doc) checkMemlock() Check {
	const id, title = "memlock", "memlock limit"
	const fix = `for the runner's systemd unit: LimitMEMLOCK=infinity (or AmbientCapabilities=CAP_IPC_LOCK); for a login user: echo "$(id -un) - memlock unlimited" | sudo tee /etc/security/limits.d/90-tailgate.conf, then log in again`
	lim, err := d.f.ReadLimits()
	if err != nil {
		return Check{ID: id, Title: title, Status: Warn, Detail: err.Error(), Fix: fix}
	}
	ml, ok := lim["Max locked memory"]
	if !ok {
		return Check{ID: id, Title: title, Status: Warn, Detail: d.f.HostPath("proc/self/limits") + ": no \"Max locked memory\" row", Fix: fix}
	}
	if ml.Soft == host.Unlimited {
		return pass(id, title, "RLIMIT_MEMLOCK unlimited: --mlock can lock the whole process")
	}
	if caps, err := d.f.EffectiveCaps(); err == nil && caps&(1<<host.CapIPCLock) != 0 {
		return pass(id, title, fmt.Sprintf("RLIMIT_MEMLOCK %s but CAP_IPC_LOCK lifts it", bytesText(ml.Soft)))
	}
	return Check{ID: id, Title: title, Status: Warn,
		Detail: fmt.Sprintf("RLIMIT_MEMLOCK %s and no CAP_IPC_LOCK: --mlock (mlockall) fails once the model and ONNX Runtime exceed it", bytesText(ml.Soft)),
		Fix:    fix}
}

func bytesText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (d *doc) checkSysNice() Check {
	const id, title = "cap_sys_nice", "CAP_SYS_NICE (SCHED_FIFO)"
	const fix = `sudo setcap cap_sys_nice,cap_ipc_lock+ep "$(command -v tailgate)"; or in the runner's systemd unit: AmbientCapabilities=CAP_SYS_NICE CAP_IPC_LOCK`
	caps, err := d.f.EffectiveCaps()
	if err != nil {
		return Check{ID: id, Title: title, Status: Warn, Detail: err.Error(), Fix: fix}
	}
	if caps&(1<<host.CapSysNice) != 0 {
		return pass(id, title, fmt.Sprintf("CapEff %016x has CAP_SYS_NICE", caps))
	}
	if lim, err := d.f.ReadLimits(); err == nil {
		if rp := lim["Max realtime priority"]; rp.Soft == host.Unlimited || rp.Soft > 0 {
			return pass(id, title, fmt.Sprintf("no CAP_SYS_NICE, but RLIMIT_RTPRIO %d allows SCHED_FIFO up to that priority", rp.Soft))
		}
	}
	return Check{ID: id, Title: title, Status: Warn,
		Detail: fmt.Sprintf("CapEff %016x lacks CAP_SYS_NICE and RLIMIT_RTPRIO is 0: sched fifo/deadline will be refused", caps),
		Fix:    fix}
}

func (d *doc) checkThrottle() []Check {
	const fixPower = "use the official 27 W USB-C supply (5.1 V, 5 A) and a short cable; fit the Active Cooler; the sticky bits clear on reboot: sudo reboot"
	now := Check{ID: "throttle_now", Title: "no throttling/under-voltage now"}
	boot := Check{ID: "throttle_since_boot", Title: "no throttling/under-voltage since boot"}
	src := d.o.Throttle
	if src == nil {
		s, ok := host.FindThrottleSource(d.f)
		if !ok {
			detail := "no Raspberry Pi firmware throttle report (get_throttled, rpi_volt hwmon or vcgencmd): cannot tell"
			fix := "on a Raspberry Pi: install vcgencmd (sudo apt install raspi-utils) or use a kernel with the firmware driver; elsewhere rely on the telemetry's frequency check"
			now.Status, now.Detail, now.Fix = Warn, detail, fix
			boot.Status, boot.Detail, boot.Fix = Warn, detail, fix
			return []Check{now, boot}
		}
		src = s
	}
	t, err := src.Throttled()
	if err != nil {
		now.Status, now.Detail, now.Fix = Fail, err.Error(), "make "+src.Source()+" readable to the runner user (add it to the video group: sudo usermod -aG video $(id -un))"
		boot.Status, boot.Detail, boot.Fix = Warn, "not read: "+err.Error(), now.Fix
		return []Check{now, boot}
	}
	if n := t & host.NowMask; n != 0 {
		now.Status, now.Detail, now.Fix = Fail, fmt.Sprintf("%s = %s: %s", src.Source(), t, strings.Join(n.Reasons(), ", ")), fixPower
	} else {
		now = pass(now.ID, now.Title, fmt.Sprintf("%s = %s", src.Source(), t))
	}
	if _, hw := src.(*host.HwmonUnderVoltage); hw {
		boot.Status, boot.Detail = Warn, src.Source()+" reports under-voltage now only, not since boot"
		boot.Fix = "install vcgencmd (sudo apt install raspi-utils) so doctor can read the sticky bits"
		return []Check{now, boot}
	}
	if o := t & host.OccurredMask; o != 0 {
		boot.Status, boot.Detail, boot.Fix = Warn, fmt.Sprintf("%s = %s: %s; runs since then may have been slowed", src.Source(), t, strings.Join(o.Reasons(), ", ")), fixPower
	} else {
		boot = pass(boot.ID, boot.Title, fmt.Sprintf("%s = %s", src.Source(), t))
	}
	return []Check{now, boot}
}

func (d *doc) checkTemperature() Check {
	const id, title = "temperature", "temperature headroom"
	c, z, err := d.f.CPUTempC()
	if err != nil {
		return Check{ID: id, Title: title, Status: Warn, Detail: err.Error(),
			Fix: "cannot be fixed in software on this host; telemetry will record no temperature"}
	}
	where := fmt.Sprintf("%.1f °C (%s %s)", c, z.Name, z.Type)
	fix := fmt.Sprintf("cool the board (Raspberry Pi 5: Active Cooler, open case, airflow) and wait until it reads below %.0f °C: cat /sys/class/thermal/%s/temp", d.o.TempWarnC, z.Name)
	switch {
	case c > d.o.TempFailC:
		return Check{ID: id, Title: title, Status: Fail, Detail: fmt.Sprintf("%s is above %.0f °C: the run will likely throttle", where, d.o.TempFailC), Fix: fix}
	case c > d.o.TempWarnC:
		return Check{ID: id, Title: title, Status: Warn, Detail: fmt.Sprintf("%s is above %.0f °C: little headroom before throttling", where, d.o.TempWarnC), Fix: fix}
	}
	return pass(id, title, where)
}

func (d *doc) checkPins() []Check {
	var out []Check
	p := d.o.Pins
	if p.Kernel != "" {
		c := Check{ID: "pin.kernel", Title: "kernel pin", Pin: true}
		ok, err := path.Match(p.Kernel, d.fp.KernelRelease)
		switch {
		case err != nil:
			c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("pins.kernel %q is not a valid glob: %v", p.Kernel, err), "fix pins.kernel in tailgate.yaml (e.g. \"6.12.*-rt*\")"
		case !ok:
			c.Status, c.Detail = Fail, fmt.Sprintf("kernel %s does not match pins.kernel %q", d.fp.KernelRelease, p.Kernel)
			c.Fix = fmt.Sprintf("boot a kernel matching %q (check with uname -r), or re-baseline on this one and change pins.kernel", p.Kernel)
		default:
			c = pass(c.ID, c.Title, fmt.Sprintf("%s matches %q", d.fp.KernelRelease, p.Kernel))
			c.Pin = true
		}
		out = append(out, c)
	}
	if p.ORTVersion != "" || p.ORTSHA256 != "" {
		out = append(out, d.checkORT()...)
	}
	names := make([]string, 0, len(p.Models))
	for n := range p.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, d.checkModel(n, p.Models[n]))
	}
	return append(out, d.checkRuntimes()...)
}

// checkRuntimes starts each exec suite's worker once and matches the versions they name
// against the runtime pins.
func (d *doc) checkRuntimes() []Check {
	p := d.o.Pins
	if len(p.Runtimes) == 0 {
		return nil
	}
	type probed struct {
		suite string
		ready execbackend.Ready
		err   error
	}
	var seen []probed
	var said []string
	for _, w := range d.o.Workers {
		r, err := w.Probe()
		seen = append(seen, probed{w.Suite, r, err})
		if err != nil {
			said = append(said, fmt.Sprintf("suite %s: %v", w.Suite, err))
		} else {
			said = append(said, fmt.Sprintf("suite %s: %s %s on %s", w.Suite, r.Runtime, r.Version, r.Device))
		}
	}
	names := make([]string, 0, len(p.Runtimes))
	for n := range p.Runtimes {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Check
	for _, n := range names {
		glob := p.Runtimes[n]
		c := Check{ID: "pin.runtime." + n, Title: n + " version pin", Pin: true, Status: Pass}
		fix := fmt.Sprintf("install %s matching %q on this board, or re-baseline and change pins.%s", n, glob, n)
		var details []string
		for _, s := range seen {
			if s.err != nil || s.ready.Runtime != n {
				continue
			}
			ok, _ := path.Match(glob, s.ready.Version)
			if !ok {
				c.Status, c.Fix = Fail, fix
				details = append(details, fmt.Sprintf("suite %s: %s %s does not match pins.%s %q", s.suite, n, s.ready.Version, n, glob))
			} else {
				details = append(details, fmt.Sprintf("suite %s: %s %s matches %q", s.suite, n, s.ready.Version, glob))
			}
		}
		if len(details) == 0 {
			c.Status, c.Fix = Fail, fix+" (an exec suite's worker must name the runtime in its handshake: docs/worker-protocol.md)"
			details = append(details, fmt.Sprintf("no exec suite's worker names runtime %s", n))
			if len(said) > 0 {
				details = append(details, "workers: "+strings.Join(said, "; "))
			}
		}
		c.Detail = strings.Join(details, "; ")
		out = append(out, c)
	}
	return out
}

func (d *doc) checkORT() []Check {
	p := d.o.Pins
	const fix = "make ort (installs the pinned ONNX Runtime into .cache), or pass --ort-lib PATH to the pinned library"
	var lib ortlib.Library
	err := errors.New("no ONNX Runtime loader given")
	if d.o.ORT != nil {
		lib, err = d.o.ORT()
	}
	var out []Check
	add := func(id, title, want, got string) {
		c := Check{ID: id, Title: title, Pin: true}
		switch {
		case err != nil:
			c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("cannot load ONNX Runtime: %v", err), fix
		case !strings.EqualFold(got, want):
			c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("%s has %s, pinned %s", lib.Path, got, want), fix
		default:
			c.Status, c.Detail = Pass, fmt.Sprintf("%s (%s)", got, lib.Path)
		}
		out = append(out, c)
	}
	if p.ORTVersion != "" {
		add("pin.onnxruntime", "ONNX Runtime version pin", p.ORTVersion, lib.Version)
	}
	if p.ORTSHA256 != "" {
		add("pin.onnxruntime_sha256", "ONNX Runtime library SHA-256 pin", p.ORTSHA256, lib.SHA256)
	}
	return out
}

func (d *doc) checkModel(name, want string) Check {
	c := Check{ID: "pin.model." + name, Title: "model " + name + " SHA-256 pin", Pin: true}
	p, ok := d.o.ModelPaths[name]
	if !ok {
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("no model file given for pinned model %q", name), fmt.Sprintf("add suite %q with its model path to tailgate.yaml, or drop its pin", name)
		return c
	}
	got, err := ortlib.FileSHA256(p)
	switch {
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		if errors.Is(err, os.ErrNotExist) {
			c.Fix = fmt.Sprintf("restore %s (git checkout -- %s, or make models)", p, p)
		} else {
			c.Fix = "make " + p + " readable"
		}
	case !strings.EqualFold(got, want):
		c.Status, c.Detail = Fail, fmt.Sprintf("%s has SHA-256 %s, pinned %s", p, got, want)
		c.Fix = fmt.Sprintf("restore the pinned model (git checkout -- %s), or re-baseline and set pins.model_sha256.%s: %s", p, name, got)
	default:
		c.Status, c.Detail = Pass, fmt.Sprintf("%s %s", p, got)
	}
	return c
}
