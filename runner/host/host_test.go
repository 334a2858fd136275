package host

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fixture returns the path of a captured host tree under fixtures/hosts.
func fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "fixtures", "hosts", name)
	if _, err := os.Stat(filepath.Join(p, "proc", "cpuinfo")); err != nil {
		t.Fatalf("fixture tree %s: %v", name, err)
	}
	return p
}

func TestCollectFixtures(t *testing.T) {
	tests := []struct {
		tree       string
		cpus       []int
		arch       string
		release    string
		rt         bool
		isolcpus   string
		model      string
		count      int
		board      string
		governors  map[string]string
		versionHas string
	}{
		{"pi5-rt", []int{3}, "arm64", "6.12.47-rt-v8-16k+", true, "3", "ARM Cortex-A76", 4,
			"Raspberry Pi 5 Model B Rev 1.0", map[string]string{"cpu3": "performance"}, "PREEMPT_RT"},
		{"pi5-stock", nil, "arm64", "6.12.47+rpt-rpi-2712", false, "", "ARM Cortex-A76", 4,
			"Raspberry Pi 5 Model B Rev 1.0",
			map[string]string{"cpu0": "ondemand", "cpu1": "ondemand", "cpu2": "ondemand", "cpu3": "ondemand"}, "PREEMPT "},
		{"x86-here", []int{1}, "amd64", "6.18.44-fc-v782", false, "", "AMD EPYC", 2, "", nil, "PREEMPT_DYNAMIC"},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			fp, err := Collect(Options{Root: fixture(t, tt.tree), CPUs: tt.cpus, ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			got := []any{fp.Arch, fp.KernelRelease, fp.PreemptRT, fp.Isolcpus, fp.CPUModel, fp.CPUCount, fp.Board}
			want := []any{tt.arch, tt.release, tt.rt, tt.isolcpus, tt.model, tt.count, tt.board}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("arch, release, rt, isolcpus, model, count, board = %v\nwant %v", got, want)
			}
			if !reflect.DeepEqual(fp.Governors, tt.governors) {
				t.Errorf("governors = %v, want %v", fp.Governors, tt.governors)
			}
			if !strings.Contains(fp.KernelVersion, tt.versionHas) {
				t.Errorf("kernel version %q lacks %q", fp.KernelVersion, tt.versionHas)
			}
			if fp.OS != "linux" || fp.GoVersion != runtime.Version() || fp.ToolVersion != "test" {
				t.Errorf("os, go, tool = %q %q %q", fp.OS, fp.GoVersion, fp.ToolVersion)
			}
		})
	}
}

// TestCollectLive reads this machine: the kernel comes from uname, so it must agree with
// /proc/sys/kernel/osrelease, and the count with the Go runtime's view.
func TestCollectLive(t *testing.T) {
	fp, err := Collect(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	if fp.KernelRelease != strings.TrimSpace(string(rel)) {
		t.Errorf("kernel release %q, /proc says %q", fp.KernelRelease, rel)
	}
	if fp.Arch != runtime.GOARCH || fp.CPUModel == "" || fp.CPUCount < runtime.NumCPU() {
		t.Errorf("arch %q model %q count %d (NumCPU %d)", fp.Arch, fp.CPUModel, fp.CPUCount, runtime.NumCPU())
	}
}

func TestCollectMissingTreeNamesEveryFile(t *testing.T) {
	_, err := Collect(Options{Root: t.TempDir()})
	if err == nil {
		t.Fatal("Collect on an empty tree succeeded")
	}
	for _, want := range []string{"osrelease", "cpuinfo", "present", "cmdline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestParseCPUInfoARMParts(t *testing.T) {
	tests := []struct{ impl, part, want string }{
		{"0x41", "0xd0b", "ARM Cortex-A76"},
		{"0x41", "0xd08", "ARM Cortex-A72"},
		{"0x41", "0xd99", "ARM part 0xd99"},
		{"0x61", "0x022", "Apple part 0x022"},
		{"0x99", "0x1", "implementer 0x99 part 0x1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ci := ParseCPUInfo("processor\t: 0\nCPU implementer\t: " + tt.impl + "\nCPU part\t: " + tt.part + "\n")
			if ci.Model != tt.want || ci.Arch != "arm64" || ci.Processors != 1 {
				t.Errorf("got %+v, want model %q", ci, tt.want)
			}
		})
	}
}

func TestBoardFromDMI(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"sys/class/dmi/id/product_name": "NUC11TNHi5\n",
		"sys/class/dmi/id/board_vendor": "Intel Corporation\n",
	})
	if got := NewFS(root).Board(); got != "Intel Corporation NUC11TNHi5" {
		t.Errorf("Board() = %q", got)
	}
}

// writeTree creates files below root.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkCollect measures one fingerprint of the stock Pi tree (taken once per run).
func BenchmarkCollect(b *testing.B) {
	root := fixture(b, "pi5-stock")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(Options{Root: root, CPUs: []int{3}}); err != nil {
			b.Fatal(err)
		}
	}
}
