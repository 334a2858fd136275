package host

import (
	"reflect"
	"strings"
	"testing"
)

func TestTuningReaders(t *testing.T) {
	tests := []struct {
		tree        string
		idleCPU3    []IdleState
		irqs        int
		irq111      []int
		swaps       []Swap
		memlockSoft int64
		caps        uint64
	}{
		{"pi5-rt", []IdleState{{0, "WFI", 1, false}, {1, "cpu-sleep", 400, true}}, 17, []int{0, 1, 2}, nil, Unlimited, 0x804000},
		{"pi5-stock", []IdleState{{0, "WFI", 1, false}, {1, "cpu-sleep", 400, false}}, 17, []int{0, 1, 2, 3},
			[]Swap{{"/dev/zram0", "partition", 2097136, 68352}}, 8 << 20, 0},
		{"x86-here", nil, 19, nil, nil, 8 << 20, 0x1fffeffffff},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			f := NewFS(fixture(t, tt.tree))
			idle, err := f.IdleStates(3)
			if err != nil || !reflect.DeepEqual(idle, tt.idleCPU3) {
				t.Errorf("IdleStates(3) = %+v, %v; want %+v", idle, err, tt.idleCPU3)
			}
			affs, err := f.IRQAffinities()
			if err != nil || len(affs) != tt.irqs {
				t.Errorf("IRQAffinities: %d, %v; want %d", len(affs), err, tt.irqs)
			}
			for _, a := range affs {
				if a.IRQ == 111 && !reflect.DeepEqual(a.CPUs, tt.irq111) {
					t.Errorf("IRQ 111 affinity %v, want %v", a.CPUs, tt.irq111)
				}
			}
			sw, err := f.ReadSwaps()
			if err != nil || !reflect.DeepEqual(sw, tt.swaps) {
				t.Errorf("ReadSwaps = %+v, %v; want %+v", sw, err, tt.swaps)
			}
			lim, err := f.ReadLimits()
			if err != nil || lim["Max locked memory"].Soft != tt.memlockSoft {
				t.Errorf("memlock = %+v, %v; want soft %d", lim["Max locked memory"], err, tt.memlockSoft)
			}
			if caps, err := f.EffectiveCaps(); err != nil || caps != tt.caps {
				t.Errorf("EffectiveCaps = %x, %v; want %x", caps, err, tt.caps)
			}
		})
	}
}

func TestTuningReadersReject(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"proc/swaps":                   "Filename Type Size Used Priority\n/dev/sda2 partition\n",
		"proc/self/status":             "Name:\tx\nCapEff:\tnothex\n",
		"proc/irq/5/smp_affinity_list": "0-x\n",
		"proc/self/limits":             "Limit                     Soft Limit           Hard Limit           Units     \nMax locked memory         lots                 8388608              bytes     \n",
	})
	f := NewFS(root)
	for name, err := range map[string]error{
		"swaps": func() error { _, err := f.ReadSwaps(); return err }(),
		"caps":  func() error { _, err := f.EffectiveCaps(); return err }(),
		"irq":   func() error { _, err := f.IRQAffinities(); return err }(),
		"limit": func() error { _, err := f.ReadLimits(); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), root) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
}
