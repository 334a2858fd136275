package host

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProbeMatchesFS checks that every probe reading is the FS reading it replaces, on the
// captured trees and on the live host.
func TestProbeMatchesFS(t *testing.T) {
	tests := []struct {
		name string
		root string
		cpus []int
	}{
		{"pi5-rt", fixture(t, "pi5-rt"), []int{3, 0}},
		{"pi5-stock", fixture(t, "pi5-stock"), []int{0, 1, 2, 3}},
		{"x86-here", fixture(t, "x86-here"), []int{1}},
		{"measured cpu without a column", fixture(t, "pi5-rt"), []int{7}},
		{"live", "/", []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFS(tt.root)
			p, err := f.OpenProbe(tt.cpus)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for range 2 { // the second pass re-reads the open files from offset 0
				want, _, werr := f.CPUTempC()
				got, gerr := p.CPUTempC()
				if (werr == nil) != (gerr == nil) || got != want && tt.root != "/" {
					t.Errorf("CPUTempC = %v, %v; FS says %v, %v", got, gerr, want, werr)
				}
				if werr != nil && !errors.Is(gerr, ErrUnavailable) {
					t.Errorf("CPUTempC error %v, want ErrUnavailable", gerr)
				}
				for i, c := range tt.cpus {
					want, werr := f.CurFreqKHz(c)
					got, gerr := p.CurFreqKHz(i)
					if (werr == nil) != (gerr == nil) || got != want && tt.root != "/" {
						t.Errorf("cpu%d CurFreqKHz = %v, %v; FS says %v, %v", c, got, gerr, want, werr)
					}
				}
				la, werr := f.ReadLoadAvg()
				l1, gerr := p.Load1()
				if werr != nil || gerr != nil || tt.root != "/" && l1 != la.Load1 {
					t.Errorf("Load1 = %v, %v; FS says %v, %v", l1, gerr, la.Load1, werr)
				}
				var wantThr Throttled
				src, ok := FindThrottleSource(f)
				if ok {
					wantThr, werr = src.Throttled()
				}
				_, isVcgencmd := src.(Vcgencmd)
				if p.HasThrottle() != (ok && !isVcgencmd) {
					t.Errorf("HasThrottle = %v, FindThrottleSource found %v", p.HasThrottle(), src)
				}
				if p.HasThrottle() {
					got, gerr := p.Throttled()
					if gerr != nil || werr != nil || got != wantThr || p.ThrottleSource() != src.Source() {
						t.Errorf("Throttled = %v, %v from %s; source says %v, %v from %s", got, gerr, p.ThrottleSource(), wantThr, werr, src.Source())
					}
				}
				irq := make([]uint64, len(tt.cpus))
				if err := p.InterruptsPerCPU(irq); err != nil {
					t.Fatal(err)
				}
				all, err := f.InterruptsPerCPU(tt.cpus)
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range tt.cpus {
					// Live counters only grow, so the later FS read is at least the probe's.
					if irq[i] != all[c] && (tt.root != "/" || irq[i] > all[c] || irq[i] == 0) {
						t.Errorf("cpu%d interrupts = %d, FS says %d", c, irq[i], all[c])
					}
				}
			}
		})
	}
}

// TestProbeSeesChanges rewrites the files a probe holds open: it must read the new values, as
// sysfs attributes and a changed fixture do.
func TestProbeSeesChanges(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(fixture(t, "pi5-rt"))); err != nil {
		t.Fatal(err)
	}
	p, err := NewFS(root).OpenProbe([]int{3})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	set := func(rel, val string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		// Rewritten in place, as the kernel presents a changed attribute: same inode.
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fh.WriteString(val); err != nil {
			t.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
	}
	set("sys/devices/system/cpu/cpu3/cpufreq/scaling_cur_freq", "1500000\n")
	set("sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled", "50005\n")
	set("sys/class/thermal/thermal_zone0/temp", "81234\n")
	set("proc/loadavg", "12.50 1.00 0.50 3/300 4242\n")
	set("proc/interrupts", "           CPU0       CPU3\n  11:  5  "+strings.Repeat("7", 19)+"  GICv2 30 Level arch_timer\nIPI0:  1  2  Rescheduling interrupts\nERR:  9\n")
	if f, err := p.CurFreqKHz(0); err != nil || f != 1500000 {
		t.Errorf("freq %d, %v", f, err)
	}
	if w, err := p.Throttled(); err != nil || w != 0x50005 {
		t.Errorf("throttled %v, %v", w, err)
	}
	if c, err := p.CPUTempC(); err != nil || c != 81.234 {
		t.Errorf("temp %v, %v", c, err)
	}
	if l, err := p.Load1(); err != nil || l != 12.5 {
		t.Errorf("load1 %v, %v", l, err)
	}
	irq := []uint64{0}
	if err := p.InterruptsPerCPU(irq); err != nil || irq[0] != 7777777777777777777+2 {
		t.Errorf("interrupts %v, %v", irq, err)
	}
	set("proc/interrupts", "           CPU0       CPUx\n")
	if err := p.InterruptsPerCPU(irq); err == nil || !strings.Contains(err.Error(), `"CPUx" is not CPUn`) || !strings.Contains(err.Error(), "interrupts") {
		t.Errorf("bad header: %v", err)
	}
	set("sys/devices/system/cpu/cpu3/cpufreq/scaling_cur_freq", "fast\n")
	if _, err := p.CurFreqKHz(0); err == nil || !strings.Contains(err.Error(), "scaling_cur_freq") {
		t.Errorf("bad frequency: %v", err)
	}
	set("sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled", "zz\n")
	if _, err := p.Throttled(); err == nil || !strings.Contains(err.Error(), "get_throttled") {
		t.Errorf("bad throttle word: %v", err)
	}
}

func TestProbeAllocatesNothing(t *testing.T) {
	for _, tt := range []struct{ name, root string }{
		{"pi5-rt", fixture(t, "pi5-rt")}, {"x86-here", fixture(t, "x86-here")}, {"live", "/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewFS(tt.root).OpenProbe([]int{0, 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			rss, err := OpenRSS()
			if err != nil {
				t.Fatal(err)
			}
			defer rss.Close()
			irq := make([]uint64, 2)
			n := testing.AllocsPerRun(50, func() {
				_, _ = p.CPUTempC()
				_, _ = p.CurFreqKHz(0)
				_, _ = p.CurFreqKHz(1)
				_, _ = p.Load1()
				_, _ = p.Throttled()
				_ = p.InterruptsPerCPU(irq)
				_, _ = rss.Bytes()
			})
			if n != 0 {
				t.Errorf("%v allocations per reading, want 0", n)
			}
			if b, err := rss.Bytes(); err != nil || b <= 0 {
				t.Errorf("rss %d, %v", b, err)
			}
		})
	}
}

// FuzzSumInterrupts checks the in-place parser against ParseInterrupts and PerCPU on any
// input both accept.
func FuzzSumInterrupts(f *testing.F) {
	for _, name := range []string{"pi5-rt", "pi5-stock", "x86-here"} {
		b, err := os.ReadFile(filepath.Join(fixture(f, name), "proc", "interrupts"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3))
	}
	f.Add([]byte("CPU0 CPU2\n 1: 4 5 x\nERR: 3\n\n"), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, cpu uint8) {
		if !isASCII(b) {
			return // the kernel writes ASCII; strings.Fields would also split at Unicode spaces
		}
		cpus := []int{int(cpu % 8), 0}
		p := &Probe{cpus: cpus}
		got := make([]uint64, len(cpus))
		gerr := p.sumInterrupts(b, got)
		in, werr := ParseInterrupts(strings.NewReader(string(b)))
		if werr != nil {
			return // the in-place parser is more lenient; on malformed input it only must not panic
		}
		if gerr != nil {
			t.Fatalf("ParseInterrupts accepts %q, the probe says %v", b, gerr)
		}
		all := in.PerCPU()
		for i, c := range cpus {
			if got[i] != all[c] {
				t.Fatalf("cpu%d: %d, ParseInterrupts says %d", c, got[i], all[c])
			}
		}
	})
}

// FuzzParseDecimal checks the load-average parser against strconv.ParseFloat.
func FuzzParseDecimal(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(strconv.FormatFloat(r.Float64()*100, 'f', r.IntN(4), 64))
	}
	f.Add("0.00")
	f.Add("123456789012.345")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDecimal([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || got != want {
			t.Fatalf("parseDecimal(%q) = %v, ParseFloat says %v, %v", s, got, want, err)
		}
	})
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
