package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ErrUnavailable says a reading does not exist on this host (no thermal zone, no cpufreq, not
// a Raspberry Pi). Callers treat it as "cannot tell", never as a healthy value.
var ErrUnavailable = errors.New("not available on this host")

// ThermalZone is one /sys/class/thermal zone's reading.
type ThermalZone struct {
	Name  string  // e.g. "thermal_zone0"
	Type  string  // e.g. "cpu-thermal", "x86_pkg_temp"
	TempC float64 // degrees Celsius
}

// ThermalZones reads every sys/class/thermal/thermal_zone*/temp (millidegrees). Zones whose temp
// cannot be read (some report EIO while a sensor sleeps) are skipped.
func (f FS) ThermalZones() ([]ThermalZone, error) {
	dirs, err := f.Glob("sys/class/thermal/thermal_zone*")
	if err != nil {
		return nil, err
	}
	var out []ThermalZone
	for _, d := range dirs {
		milli, err := f.ReadInt(d + "/temp")
		if err != nil {
			continue
		}
		typ, _ := f.ReadString(d + "/type")
		name := d[strings.LastIndexByte(d, '/')+1:]
		out = append(out, ThermalZone{Name: name, Type: typ, TempC: float64(milli) / 1000})
	}
	return out, nil
}

// CPUTempC returns the CPU temperature in °C: the zone typed "cpu-thermal" (Raspberry Pi) or
// "x86_pkg_temp" when there is one, else the hottest zone. ErrUnavailable when there are none.
func (f FS) CPUTempC() (float64, ThermalZone, error) {
	zones, err := f.ThermalZones()
	if err != nil {
		return 0, ThermalZone{}, err
	}
	if len(zones) == 0 {
		return 0, ThermalZone{}, fmt.Errorf("CPU temperature: no readable %s: %w", f.HostPath("sys/class/thermal/thermal_zone*/temp"), ErrUnavailable)
	}
	best := zones[0]
	for _, z := range zones {
		if z.Type == "cpu-thermal" || z.Type == "x86_pkg_temp" {
			return z.TempC, z, nil
		}
		if z.TempC > best.TempC {
			best = z
		}
	}
	return best.TempC, best, nil
}

// CurFreqKHz returns the current frequency of cpu in kHz (cpufreq scaling_cur_freq).
// ErrUnavailable when the host has no cpufreq for it.
func (f FS) CurFreqKHz(cpu int) (int64, error) {
	n, err := f.ReadInt(cpuDir(cpu) + "/cpufreq/scaling_cur_freq")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("cpu%d frequency: %w", cpu, ErrUnavailable)
	}
	return n, err
}

// Throttled is the Raspberry Pi firmware's get_throttled word.
type Throttled uint32

// Throttle bits, as the firmware documents them: the low nibble is "now", bits 16-19 the
// sticky "has occurred since boot" copies.
const (
	UnderVoltageNow       Throttled = 1 << 0
	FreqCappedNow         Throttled = 1 << 1
	ThrottledNow          Throttled = 1 << 2
	SoftTempLimitNow      Throttled = 1 << 3
	UnderVoltageOccurred  Throttled = 1 << 16
	FreqCappedOccurred    Throttled = 1 << 17
	ThrottledOccurred     Throttled = 1 << 18
	SoftTempLimitOccurred Throttled = 1 << 19
)

// NowMask and OccurredMask select the "now" and "since boot" bits.
const (
	NowMask      Throttled = 0xf
	OccurredMask Throttled = 0xf << 16
)

var throttleNames = []struct {
	bit  Throttled
	name string
}{
	{UnderVoltageNow, "under-voltage now"},
	{FreqCappedNow, "ARM frequency capped now"},
	{ThrottledNow, "throttled now"},
	{SoftTempLimitNow, "soft temperature limit active now"},
	{UnderVoltageOccurred, "under-voltage occurred"},
	{FreqCappedOccurred, "ARM frequency capping occurred"},
	{ThrottledOccurred, "throttling occurred"},
	{SoftTempLimitOccurred, "soft temperature limit occurred"},
}

// Reasons names each set bit, "now" bits first.
func (t Throttled) Reasons() []string {
	var out []string
	for _, n := range throttleNames {
		if t&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// String renders the word as vcgencmd does ("0x50000").
func (t Throttled) String() string { return fmt.Sprintf("0x%x", uint32(t)) }

// ParseThrottled parses get_throttled output: the sysfs node's bare hex ("50000"), or
// vcgencmd's "throttled=0x50000".
func ParseThrottled(s string) (Throttled, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimPrefix(v, "throttled=")
	v = strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("get_throttled %q: not a hex word", strings.TrimSpace(s))
	}
	return Throttled(n), nil
}

// ThrottleSource reads the throttle word. Source names where it came from, for messages.
type ThrottleSource interface {
	Throttled() (Throttled, error)
	Source() string
}

// SysfsThrottle reads the firmware driver's get_throttled node below a root.
type SysfsThrottle struct {
	FS   FS
	path string
}

// throttlePatterns are where the Raspberry Pi firmware driver's node appears: platform/soc/
// soc:firmware on a Pi 4, below the soc@… bus on a Pi 5.
var throttlePatterns = []string{
	"sys/devices/platform/soc/soc:firmware/get_throttled",
	"sys/devices/platform/*/*firmware/get_throttled",
	"sys/devices/platform/*firmware/get_throttled",
}

// FindSysfsThrottle returns the sysfs source if the node exists below f's root.
func FindSysfsThrottle(f FS) (*SysfsThrottle, bool) {
	for _, p := range throttlePatterns {
		m, _ := f.Glob(p)
		if len(m) > 0 {
			return &SysfsThrottle{FS: f, path: m[0]}, true
		}
	}
	return nil, false
}

// Throttled implements ThrottleSource.
func (s *SysfsThrottle) Throttled() (Throttled, error) {
	v, err := s.FS.ReadString(s.path)
	if err != nil {
		return 0, err
	}
	t, err := ParseThrottled(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.FS.Path(s.path), err)
	}
	return t, nil
}

// Source implements ThrottleSource.
func (s *SysfsThrottle) Source() string { return s.FS.HostPath(s.path) }

// HwmonUnderVoltage reads the rpi_volt hwmon sensor's in0_lcrit_alarm, which newer kernels
// offer in place of get_throttled: it reports under-voltage now (bit 0) and nothing else.
type HwmonUnderVoltage struct {
	FS   FS
	path string
}

// FindHwmonUnderVoltage returns the hwmon source if an "rpi_volt" sensor exists.
func FindHwmonUnderVoltage(f FS) (*HwmonUnderVoltage, bool) {
	dirs, _ := f.Glob("sys/class/hwmon/hwmon*")
	for _, d := range dirs {
		if n, _ := f.ReadString(d + "/name"); n == "rpi_volt" {
			return &HwmonUnderVoltage{FS: f, path: d + "/in0_lcrit_alarm"}, true
		}
	}
	return nil, false
}

// Throttled implements ThrottleSource; only UnderVoltageNow can be set.
func (h *HwmonUnderVoltage) Throttled() (Throttled, error) {
	n, err := h.FS.ReadInt(h.path)
	if err != nil {
		return 0, err
	}
	if n != 0 {
		return UnderVoltageNow, nil
	}
	return 0, nil
}

// Source implements ThrottleSource.
func (h *HwmonUnderVoltage) Source() string { return h.FS.HostPath(h.path) }

// Vcgencmd runs `vcgencmd get_throttled`. Run is the command runner; nil runs the real
// vcgencmd from PATH.
type Vcgencmd struct {
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
}

// Throttled implements ThrottleSource.
func (v Vcgencmd) Throttled() (Throttled, error) {
	run := v.Run
	if run == nil {
		run = func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, name, args...).Output()
		}
	}
	out, err := run(context.Background(), "vcgencmd", "get_throttled")
	if err != nil {
		return 0, fmt.Errorf("vcgencmd get_throttled: %w", err)
	}
	return ParseThrottled(string(out))
}

// Source implements ThrottleSource.
func (Vcgencmd) Source() string { return "vcgencmd get_throttled" }

// FindThrottleSource picks the best throttle source below f's root: the firmware's sysfs
// node, then the rpi_volt hwmon sensor, then (on a live host with vcgencmd on PATH) vcgencmd.
// It returns false when the host offers none, as on any non-Raspberry Pi.
func FindThrottleSource(f FS) (ThrottleSource, bool) {
	if s, ok := FindSysfsThrottle(f); ok {
		return s, true
	}
	if h, ok := FindHwmonUnderVoltage(f); ok {
		return h, true
	}
	if f.Live() {
		if _, err := exec.LookPath("vcgencmd"); err == nil {
			return Vcgencmd{}, true
		}
	}
	return nil, false
}

// Interrupts is /proc/interrupts: a row per interrupt source with its count on each CPU.
type Interrupts struct {
	CPUs []int // CPU ids of the columns, from the header ("CPU0 CPU1 …")
	Rows []InterruptRow
}

// InterruptRow is one line of /proc/interrupts.
type InterruptRow struct {
	IRQ    string   // "11", "IPI0", "LOC", "ERR"
	Counts []uint64 // per column of Interrupts.CPUs; shorter for ERR/MIS-style lines
	// Desc is the rest of the line: chip, hardware IRQ, trigger and action
	// ("GICv2  30 Level     arch_timer").
	Desc string
}

// ParseInterrupts parses /proc/interrupts. Lines that do not fit are an error naming the line.
func ParseInterrupts(r io.Reader) (Interrupts, error) {
	var in Interrupts
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			for _, h := range strings.Fields(text) {
				n, err := strconv.Atoi(strings.TrimPrefix(h, "CPU"))
				if !strings.HasPrefix(h, "CPU") || err != nil || n < 0 {
					return Interrupts{}, fmt.Errorf("interrupts header: %q is not CPUn", h)
				}
				in.CPUs = append(in.CPUs, n)
			}
			if len(in.CPUs) == 0 {
				return Interrupts{}, fmt.Errorf("interrupts header: no CPU columns")
			}
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		irq, rest, ok := strings.Cut(text, ":")
		irq = strings.TrimSpace(irq)
		if !ok || irq == "" || strings.ContainsAny(irq, " \t") {
			return Interrupts{}, fmt.Errorf("interrupts line %d: no \"NAME:\" prefix", line)
		}
		row := InterruptRow{IRQ: irq}
		fields := strings.Fields(rest)
		i := 0
		for ; i < len(fields) && i < len(in.CPUs); i++ {
			n, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				break
			}
			row.Counts = append(row.Counts, n)
		}
		row.Desc = strings.Join(fields[i:], " ")
		in.Rows = append(in.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return Interrupts{}, fmt.Errorf("interrupts: %w", err)
	}
	if line == 0 {
		return Interrupts{}, fmt.Errorf("interrupts: empty")
	}
	return in, nil
}

// PerCPU sums every row's count per CPU id.
func (in Interrupts) PerCPU() map[int]uint64 {
	out := make(map[int]uint64, len(in.CPUs))
	for _, c := range in.CPUs {
		out[c] = 0
	}
	for _, r := range in.Rows {
		for i, n := range r.Counts {
			out[in.CPUs[i]] += n
		}
	}
	return out
}

// ReadInterrupts reads and parses proc/interrupts.
func (f FS) ReadInterrupts() (Interrupts, error) {
	fh, err := os.Open(f.Path("proc/interrupts"))
	if err != nil {
		return Interrupts{}, err
	}
	defer fh.Close()
	in, err := ParseInterrupts(fh)
	if err != nil {
		return Interrupts{}, fmt.Errorf("%s: %w", f.Path("proc/interrupts"), err)
	}
	return in, nil
}

// InterruptsPerCPU returns the total interrupts each of cpus has taken since boot.
func (f FS) InterruptsPerCPU(cpus []int) (map[int]uint64, error) {
	in, err := f.ReadInterrupts()
	if err != nil {
		return nil, err
	}
	all := in.PerCPU()
	out := make(map[int]uint64, len(cpus))
	for _, c := range cpus {
		out[c] = all[c]
	}
	return out, nil
}

// LoadAvg is /proc/loadavg.
type LoadAvg struct {
	Load1, Load5, Load15 float64
	Running, Total       int
}

// ReadLoadAvg reads proc/loadavg.
func (f FS) ReadLoadAvg() (LoadAvg, error) {
	s, err := f.ReadString("proc/loadavg")
	if err != nil {
		return LoadAvg{}, err
	}
	var l LoadAvg
	var last int
	if _, err := fmt.Sscanf(s, "%g %g %g %d/%d %d", &l.Load1, &l.Load5, &l.Load15, &l.Running, &l.Total, &last); err != nil {
		return LoadAvg{}, fmt.Errorf("%s: %q: %w", f.Path("proc/loadavg"), s, err)
	}
	return l, nil
}
