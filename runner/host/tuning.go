package host

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// IdleState is one cpuidle state of a CPU.
type IdleState struct {
	Index     int
	Name      string
	LatencyUs int64 // exit latency in microseconds
	Disabled  bool
}

// IdleStates reads sys/devices/system/cpu/cpuN/cpuidle/state*/. A CPU without a cpuidle
// driver (idle is then the architecture's WFI/HLT) returns no states and no error.
func (f FS) IdleStates(cpu int) ([]IdleState, error) {
	dirs, err := f.Glob(cpuDir(cpu) + "/cpuidle/state[0-9]*")
	if err != nil {
		return nil, err
	}
	var out []IdleState
	var errs []error
	for _, d := range dirs {
		idx, err := strconv.Atoi(strings.TrimPrefix(path.Base(d), "state"))
		if err != nil {
			continue
		}
		st := IdleState{Index: idx}
		st.Name, _ = f.ReadString(d + "/name")
		if st.LatencyUs, err = f.ReadInt(d + "/latency"); err != nil {
			errs = append(errs, err)
		}
		dis, err := f.ReadString(d + "/disable")
		if err != nil {
			errs = append(errs, err)
		}
		st.Disabled = dis == "1"
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, errors.Join(errs...)
}

// IRQAffinity is one /proc/irq/N entry.
type IRQAffinity struct {
	IRQ  int
	CPUs []int
}

// IRQAffinities reads every proc/irq/N/smp_affinity_list, ordered by IRQ number.
func (f FS) IRQAffinities() ([]IRQAffinity, error) {
	files, err := f.Glob("proc/irq/[0-9]*/smp_affinity_list")
	if err != nil {
		return nil, err
	}
	var out []IRQAffinity
	var errs []error
	for _, p := range files {
		n, err := strconv.Atoi(path.Base(path.Dir(p)))
		if err != nil {
			continue
		}
		s, err := f.ReadString(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cpus, err := ParseCPUList(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Path(p), err))
			continue
		}
		out = append(out, IRQAffinity{IRQ: n, CPUs: cpus})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IRQ < out[j].IRQ })
	return out, errors.Join(errs...)
}

// Swap is one active swap area from /proc/swaps.
type Swap struct {
	Name   string
	Type   string
	SizeKB int64
	UsedKB int64
}

// ReadSwaps reads proc/swaps; an empty list means no swap.
func (f FS) ReadSwaps() ([]Swap, error) {
	s, err := f.ReadString("proc/swaps")
	if err != nil {
		return nil, err
	}
	var out []Swap
	for i, line := range strings.Split(s, "\n") {
		fl := strings.Fields(line)
		if i == 0 || len(fl) == 0 {
			continue // header
		}
		if len(fl) < 4 {
			return nil, fmt.Errorf("%s line %d: %q: want name, type, size, used", f.Path("proc/swaps"), i+1, line)
		}
		sw := Swap{Name: fl[0], Type: fl[1]}
		sw.SizeKB, _ = strconv.ParseInt(fl[2], 10, 64)
		sw.UsedKB, _ = strconv.ParseInt(fl[3], 10, 64)
		out = append(out, sw)
	}
	return out, nil
}

// Unlimited is the value ReadLimits reports for "unlimited".
const Unlimited int64 = -1

// Limit is one row of /proc/PID/limits.
type Limit struct{ Soft, Hard int64 }

// ReadLimits reads proc/self/limits (the reading process's resource limits) into name → limit,
// with names as the file spells them ("Max locked memory") and Unlimited for "unlimited".
func (f FS) ReadLimits() (map[string]Limit, error) {
	s, err := f.ReadString("proc/self/limits")
	if err != nil {
		return nil, err
	}
	out := map[string]Limit{}
	for i, line := range strings.Split(s, "\n") {
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		// Columns are fixed-width: name (26), soft (21), hard (21), units.
		if len(line) < 26 {
			continue
		}
		name := strings.TrimSpace(line[:26])
		fl := strings.Fields(line[26:])
		if len(fl) < 2 {
			return nil, fmt.Errorf("%s line %d: %q: want soft and hard limits", f.Path("proc/self/limits"), i+1, line)
		}
		soft, err1 := parseLimit(fl[0])
		hard, err2 := parseLimit(fl[1])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", f.Path("proc/self/limits"), i+1, err)
		}
		out[name] = Limit{Soft: soft, Hard: hard}
	}
	return out, nil
}

func parseLimit(s string) (int64, error) {
	if s == "unlimited" {
		return Unlimited, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// Capability bits tailgate cares about (linux/capability.h).
const (
	CapIPCLock = 14
	CapSysNice = 23
)

// EffectiveCaps reads CapEff from proc/self/status.
func (f FS) EffectiveCaps() (uint64, error) {
	s, err := f.ReadString("proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: CapEff %q: %w", f.Path("proc/self/status"), strings.TrimSpace(v), err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: no CapEff line: %w", f.Path("proc/self/status"), fs.ErrNotExist)
}
