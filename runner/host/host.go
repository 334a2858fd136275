// Package host reads the board tailgate measures on: the environment fingerprint (kernel,
// PREEMPT_RT, isolation parameters, CPU and board model, governors) and the live readings the
// telemetry sampler takes (temperature, frequency, Raspberry Pi throttle bits, interrupts per
// CPU, load). Everything is read below a root directory, "/" on a real host, so tests and
// `tailgate doctor --root` run on captured /proc and /sys trees (fixtures/hosts).
//
// It only reads: judging the host is runner/doctor's job, and sampling on a schedule is the
// telemetry sampler's.
package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// DefaultRoot is where a live host's /proc and /sys are found.
const DefaultRoot = "/"

// Options say where to read and which CPUs the run measures.
type Options struct {
	// Root is the directory holding proc/ and sys/; "" means DefaultRoot.
	Root string
	// CPUs are the measured CPUs; their governors go into the fingerprint. Empty means every
	// present CPU.
	CPUs []int
	// ToolVersion is copied into the fingerprint.
	ToolVersion string
}

// FS reads files below a root. It is what every reader in this package uses, so that a
// captured tree and a live host are read the same way.
type FS struct{ Root string }

// NewFS returns an FS for root ("" means DefaultRoot).
func NewFS(root string) FS {
	if root == "" {
		root = DefaultRoot
	}
	return FS{Root: root}
}

// Live reports whether the FS reads the running host rather than a captured tree.
func (f FS) Live() bool { return filepath.Clean(f.Root) == "/" }

// Path returns the host path rel (e.g. "proc/cmdline") below the root.
func (f FS) Path(rel string) string { return filepath.Join(f.Root, rel) }

// HostPath returns rel as the host would name it ("/proc/cmdline"), for messages that should
// read the same on a captured tree and on the live host.
func (f FS) HostPath(rel string) string { return "/" + strings.TrimPrefix(rel, "/") }

// ReadString reads a file and trims surrounding whitespace and trailing NULs (device-tree
// strings are NUL-terminated).
func (f FS) ReadString(rel string) (string, error) {
	b, err := os.ReadFile(f.Path(rel))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.TrimRight(string(b), "\x00\n")), nil
}

// ReadInt reads a file holding one decimal integer.
func (f FS) ReadInt(rel string) (int64, error) {
	s, err := f.ReadString(rel)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.Path(rel), err)
	}
	return n, nil
}

// Glob returns the paths below the root matching pattern, relative to the root.
func (f FS) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(f.Path(pattern))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(m))
	for i, p := range m {
		rel, err := filepath.Rel(f.Root, p)
		if err != nil {
			return nil, err
		}
		out[i] = rel
	}
	return out, nil
}

// Kernel is the running kernel's identity.
type Kernel struct {
	Release string // e.g. "6.12.47-rt-v8-16k+"
	Version string // e.g. "#1 SMP PREEMPT_RT Tue Sep 23 10:11:12 UTC 2025"
	// PreemptRT is true when the version string says PREEMPT_RT or /sys/kernel/realtime is 1.
	PreemptRT bool
}

// ReadKernel reads the kernel release and version: uname on a live host, otherwise
// proc/sys/kernel/osrelease and proc/sys/kernel/version.
func (f FS) ReadKernel() (Kernel, error) {
	var k Kernel
	var errs []error
	if f.Live() {
		k.Release, k.Version = uname()
	}
	if k.Release == "" {
		r, err := f.ReadString("proc/sys/kernel/osrelease")
		if err != nil {
			errs = append(errs, fmt.Errorf("kernel release: %w", err))
		}
		k.Release = r
	}
	if k.Version == "" {
		v, err := f.ReadString("proc/sys/kernel/version")
		if err != nil {
			errs = append(errs, fmt.Errorf("kernel version: %w", err))
		}
		k.Version = v
	}
	rt, err := f.ReadString("sys/kernel/realtime")
	k.PreemptRT = strings.Contains(k.Version, "PREEMPT_RT") || (err == nil && rt == "1")
	return k, errors.Join(errs...)
}

// ReadCmdline reads proc/cmdline.
func (f FS) ReadCmdline() (Cmdline, error) {
	s, err := f.ReadString("proc/cmdline")
	if err != nil {
		return Cmdline{Params: map[string]string{}}, err
	}
	return ParseCmdline(s), nil
}

// ReadCPUInfo reads proc/cpuinfo.
func (f FS) ReadCPUInfo() (CPUInfo, error) {
	b, err := os.ReadFile(f.Path("proc/cpuinfo"))
	if err != nil {
		return CPUInfo{}, err
	}
	return ParseCPUInfo(string(b)), nil
}

// PresentCPUs reads sys/devices/system/cpu/present.
func (f FS) PresentCPUs() ([]int, error) {
	s, err := f.ReadString("sys/devices/system/cpu/present")
	if err != nil {
		return nil, err
	}
	cpus, err := ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path("sys/devices/system/cpu/present"), err)
	}
	return cpus, nil
}

// Board returns the board model: the device tree's model (Raspberry Pi and most arm64
// boards), else DMI's vendor and product name (x86 and ACPI arm64 servers), else "".
func (f FS) Board() string {
	if m, err := f.ReadString("proc/device-tree/model"); err == nil && m != "" {
		return m
	}
	if m, err := f.ReadString("sys/firmware/devicetree/base/model"); err == nil && m != "" {
		return m
	}
	product, _ := f.ReadString("sys/class/dmi/id/product_name")
	vendor, _ := f.ReadString("sys/class/dmi/id/board_vendor")
	if vendor == "" {
		vendor, _ = f.ReadString("sys/class/dmi/id/sys_vendor")
	}
	return strings.TrimSpace(strings.TrimSpace(vendor) + " " + strings.TrimSpace(product))
}

// cpuDir is the sysfs folder of one CPU.
func cpuDir(cpu int) string { return fmt.Sprintf("sys/devices/system/cpu/cpu%d", cpu) }

// Governor returns the cpufreq governor of cpu. A host without cpufreq (many VMs) returns an
// error satisfying errors.Is(err, fs.ErrNotExist).
func (f FS) Governor(cpu int) (string, error) {
	return f.ReadString(cpuDir(cpu) + "/cpufreq/scaling_governor")
}

// Collect reads the host part of the fingerprint: kernel, PREEMPT_RT, isolation parameters,
// CPU model and count, board, governors of the measured CPUs, and arch, OS and Go version.
// It fills what it can and returns every failure joined; a missing kernel identity or
// cpuinfo is an error, a missing governor (no cpufreq) is not.
func Collect(o Options) (result.Fingerprint, error) {
	f := NewFS(o.Root)
	fp := result.Fingerprint{OS: runtime.GOOS, GoVersion: runtime.Version(), ToolVersion: o.ToolVersion}
	var errs []error
	k, err := f.ReadKernel()
	if err != nil {
		errs = append(errs, err)
	}
	fp.KernelRelease, fp.KernelVersion, fp.PreemptRT = k.Release, k.Version, k.PreemptRT

	cl, err := f.ReadCmdline()
	if err != nil {
		errs = append(errs, fmt.Errorf("kernel command line: %w", err))
	}
	fp.Isolcpus = cl.Params["isolcpus"]
	fp.NohzFull = cl.Params["nohz_full"]
	fp.RcuNocbs = cl.Params["rcu_nocbs"]

	ci, err := f.ReadCPUInfo()
	if err != nil {
		errs = append(errs, fmt.Errorf("cpuinfo: %w", err))
	}
	fp.CPUModel = ci.Model
	fp.Arch = runtime.GOARCH
	if !f.Live() && ci.Arch != "" {
		// A captured tree describes its own machine, not the one reading it.
		fp.Arch = ci.Arch
	}
	present, err := f.PresentCPUs()
	if err != nil {
		errs = append(errs, fmt.Errorf("CPU count: %w", err))
		present = nil
	}
	fp.CPUCount = len(present)
	if fp.CPUCount == 0 {
		fp.CPUCount = ci.Processors
	}
	fp.Board = f.Board()
	if fp.Board == "" {
		fp.Board = ci.BoardModel
	}

	cpus := o.CPUs
	if len(cpus) == 0 {
		cpus = present
	}
	for _, c := range cpus {
		if g, err := f.Governor(c); err == nil {
			if fp.Governors == nil {
				fp.Governors = map[string]string{}
			}
			fp.Governors[fmt.Sprintf("cpu%d", c)] = g
		}
	}
	if len(errs) > 0 {
		return fp, fmt.Errorf("host fingerprint under %s: %w", f.Root, errors.Join(errs...))
	}
	return fp, nil
}
