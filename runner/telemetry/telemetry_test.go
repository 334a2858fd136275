package telemetry_test

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/runner/telemetry"
)

const (
	throttleNode = "sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled"
	freqNode     = "sys/devices/system/cpu/cpu3/cpufreq/scaling_cur_freq"
)

// copyHost copies a captured host tree into a temporary root the test may change.
func copyHost(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "fixtures", "hosts", name))); err != nil {
		t.Fatal(err)
	}
	return dst
}

func write(t *testing.T, root, rel, val string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(val+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func stats(i int) harness.IntervalStats {
	end := time.Date(2026, 11, 26, 1, 0, i, 0, time.UTC)
	return harness.IntervalStats{Index: i, Start: end.Add(-time.Second), End: end, Samples: 100,
		Thread: harness.ThreadStats{VolCtxSw: 2, InvolCtxSw: 1}}
}

func TestHealthOnFixtureHosts(t *testing.T) {
	cases := []struct {
		name    string
		host    string
		flip    func(t *testing.T, root string) // between interval 1 and 2
		gc      uint64
		reasons []string // substrings, one per expected reason; none: healthy
	}{
		{name: "steady hardened pi", host: "pi5-rt"},
		{name: "throttled mid-run", host: "pi5-rt",
			flip:    func(t *testing.T, root string) { write(t, root, throttleNode, "50005") },
			reasons: []string{"throttle word 0x50005 at interval 2", "under-voltage occurred, throttling occurred since the run started"}},
		{name: "sticky bit set mid-run", host: "pi5-rt",
			flip:    func(t *testing.T, root string) { write(t, root, throttleNode, "40000") },
			reasons: []string{"throttling occurred since the run started"}},
		{name: "frequency drop on the measured cpu", host: "pi5-rt",
			flip:    func(t *testing.T, root string) { write(t, root, freqNode, "1500000") },
			reasons: []string{"cpu3 frequency changed 2400→1500 MHz at interval 2"}},
		{name: "frequency jitter within tolerance", host: "pi5-rt",
			flip: func(t *testing.T, root string) { write(t, root, freqNode, "2390000") }},
		{name: "gc while timing", host: "pi5-rt", gc: 1, reasons: []string{"1 GC cycle(s) while timing"}},
		{name: "x86 without sensors", host: "x86-here"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := copyHost(t, c.host)
			s, err := telemetry.New(telemetry.Options{Root: root, CPUs: []int{3}})
			if err != nil {
				t.Fatal(err)
			}
			var lines []result.Telemetry
			for i := range 4 {
				if i == 2 && c.flip != nil {
					c.flip(t, root)
				}
				st := stats(i)
				if i == 3 {
					st.GCCycles = c.gc
				}
				lines = append(lines, s.Sample(st))
			}
			got := s.Reasons()
			if len(got) != len(c.reasons) {
				t.Fatalf("reasons %q, want %d matching %q", got, len(c.reasons), c.reasons)
			}
			for i, want := range c.reasons {
				if !strings.Contains(got[i], want) {
					t.Errorf("reason %d = %q, want it to contain %q", i, got[i], want)
				}
			}
			// A resumed run re-derives the same verdict from the lines written.
			if again := telemetry.FromTelemetry(lines, 0); !slices.Equal(again, got) {
				t.Errorf("FromTelemetry:\n%q\nsampler:\n%q", again, got)
			}
			h := telemetry.Apply(result.Health{Healthy: true}, got, false)
			if h.Healthy != (len(c.reasons) == 0) || h.Overridden {
				t.Errorf("health %+v", h)
			}
			if len(c.reasons) > 0 {
				if h := telemetry.Apply(result.Health{Healthy: true}, got, true); h.Healthy || !h.Overridden {
					t.Errorf("--allow-unhealthy: health %+v, want unhealthy and overridden", h)
				}
			}
		})
	}
}

func TestLinesOnPi(t *testing.T) {
	root := copyHost(t, "pi5-rt")
	s, err := telemetry.New(telemetry.Options{Root: root, CPUs: []int{3}, IndexOffset: 10})
	if err != nil {
		t.Fatal(err)
	}
	tl := s.Sample(stats(0))
	if tl.Interval != 10 {
		t.Errorf("interval %d, want 10 (offset)", tl.Interval)
	}
	if tl.TempC == nil || *tl.TempC <= 0 {
		t.Errorf("temperature %v", tl.TempC)
	}
	if tl.FreqKHz["3"] != 2400000 {
		t.Errorf("freq %v", tl.FreqKHz)
	}
	if tl.Throttled == nil || *tl.Throttled != 0 {
		t.Errorf("throttled %v", tl.Throttled)
	}
	if _, ok := tl.IRQs["3"]; !ok {
		t.Errorf("irqs %v", tl.IRQs)
	}
	if tl.RSSBytes <= 0 || tl.VolCtxSw != 2 || tl.InvolCtxSw != 1 {
		t.Errorf("line %+v", tl)
	}
}

// TestSamplerWritesFsyncedLines runs the sampling goroutine on the live host and reads the
// file back with the result package's strict reader.
func TestSamplerWritesFsyncedLines(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, result.TelemetryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []int
	s, err := telemetry.New(telemetry.Options{CPUs: []int{0}, Out: f, OnSample: func(tl result.Telemetry) { got = append(got, tl.Interval) }})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	for i := range 5 {
		s.OnInterval(stats(i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	lines, err := result.ReadTelemetry(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 5 || len(got) != 5 || lines[4].Interval != 4 {
		t.Fatalf("%d lines, %d callbacks: %+v", len(lines), len(got), lines)
	}
	if _, ok := lines[0].IRQs["0"]; !ok {
		t.Errorf("no interrupts of cpu0 on the live host: %+v", lines[0])
	}
	if s.Cost() <= 0 {
		t.Errorf("cost %v", s.Cost())
	}
}

// BenchmarkSample is the telemetry's cost per interval on the live host (paid on a
// housekeeping CPU, once per interval): reading, health checks, encoding the line and lending
// it to OnSample. The line goes to io.Discard: the fsync is the disk's cost, not ours.
func BenchmarkSample(b *testing.B) {
	benchStep(b, "", []int{0, 1})
}

// BenchmarkSamplePi is the same on the captured Pi 5 tree (thermal zone, cpufreq, throttle node).
func BenchmarkSamplePi(b *testing.B) {
	dst := filepath.Join(b.TempDir(), "pi")
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "fixtures", "hosts", "pi5-rt"))); err != nil {
		b.Fatal(err)
	}
	benchStep(b, dst, []int{3})
}

func benchStep(b *testing.B, root string, cpus []int) {
	s, err := telemetry.New(telemetry.Options{Root: root, CPUs: cpus, Out: io.Discard, OnSample: func(result.Telemetry) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		telemetry.Step(s, stats(i%60))
	}
}

// TestStepAllocatesNothing is the point of the sampler's design: with the GC off for a whole
// nightly, sampling, encoding, fsyncing and lending a line must leave no garbage.
func TestStepAllocatesNothing(t *testing.T) {
	for _, tt := range []struct {
		name, root string
		cpus       []int
	}{
		{"pi5-rt", copyHost(t, "pi5-rt"), []int{3, 2}},
		{"x86-here", copyHost(t, "x86-here"), []int{0, 1}},
		{"live", "", []int{0, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), result.TelemetryFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var seen int
			s, err := telemetry.New(telemetry.Options{Root: tt.root, CPUs: tt.cpus, Out: f,
				OnSample: func(tl result.Telemetry) { seen += len(tl.IRQs) }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			i := 0
			n := testing.AllocsPerRun(100, func() {
				telemetry.Step(s, stats(i%60))
				i++
			})
			if n != 0 {
				t.Errorf("%v allocations per interval, want 0", n)
			}
			if seen != len(tt.cpus)*i {
				t.Errorf("OnSample saw %d interrupt entries over %d lines, want %d each", seen, i, len(tt.cpus))
			}
		})
	}
}

// TestWrittenLinesRoundTrip runs the sampling goroutine on a fixture tree that changes
// mid-run and on the live host; the file read back with the result package's strict reader
// holds exactly the lines OnSample was lent (cloned), and those equal what the allocating
// Sample returns for the same readings.
func TestWrittenLinesRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name, root string
		cpus       []int
	}{
		{"pi5-rt", copyHost(t, "pi5-rt"), []int{3, 10, 2}},
		{"x86-here", copyHost(t, "x86-here"), []int{1}},
		{"live", "", []int{0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := os.Create(filepath.Join(dir, result.TelemetryFile))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var lent []result.Telemetry
			s, err := telemetry.New(telemetry.Options{Root: tt.root, CPUs: tt.cpus, Out: f,
				OnSample: func(tl result.Telemetry) { lent = append(lent, telemetry.Clone(tl)) }})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 6 {
				if i == 3 && tt.root != "" {
					write(t, tt.root, "proc/loadavg", "7.25 1.00 0.50 3/300 4242")
					if tt.name == "pi5-rt" {
						write(t, tt.root, freqNode, "1500000")
						write(t, tt.root, throttleNode, "50005")
					}
				}
				st := stats(i)
				st.GCCycles = uint64(i / 5)
				telemetry.Step(s, st)
			}
			one := telemetry.Sample(s, stats(5)) // compared below with the last line written
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			lines, err := result.ReadTelemetry(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(lines, lent) {
				t.Fatalf("read back:\n%+v\nlent:\n%+v", lines, lent)
			}
			if tt.root != "" && lines[3].Load1 != 7.25 {
				t.Errorf("load1 after the change = %v", lines[3].Load1)
			}
			if tt.name == "pi5-rt" {
				if l := lines[4]; l.FreqKHz["3"] != 1500000 || *l.Throttled != 0x50005 || len(l.FreqKHz) != 2 || len(l.IRQs) != 3 {
					t.Errorf("line after the change %+v", l)
				}
				if len(s.Reasons()) != 4 { // throttled now, throttling occurred, cpu3's frequency, GC
					t.Errorf("sampler reasons %q, want 4", s.Reasons())
				}
			}
			// One rule set: replaying the lines written finds what the sampler found live, in
			// the same order (the live host's frequencies may move before the first line).
			if got, want := telemetry.FromTelemetry(lines, 0), s.Reasons(); tt.root != "" && !slices.Equal(got, want) {
				t.Errorf("FromTelemetry:\n%q\nsampler:\n%q", got, want)
			}
			// The allocating Sample gives the same line for the same readings (the
			// interrupt delta aside: it is taken against the previous reading).
			last := lines[5]
			one.IRQs, last.IRQs, one.RSSBytes, last.RSSBytes, one.GCCycles, last.GCCycles = nil, nil, 0, 0, 0, 0
			if tt.root == "" {
				one.TempC, last.TempC, one.Load1, last.Load1 = nil, nil, 0, 0
				one.FreqKHz, last.FreqKHz = nil, nil
			}
			if !reflect.DeepEqual(one, last) {
				t.Errorf("Sample:\n%+v\nwritten:\n%+v", one, last)
			}
		})
	}
}

func TestHarnessReasons(t *testing.T) {
	for _, c := range []struct {
		rep  harness.Report
		want []string
	}{
		{harness.Report{}, nil},
		{harness.Report{GCCycles: 2, ForcedGCs: 2}, nil},
		{harness.Report{GCCycles: 3, ForcedGCs: 1, Overflow: 7},
			[]string{"2 unexpected GC cycles ran while timing", "7 samples above the histogram's 1h range"}},
	} {
		if got := telemetry.HarnessReasons(&c.rep); !slices.Equal(got, c.want) {
			t.Errorf("HarnessReasons(%+v) = %q, want %q", c.rep, got, c.want)
		}
	}
}
