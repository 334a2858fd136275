package result

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeSample(t *testing.T, dir string, n int) (*Meta, []Interval) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 26, 1, 0, 0, 731_000_000, time.UTC) // a millisecond fraction must survive
	w, err := CreateLog(filepath.Join(dir, LatencyFile), start)
	if err != nil {
		t.Fatal(err)
	}
	var ivs []Interval
	all := NewHistogram()
	for i := 0; i < n; i++ {
		h := NewHistogram()
		for j := 0; j < 1000; j++ {
			h.RecordValue(int64(1e6 + rng.NormFloat64()*1e4))
		}
		iv := Interval{Tag: []string{"", "zeros"}[i%2], Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second), Hist: h}
		if err := w.WriteInterval(iv); err != nil {
			t.Fatal(err)
		}
		all.Merge(h)
		ivs = append(ivs, iv)
	}
	w.Close()
	m := &Meta{Suite: "s", Start: start, End: start.Add(time.Duration(n) * time.Second), Counts: Counts{Samples: all.TotalCount(), Intervals: n}, Summary: Summarize(all)}
	if err := WriteMeta(dir, m); err != nil {
		t.Fatal(err)
	}
	return m, ivs
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m, ivs := writeSample(t, dir, 5)
	r, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Log.Intervals) != len(ivs) {
		t.Fatalf("read %d intervals, wrote %d", len(r.Log.Intervals), len(ivs))
	}
	for i, iv := range r.Log.Intervals {
		if iv.Tag != ivs[i].Tag || !iv.Start.Equal(ivs[i].Start) || !iv.End.Equal(ivs[i].End) || !iv.Hist.Equals(ivs[i].Hist) {
			t.Errorf("interval %d differs: got tag %q %v-%v", i, iv.Tag, iv.Start, iv.End)
		}
	}
	if got := Summarize(r.Merged()); got != m.Summary {
		t.Errorf("summary %+v, want %+v", got, m.Summary)
	}
	if !r.Log.Start.Equal(m.Start) {
		t.Errorf("log start %v, want %v", r.Log.Start, m.Start)
	}
}

func TestReadRejectsDamage(t *testing.T) {
	cases := []struct {
		name   string
		mangle func(t *testing.T, dir string)
		want   string
	}{
		{"truncated log", func(t *testing.T, dir string) {
			p := filepath.Join(dir, LatencyFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-200], 0o644)
		}, "histogram payload"},
		{"dropped interval", func(t *testing.T, dir string) {
			p := filepath.Join(dir, LatencyFile)
			b, _ := os.ReadFile(p)
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			os.WriteFile(p, []byte(strings.Join(lines[:len(lines)-1], "\n")+"\n"), 0o644)
		}, "samples but meta.json says"},
		{"garbage line", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, LatencyFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("hello world\n")
			f.Close()
		}, "latency.hlog:"},
		{"unknown meta key", func(t *testing.T, dir string) {
			p := filepath.Join(dir, MetaFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"suite"`), []byte(`"bogus": 1, "suite"`), 1), 0o644)
		}, "unknown field"},
		{"future schema", func(t *testing.T, dir string) {
			p := filepath.Join(dir, MetaFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"schema": 1`), []byte(`"schema": 99`), 1), 0o644)
		}, "schema 99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeSample(t, dir, 4)
			tc.mangle(t, dir)
			_, err := Read(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPinnedDiffAndKey(t *testing.T) {
	a := Fingerprint{Arch: "arm64", KernelRelease: "6.12.1-rt", Backend: "ort", Threads: 1, CPUs: []int{3}, Sched: "fifo:80", OS: "linux"}
	b := a
	b.OS = "other" // not pinned
	if a.Key() != b.Key() || len(DiffPinned(a, b)) != 0 {
		t.Fatal("unpinned field changed the key")
	}
	b.CPUs = []int{2}
	b.KernelRelease = "6.12.2-rt"
	d := DiffPinned(a, b)
	if a.Key() == b.Key() || len(d) != 2 || d[0].Field != "kernel_release" || d[1].Field != "cpus" {
		t.Fatalf("diff = %+v", d)
	}
}

func FuzzParseLog(f *testing.F) {
	dir := f.TempDir()
	start := time.Unix(1700000000, 0)
	w, _ := CreateLog(filepath.Join(dir, LatencyFile), start)
	h := NewHistogram()
	h.RecordValue(12345)
	w.WriteInterval(Interval{Tag: "x", Start: start, End: start.Add(time.Second), Hist: h})
	w.Close()
	b, _ := os.ReadFile(filepath.Join(dir, LatencyFile))
	f.Add(b)
	f.Add([]byte("0.0,1.0,2.0,HISTFAAAA\n"))
	f.Add([]byte("Tag=a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		log, err := ParseLog("fuzz", bytes.NewReader(data))
		if err == nil {
			for _, iv := range log.Intervals {
				if iv.Hist == nil {
					t.Fatal("nil histogram without error")
				}
			}
		}
	})
}

func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`{"schema":1,"suite":"a"}`))
	f.Add([]byte(`{"schema":1,"suite":"a","counts":{"samples":-1}}`))
	f.Add([]byte(`{"schema":1,"suite":"a","ab":{"rounds":2,"round_ns":1000,"order":"AB","arms":[{"name":"A"},{"name":"B"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta("fuzz", data)
		if err == nil && (m.Suite == "" || m.Schema != 1) {
			t.Fatalf("accepted invalid meta %+v", m)
		}
		if err == nil && m.AB != nil && (len(m.AB.Arms) != 2 || len(m.AB.Order) != m.AB.Rounds) {
			t.Fatalf("accepted an A/B meta whose arms or order do not fit %+v", m.AB)
		}
	})
}

// TestLogCounterShortInterval: an interval shorter than a millisecond shares its start's
// millisecond with the next interval in the log; the counter still sees two intervals (and one
// for the lines of every tag of one interval).
func TestLogCounterShortInterval(t *testing.T) {
	t0 := time.Unix(1e9, 200_000)
	var c LogCounter
	for _, l := range []struct {
		tag string
		at  time.Time
	}{
		{"a", t0}, {"b", t0}, // one interval, two tags
		{"a", t0.Add(300 * time.Microsecond)}, {"b", t0.Add(300 * time.Microsecond)}, // cut short: same ms
		{"a", t0.Add(5 * time.Millisecond)}, {"b", t0.Add(5 * time.Millisecond)},
	} {
		c.count(l.tag, l.at, 1)
	}
	m := &Meta{Counts: Counts{Samples: 6, Intervals: 3}}
	if err := c.Check("r", m); err != nil {
		t.Fatal(err)
	}
}

// TestRuntimeFieldsKeepOldKeys: the worker's runtime, version and device enter the environment
// key only when set, so every key written before they existed (this one is from then) holds.
func TestRuntimeFieldsKeepOldKeys(t *testing.T) {
	a := Fingerprint{Arch: "arm64", KernelRelease: "6.12.1-rt", Backend: "ort", Threads: 1, CPUs: []int{3}, Sched: "fifo:80", OS: "linux"}
	if got := a.Key(); got != "49fbbc6064383173" {
		t.Fatalf("key %s, want the key this fingerprint had before the runtime fields", got)
	}
	b := a
	b.Backend, b.Runtime, b.RuntimeVersion, b.Device = "exec", "hailort", "4.20.0", "Hailo-10H"
	c := b
	c.RuntimeVersion = "4.21.0"
	d := DiffPinned(b, c)
	if b.Key() == c.Key() || len(d) != 1 || d[0].Field != "runtime_version" {
		t.Fatalf("a runtime version change: diff %+v", d)
	}
}

// TestDeviceTagsAreSkipped: a worker's device-side histograms sit in latency.hlog beside the
// end-to-end ones; every latency reader skips them and ScanDeviceLog reads only them.
func TestDeviceTagsAreSkipped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LatencyFile)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w, err := CreateLog(path, start)
	if err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"", DeviceTag(""), "zeros", DeviceTag("zeros")} {
		h := NewHistogram()
		h.RecordValue(int64(1000 * (i + 1)))
		if err := w.WriteInterval(Interval{Tag: tag, Start: start, End: start.Add(time.Second), Hist: h}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, c := range []struct {
		name   string
		device bool
		want   []string
	}{{"latency", false, []string{"", "zeros"}}, {"device", true, []string{"device", "device.zeros"}}} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			scan := ScanLog
			if c.device {
				scan = ScanDeviceLog
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := scan(path, f, func(iv Interval) error { got = append(got, iv.Tag); return nil }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("tags %q, want %q", got, c.want)
			}
		})
	}
	log, err := ReadLog(path)
	if err != nil || len(log.Intervals) != 2 {
		t.Fatalf("ReadLog: %v, %d intervals (want the 2 end-to-end ones)", err, len(log.Intervals))
	}
	var buckets int
	f, _ := os.Open(path)
	defer f.Close()
	if _, err := ScanLogBuckets(path, f, func(IntervalBuckets) error { buckets++; return nil }); err != nil || buckets != 2 {
		t.Fatalf("ScanLogBuckets: %v, %d intervals (want 2)", err, buckets)
	}
}

func TestRuntimeLabelAndJitter(t *testing.T) {
	for _, c := range []struct {
		fp   Fingerprint
		want string
	}{
		{Fingerprint{Backend: "exec", Runtime: "hailort", RuntimeVersion: "4.20.0", Device: "HAILO10H"}, "hailort 4.20.0 on HAILO10H"},
		{Fingerprint{Backend: "ort", ORTVersion: "1.30.0"}, "onnxruntime 1.30.0 on cpu"},
		{Fingerprint{Backend: "synthetic"}, "synthetic"},
	} {
		if got := c.fp.RuntimeLabel(); got != c.want {
			t.Errorf("%+v: label %q, want %q", c.fp, got, c.want)
		}
	}
	if j := (Summary{P50: 1000, P99: 2500}).Jitter(); j != 2.5 {
		t.Errorf("jitter %v", j)
	}
	if j := (Summary{}).Jitter(); j != 0 {
		t.Errorf("jitter of nothing %v", j)
	}
}

// TestParseMetaAB: an A/B record must name arms A then B and one first arm per round.
func TestParseMetaAB(t *testing.T) {
	for _, c := range []struct{ name, ab, want string }{
		{"ok", `{"rounds":2,"round_ns":1000,"order":"BA","arms":[{"name":"A"},{"name":"B"}]}`, ""},
		{"arms swapped", `{"rounds":2,"round_ns":1000,"order":"BA","arms":[{"name":"B"},{"name":"A"}]}`, "want arms A then B"},
		{"order too short", `{"rounds":3,"round_ns":1000,"order":"BA","arms":[{"name":"A"},{"name":"B"}]}`, "one A or B per round"},
		{"no rounds", `{"rounds":0,"round_ns":1000,"order":"","arms":[{"name":"A"},{"name":"B"}]}`, "at least one round"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMeta("meta.json", []byte(`{"schema":1,"suite":"a","ab":`+c.ab+`}`))
			switch {
			case c.want == "" && (err != nil || !m.IsAB()):
				t.Fatalf("err = %v, want an A/B meta", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
