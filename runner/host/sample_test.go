package host

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestInterruptsFixtures(t *testing.T) {
	tests := []struct {
		tree    string
		cpus    []int
		rows    int
		perCPU3 uint64
	}{
		// cpu3 of the hardened Pi sees only its own timer and a few IPIs.
		{"pi5-rt", []int{0, 1, 2, 3}, 26, 10042 + 37 + 12 + 3},
		{"pi5-stock", []int{0, 1, 2, 3}, 26, 1603318 + 8201 + 15055 + 8811 + 36101 + 1530},
		{"x86-here", []int{0, 1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			f := NewFS(fixture(t, tt.tree))
			in, err := f.ReadInterrupts()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in.CPUs, tt.cpus) {
				t.Errorf("CPUs = %v, want %v", in.CPUs, tt.cpus)
			}
			if tt.rows > 0 && len(in.Rows) != tt.rows {
				t.Errorf("%d rows, want %d", len(in.Rows), tt.rows)
			}
			if tt.perCPU3 > 0 {
				got, err := f.InterruptsPerCPU([]int{3})
				if err != nil || got[3] != tt.perCPU3 {
					t.Errorf("cpu3 interrupts = %v, %v; want %d", got, err, tt.perCPU3)
				}
			}
			for _, r := range in.Rows {
				if r.IRQ == "11" && !strings.HasPrefix(r.Desc, "GICv2  30 Level") && !strings.HasPrefix(r.Desc, "GICv2 30 Level") {
					t.Errorf("arch_timer desc = %q", r.Desc)
				}
			}
		})
	}
}

func TestParseInterruptsErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"bad header", "CPU0 XPU1\n", `"XPU1" is not CPUn`},
		{"no columns", "   \n", "no CPU columns"},
		{"no colon", "CPU0\n 11 5 GICv2\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInterrupts(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseInterrupts checks that parsing never panics and that no row has more counts than
// there are CPU columns.
func FuzzParseInterrupts(f *testing.F) {
	f.Add("           CPU0       CPU1\n 11:  5  6  GICv2  30 Level  arch_timer\nIPI0: 1 2 Rescheduling interrupts\nErr: 0\n")
	f.Add("CPU0\nNMI: x\n")
	f.Add("CPU3 CPU1\n\n1:\n")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseInterrupts(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range in.Rows {
			if len(r.Counts) > len(in.CPUs) {
				t.Fatalf("row %q has %d counts for %d CPUs", r.IRQ, len(r.Counts), len(in.CPUs))
			}
		}
		_ = in.PerCPU()
	})
}

func TestParseThrottled(t *testing.T) {
	tests := []struct {
		in      string
		want    Throttled
		now     bool
		reasons []string
	}{
		{"0\n", 0, false, nil},
		{"50000\n", 0x50000, false, []string{"under-voltage occurred", "throttling occurred"}},
		{"throttled=0x50005", 0x50005, true, []string{"under-voltage now", "throttled now", "under-voltage occurred", "throttling occurred"}},
		{"80008", 0x80008, true, []string{"soft temperature limit active now", "soft temperature limit occurred"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseThrottled(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseThrottled(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if (got&NowMask != 0) != tt.now || !reflect.DeepEqual(got.Reasons(), tt.reasons) {
				t.Errorf("now %v reasons %q", got&NowMask != 0, got.Reasons())
			}
		})
	}
	if _, err := ParseThrottled("throttled=zz"); err == nil || !strings.Contains(err.Error(), "not a hex word") {
		t.Errorf("bad word error = %v", err)
	}
}

func TestThrottleSources(t *testing.T) {
	t.Run("sysfs on the Pi fixtures", func(t *testing.T) {
		for tree, want := range map[string]Throttled{"pi5-rt": 0, "pi5-stock": 0x50000} {
			src, ok := FindThrottleSource(NewFS(fixture(t, tree)))
			if !ok {
				t.Fatalf("%s: no throttle source", tree)
			}
			if _, isSysfs := src.(*SysfsThrottle); !isSysfs || !strings.HasSuffix(src.Source(), ":firmware/get_throttled") {
				t.Errorf("%s: source %T %s", tree, src, src.Source())
			}
			if got, err := src.Throttled(); err != nil || got != want {
				t.Errorf("%s: Throttled() = %v, %v; want %v", tree, got, err, want)
			}
		}
	})
	t.Run("none on x86", func(t *testing.T) {
		if src, ok := FindThrottleSource(NewFS(fixture(t, "x86-here"))); ok {
			t.Errorf("x86 tree has throttle source %s", src.Source())
		}
	})
	t.Run("hwmon when the firmware node is gone", func(t *testing.T) {
		root := t.TempDir()
		writeTree(t, root, map[string]string{
			"sys/class/hwmon/hwmon0/name": "cpu_thermal\n", "sys/class/hwmon/hwmon0/temp1_input": "50000\n",
			"sys/class/hwmon/hwmon1/name": "rpi_volt\n", "sys/class/hwmon/hwmon1/in0_lcrit_alarm": "1\n",
		})
		src, ok := FindThrottleSource(NewFS(root))
		if !ok || src.Source() != "/sys/class/hwmon/hwmon1/in0_lcrit_alarm" {
			t.Fatalf("source = %v, %v", src, ok)
		}
		if got, err := src.Throttled(); err != nil || got != UnderVoltageNow {
			t.Errorf("Throttled() = %v, %v", got, err)
		}
	})
	t.Run("vcgencmd", func(t *testing.T) {
		var ran []string
		v := Vcgencmd{Run: func(_ context.Context, name string, args ...string) ([]byte, error) {
			ran = append([]string{name}, args...)
			return []byte("throttled=0x50000\n"), nil
		}}
		got, err := v.Throttled()
		if err != nil || got != 0x50000 || strings.Join(ran, " ") != "vcgencmd get_throttled" {
			t.Errorf("Throttled() = %v, %v after running %q", got, err, ran)
		}
		fail := Vcgencmd{Run: func(context.Context, string, ...string) ([]byte, error) { return nil, errors.New("exit status 255") }}
		if _, err := fail.Throttled(); err == nil || !strings.Contains(err.Error(), "vcgencmd get_throttled: exit status 255") {
			t.Errorf("failing vcgencmd error = %v", err)
		}
	})
}

func TestSamplers(t *testing.T) {
	rt := NewFS(fixture(t, "pi5-rt"))
	if c, z, err := rt.CPUTempC(); err != nil || c != 52.15 || z.Type != "cpu-thermal" {
		t.Errorf("CPUTempC = %v %+v %v", c, z, err)
	}
	if khz, err := rt.CurFreqKHz(3); err != nil || khz != 2400000 {
		t.Errorf("CurFreqKHz(3) = %v, %v", khz, err)
	}
	if l, err := rt.ReadLoadAvg(); err != nil || l != (LoadAvg{0.12, 0.09, 0.05, 1, 231}) {
		t.Errorf("ReadLoadAvg = %+v, %v", l, err)
	}
	x86 := NewFS(fixture(t, "x86-here"))
	if _, _, err := x86.CPUTempC(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("x86 CPUTempC error = %v, want ErrUnavailable", err)
	}
	if _, err := x86.CurFreqKHz(0); !errors.Is(err, ErrUnavailable) {
		t.Errorf("x86 CurFreqKHz error = %v, want ErrUnavailable", err)
	}
	if _, err := x86.ReadLoadAvg(); err != nil {
		t.Errorf("x86 ReadLoadAvg: %v", err)
	}
}

// TestSamplersLive reads this machine's counters: interrupts only grow.
func TestSamplersLive(t *testing.T) {
	f := NewFS("")
	a, err := f.InterruptsPerCPU([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.InterruptsPerCPU([]int{0})
	if err != nil {
		t.Fatal(err)
	}
	if b[0] < a[0] {
		t.Errorf("cpu0 interrupts went down: %d then %d", a[0], b[0])
	}
	if _, err := f.ReadLoadAvg(); err != nil {
		t.Error(err)
	}
}

func BenchmarkInterruptsPerCPU(b *testing.B) {
	f := NewFS(fixture(b, "pi5-stock"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.InterruptsPerCPU([]int{3}); err != nil {
			b.Fatal(err)
		}
	}
}
