package importer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
)

// testStart is the --start of tests whose times are relative or back to back.
var testStart = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// input writes content to dir/name and returns its path.
func input(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// options returns Options importing path as format into a fresh folder, with a fixed start.
func options(t *testing.T, path string, format Format) Options {
	return Options{Input: path, Format: format, Out: filepath.Join(t.TempDir(), "r"), Start: testStart,
		Meta: result.Meta{Suite: "imported", Env: result.Fingerprint{Backend: DefaultBackend}}}
}

// payload encodes a histogram of the given geometry holding values.
func payload(t testing.TB, lowest, highest int64, sig int, values ...int64) string {
	t.Helper()
	h := hdrhistogram.New(lowest, highest, sig)
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hlogText is a log with the given interval lines after the headers of a log started at
// testStart, timestamps relative to it.
func hlogText(lines ...string) string {
	s := fmt.Sprintf("#[Histogram log format version 1.3]\n#[StartTime: %.3f (seconds since epoch), x]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n",
		float64(testStart.UnixMilli())/1000)
	return s + strings.Join(lines, "\n") + "\n"
}

// TestStrict checks that every input tailgate cannot vouch for is an error naming the file,
// and the line where there is one (each want holds FILE or FILE:LINE where the data is at
// fault), and that a failed import leaves no output behind.
func TestStrict(t *testing.T) {
	us := payload(t, 1, 3_600_000_000, 2, 500, 1000)
	cases := []struct {
		name, file, content string
		format              Format
		set                 func(*Options)
		want                string
	}{
		{"unknown unit suffix", "in.txt", "1ms\n2furlongs\n", Lines, perInterval, `in.txt:2: value "2furlongs": unknown unit "furlongs"`},
		{"no unit", "in.txt", "\n# latencies\n5\n", Lines, perInterval, "in.txt:3: the value has no unit suffix and --unit is not given"},
		{"negative", "in.txt", "1\n-2\n", Lines, unitPer(Microseconds), `in.txt:2: negative value "-2"`},
		{"not a number", "in.txt", "1\nabc\n", Lines, unitPer(Microseconds), `in.txt:2: "abc" is not a number`},
		{"NaN", "in.txt", "1\nNaN\n", Lines, unitPer(Microseconds), `in.txt:2: "NaN" is not a number`},
		{"Inf", "in.txt", "+Inf\n", Lines, unitPer(Microseconds), `in.txt:1: "+Inf" is not a number`},
		{"overflowing float", "in.txt", "1e999\n", Lines, unitPer(Microseconds), `in.txt:1: "1e999" is not a finite number`},
		{"hexadecimal", "in.txt", "0x10\n", Lines, unitPer(Microseconds), `in.txt:1: value "0x10": unknown unit "x10"`},
		{"mixed suffixes", "in.txt", "1ms\n2us\n", Lines, perInterval, "in.txt:2: mixed units: this value is in us, the one on line 1 in ms"},
		{"suffix then bare", "in.txt", "1ms\n2\n", Lines, unitPer(Milliseconds), "in.txt:2: mixed units: this value is in no unit, the one on line 1 in ms"},
		{"suffix against --unit", "in.txt", "1us\n", Lines, unitPer(Milliseconds), "in.txt:1: the value's unit us disagrees with --unit ms"},
		{"beyond range", "in.txt", "1\n3601\n", Lines, unitPer(Seconds), "in.txt:2: 3601 s is beyond tailgate's histogram range of 1h0m0s"},
		{"empty list", "in.txt", "# nothing\n", Lines, unitPer(Microseconds), "in.txt: no latency values"},
		{"timestamps backwards", "in.csv", "t,lat\n1.0,5\n0.5,6\n", CSV, timed("lat", "t"), `in.csv:3: timestamp "0.5" is before line 2's: timestamps must not go backwards`},
		{"mixed timestamps", "in.csv", "t,lat\n2026-11-26T01:00:00Z,5\n1795655091,5\n", CSV, timed("lat", "t"), "in.csv:3: timestamp \"1795655091\" is not of the kind of line 2's"},
		{"bad timestamp", "in.csv", "t,lat\nyesterday,5\n", CSV, timed("lat", "t"), `in.csv:2: timestamp "yesterday" is neither a number (of s) nor an RFC 3339 date`},
		{"negative timestamp", "in.csv", "t,lat\n-1,5\n", CSV, timed("lat", "t"), `in.csv:2: negative timestamp "-1"`},
		{"no such column", "in.csv", "t,lat\n1,5\n", CSV, timed("latency", "t"), `in.csv:1: no column "latency" in the header "t,lat"`},
		{"column twice", "in.csv", "lat,lat\n1,5\n", CSV, withColumn("lat"), `in.csv:1: column "lat" appears twice`},
		{"column index past the row", "in.csv", "1,2\n", CSV, withColumn("3"), "in.csv:1: column 3: the rows have 2 fields"},
		{"ragged row", "in.csv", "t,lat\n1,5\n2\n", CSV, withColumn("lat"), "in.csv:3: wrong number of fields"},
		{"header read as a value", "in.csv", "lat\n5\n", CSV, withColumn("1"), `in.csv:1: "lat" is not a number`},
		{"negative in csv", "in.csv", "t,lat\n1,5\n2,-5\n", CSV, timed("lat", "t"), `in.csv:3: negative value "-5"`},
		{"missing field", "in.jsonl", `{"lat":1}` + "\n" + `{"x":1}` + "\n", JSONL, withColumn("lat"), `in.jsonl:2: no field "lat"`},
		{"not an object", "in.jsonl", "[1]\n", JSONL, withColumn("lat"), "in.jsonl:1: not a JSON object"},
		{"null", "in.jsonl", `{"lat":null}` + "\n", JSONL, withColumn("lat"), `in.jsonl:1: field "lat" is null, not a number or a string`},
		{"boolean", "in.jsonl", `{"lat":true}` + "\n", JSONL, withColumn("lat"), `in.jsonl:1: field "lat" is true, not a number or a string`},
		{"mixed units in strings", "in.jsonl", `{"lat":"1ms"}` + "\n\n" + `{"lat":"1us"}` + "\n", JSONL, func(o *Options) { o.Column, o.PerInterval, o.Unit = "lat", 10, "" },
			"in.jsonl:3: mixed units: this value is in us, the one on line 1 in ms"},
		{"json timestamps backwards", "in.jsonl", `{"lat":1,"t":"2026-11-26T01:00:01Z"}` + "\n" + `{"lat":1,"t":"2026-11-26T01:00:00Z"}` + "\n", JSONL, timed("lat", "t"), "in.jsonl:2: timestamp \"2026-11-26T01:00:00Z\" is before line 1's"},
		{"several tags", "in.hlog", hlogText("Tag=a,0.000,1.000,1.0,"+us, "Tag=b,0.000,1.000,1.0,"+us), HLog, unit(Microseconds), `holds several tags ("a", "b"): choose one with --tag`},
		{"untagged and tagged", "in.hlog", hlogText("0.000,1.000,1.0,"+us, "Tag=b,0.000,1.000,1.0,"+us), HLog, unit(Microseconds), `holds several tags ("", "b")`},
		{"tag not there", "in.hlog", hlogText("Tag=a,0.000,1.000,1.0," + us), HLog, func(o *Options) { o.Unit, o.Tag = Microseconds, "c" }, `has no intervals tagged "c" (tags: "a")`},
		{"log going backwards", "in.hlog", hlogText("Tag=a,2.000,1.000,1.0,"+us, "Tag=b,0.000,1.000,1.0,"+us, "Tag=a,1.000,1.000,1.0,"+us), HLog, func(o *Options) { o.Unit, o.Tag = Microseconds, "a" },
			"in.hlog:6: interval starts 1s before the previous one tagged a: timestamps go backwards"},
		{"log value beyond range", "in.hlog", hlogText("0.000,1.000,1.0," + payload(t, 1, 10_000_000, 3, 3_700_000)), HLog, unit(Milliseconds), "in.hlog:4: 1 values of 3698688 ms or more: beyond tailgate's histogram range"},
		{"log line garbage", "in.hlog", hlogText("0.000,1.000,1.0,"+us, "0.000,one,1.0,"+us), HLog, unit(Microseconds), `in.hlog:5: interval length "one"`},
		{"log with no intervals", "in.hlog", hlogText(), HLog, unit(Microseconds), "in.hlog: no intervals"},
		{"log relative without start", "in.hlog", "0.000,1.000,1.0," + us + "\n", HLog, func(o *Options) { o.Unit, o.Start = Microseconds, time.Time{} }, "in.hlog: timestamps are relative (the first is 0s) and nothing says relative to what: give --start"},
		{"histogram with white space", "in.b64", "\n" + us[:10] + "\n" + us[10:] + "\n", Histogram, unit(Microseconds), "in.b64:2: white space inside the base64 histogram"},
		{"histogram garbage", "in.b64", "\n\nnot base64!\n", Histogram, unit(Microseconds), "in.b64:3: white space inside"},
		{"histogram bad base64", "in.b64", "AAAA*AAA\n", Histogram, unit(Microseconds), "in.b64:1: histogram: base64"},
		{"histogram empty", "in.b64", " \n", Histogram, unit(Microseconds), "in.b64: empty"},
		{"hlog without --unit", "in.hlog", hlogText("0.000,1.000,1.0," + us), HLog, nil, "--unit: required for hlog"},
		{"list without grouping", "in.txt", "1\n", Lines, unit(Microseconds), "a list needs exactly one grouping"},
		{"both groupings", "in.csv", "t,lat\n1,1\n", CSV, func(o *Options) { timed("lat", "t")(o); o.PerInterval = 5 }, "a list needs exactly one grouping"},
		{"interval too short", "in.csv", "t,lat\n1,1\n", CSV, func(o *Options) { timed("lat", "t")(o); o.Interval = time.Microsecond }, "--interval 1µs: want ≥ 1ms"},
		{"csv without column", "in.csv", "1\n", CSV, perInterval, "csv: name the values' column"},
		{"tag of a list", "in.txt", "1\n", Lines, func(o *Options) { unitPer(Microseconds)(o); o.Tag = "a" }, "--tag applies to hlog, not lines"},
		{"bad profile", "in.txt", "1\n", Lines, func(o *Options) { unitPer(Microseconds)(o); o.Meta.Profile = "weekly" }, `--profile "weekly": want pr or nightly`},
		{"bad suite", "in.txt", "1\n", Lines, func(o *Options) { unitPer(Microseconds)(o); o.Meta.Suite = "../x" }, `invalid suite name "../x"`},
		{"back to back under 1ms", "in.txt", "10\n10\n10\n", Lines, func(o *Options) { o.Unit, o.PerInterval = Microseconds, 1 }, "in.txt: interval 1 lasts under 1ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := input(t, t.TempDir(), tc.file, tc.content)
			o := options(t, path, tc.format)
			if tc.set != nil {
				tc.set(&o)
			}
			_, err := Import(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(o.Out); !os.IsNotExist(err) {
				t.Errorf("a failed import left %s: %v", o.Out, err)
			}
		})
	}
}

func unit(u Unit) func(*Options) { return func(o *Options) { o.Unit = u } }

func perInterval(o *Options) { o.PerInterval = 1000 }

func unitPer(u Unit) func(*Options) { return func(o *Options) { o.Unit, o.PerInterval = u, 1000 } }

func withColumn(c string) func(*Options) {
	return func(o *Options) { o.Column, o.Unit, o.PerInterval = c, Microseconds, 1000 }
}

func timed(c, at string) func(*Options) {
	return func(o *Options) { o.Column, o.TimeColumn, o.Interval, o.Unit = c, at, time.Second, Microseconds }
}

// TestRefusedPaths checks the output is never an input, nor holds one, and that inputs are
// regular files.
func TestRefusedPaths(t *testing.T) {
	dir := t.TempDir()
	in := input(t, dir, "in.txt", "1\n")
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	nonEmpty := filepath.Join(dir, "full")
	if err := os.Mkdir(nonEmpty, 0o755); err != nil {
		t.Fatal(err)
	}
	input(t, nonEmpty, "x", "")
	for _, tc := range []struct {
		name, in, out, want string
	}{
		{"out is the input", in, in, "would overwrite the input"},
		{"out holds the input", in, dir, "holds the input"},
		{"fifo", fifo, filepath.Join(dir, "r"), "fifo.txt: not a regular file (p"},
		{"device", "/dev/zero", filepath.Join(dir, "r"), "/dev/zero: not a regular file (D"},
		{"out not empty", in, nonEmpty, "exists and is not empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options(t, tc.in, Lines)
			o.Out, o.Unit, o.PerInterval = tc.out, Microseconds, 10
			if _, err := Import(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestOwnLogRoundTrip imports a log tailgate wrote itself: every interval and the summary
// come out bucket for bucket as they went in.
func TestOwnLogRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "own.hlog")
	w, err := result.CreateLog(src, testStart)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var in []*hdrhistogram.Histogram
	for i := range 20 {
		h := result.NewHistogram()
		for range 500 {
			h.RecordValue(int64(1e6 * (1 + rng.ExpFloat64())))
		}
		s := testStart.Add(time.Duration(i) * time.Second)
		if err := w.WriteInterval(result.Interval{Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
			t.Fatal(err)
		}
		in = append(in, h)
	}
	w.Close()
	o := options(t, src, HLog)
	o.Unit, o.Start = Nanoseconds, time.Time{}
	m, err := Import(o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := result.Read(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Log.Intervals) != len(in) || !m.Start.Equal(testStart) || !m.End.Equal(testStart.Add(20*time.Second)) {
		t.Fatalf("%d intervals from %s to %s", len(r.Log.Intervals), m.Start, m.End)
	}
	for i, iv := range r.Log.Intervals {
		if !iv.Hist.Equals(in[i]) || !iv.Start.Equal(testStart.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("interval %d differs", i)
		}
	}
	if got, want := m.Summary, result.Summarize(result.Merge(r.Log.Intervals, nil)); got != want {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if m.Import.Source != "" || m.Import.Unit != "ns" || m.Workload.Interval != time.Second {
		t.Errorf("import %+v workload %+v", m.Import, m.Workload)
	}
}

// TestGrouping checks how lists become intervals: by count back to back from --start, and by
// timestamp into slots from the first one, empty slots left out.
func TestGrouping(t *testing.T) {
	dir := t.TempDir()
	t.Run("per interval", func(t *testing.T) {
		o := options(t, input(t, dir, "l.txt", "1ms\n2ms\n3ms\n4ms\n5ms\n"), Lines)
		o.PerInterval = 2
		m, r := mustImport(t, o)
		want := []struct{ start, end time.Duration }{{0, 3 * time.Millisecond}, {3 * time.Millisecond, 10 * time.Millisecond}, {10 * time.Millisecond, 15 * time.Millisecond}}
		checkSpans(t, r, testStart, want)
		if m.Counts.Samples != 5 || m.Import.Unit != "ms" || m.Import.Grouping != "per 2 values" {
			t.Errorf("meta %+v %+v", m.Counts, m.Import)
		}
	})
	t.Run("by time", func(t *testing.T) {
		o := options(t, input(t, dir, "t.jsonl", `{"t":10.2,"v":1}`+"\n"+`{"t":10.9,"v":"2"}`+"\n"+`{"t":13.5,"v":3}`+"\n"), JSONL)
		o.Column, o.TimeColumn, o.Interval, o.Unit = "v", "t", time.Second, Microseconds
		m, r := mustImport(t, o)
		base := 10200 * time.Millisecond
		checkSpans(t, r, testStart, []struct{ start, end time.Duration }{{base, base + time.Second}, {base + 3*time.Second, base + 4*time.Second}})
		if m.Counts.Intervals != 2 || m.Summary.Max != 3001 {
			t.Errorf("meta %+v %+v", m.Counts, m.Summary)
		}
	})
	t.Run("mtime origin", func(t *testing.T) {
		p := input(t, dir, "m.txt", "2ms\n")
		mt := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		o := options(t, p, Lines)
		o.PerInterval, o.Start = 1, time.Time{}
		m, _ := mustImport(t, o)
		if !m.Start.Equal(mt.Add(-2*time.Millisecond)) || !m.End.Equal(mt) {
			t.Errorf("start %s end %s, want the run to end at the file's modification time %s", m.Start, m.End, mt)
		}
	})
	t.Run("lines sharing a start", func(t *testing.T) {
		p := payload(t, 1, 3_600_000_000, 3, 5)
		o := options(t, input(t, dir, "s.hlog", hlogText("0.000,1.000,1.0,"+p, "0.000,0.500,1.0,"+p, "1.000,1.000,1.0,"+p)), HLog)
		o.Unit, o.Start = Microseconds, time.Time{}
		m, r := mustImport(t, o)
		if m.Counts.Intervals != 3 || m.Counts.Samples != 3 || len(r.Log.Intervals) != 3 {
			t.Errorf("counts %+v, %d lines: want 3 intervals (two of them sharing a start) of 3 lines", m.Counts, len(r.Log.Intervals))
		}
	})
	t.Run("histogram", func(t *testing.T) {
		o := options(t, input(t, dir, "h.b64", "\n"+payload(t, 1, 3_600_000_000, 3, 1000, 2000, 3000)+"\n"), Histogram)
		o.Unit = Microseconds
		m, r := mustImport(t, o)
		if m.Counts.Samples != 3 || m.Summary.Max != 3_002_367 || len(r.Log.Intervals) != 1 {
			t.Errorf("meta %+v %+v", m.Counts, m.Summary)
		}
		if m.Import.Source != "lowest 1, highest 3600000000 us, 3 significant digits" {
			t.Errorf("source geometry %q", m.Import.Source)
		}
	})
}

func mustImport(t *testing.T, o Options) (*result.Meta, *result.Result) {
	t.Helper()
	m, err := Import(o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := result.Read(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

func checkSpans(t *testing.T, r *result.Result, origin time.Time, want []struct{ start, end time.Duration }) {
	t.Helper()
	if len(r.Log.Intervals) != len(want) {
		t.Fatalf("%d intervals, want %d", len(r.Log.Intervals), len(want))
	}
	for i, iv := range r.Log.Intervals {
		if !iv.Start.Equal(origin.Add(want[i].start)) || !iv.End.Equal(origin.Add(want[i].end)) {
			t.Errorf("interval %d: %s..%s, want +%v..+%v", i, iv.Start, iv.End, want[i].start, want[i].end)
		}
	}
}

// TestGeometry checks re-recording: a foreign histogram's quantiles come out at the source's
// own (its bucket's highest equivalent value, scaled) within one of tailgate's buckets.
func TestGeometry(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := hdrhistogram.New(1, 3_600_000, 2) // milliseconds, 2 digits
	for range 10000 {
		src.RecordValue(int64(1 + 100*rng.ExpFloat64()))
	}
	r := newRecorder(Milliseconds)
	enc, err := src.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	b, err := result.NewDecoder().Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.record(b); err != nil {
		t.Fatal(err)
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		want, got := src.ValueAtQuantile(q)*1e6, r.hist.ValueAtQuantile(q)
		if !r.hist.ValuesAreEquivalent(want, got) {
			t.Errorf("p%v: %d ns, want %d ns (the source's, scaled) within a bucket", q, got, want)
		}
	}
	if r.hist.TotalCount() != src.TotalCount() {
		t.Errorf("%d samples, want %d", r.hist.TotalCount(), src.TotalCount())
	}
}

// TestGolden pins meta.json of one import.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	p := input(t, dir, "latency.csv", "time,latency_us,note\n2026-11-26T01:00:00.100Z,1500,a\n2026-11-26T01:00:00.600Z,1700,b\n2026-11-26T01:00:01.200Z,2100,c\n2026-11-26T01:00:03.000Z,9000,d\n")
	fp, err := Fingerprint("", []string{"board=Raspberry Pi 5 Model B Rev 1.0", "arch=arm64", "cpus=3", "threads=1", "backend=hailort"})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Input: p, Format: CSV, Out: filepath.Join(dir, "r"), Unit: Microseconds, Column: "latency_us",
		TimeColumn: "time", Interval: time.Second,
		Meta: result.Meta{Suite: "npu-yolo", Profile: "nightly", Env: fp, Git: result.Git{Commit: "0123456789abcdef0123456789abcdef01234567"},
			Tool: result.Tool{Name: "tailgate", Version: "test", Go: "go1.26"}}}
	if _, err := Import(o); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(o.Out, result.MetaFile))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "meta.json"), b)
}

// TestFingerprint checks pins and doctor captures.
func TestFingerprint(t *testing.T) {
	doctor := input(t, t.TempDir(), "doctor.json", `{"root":"/","cpus":[3],"host":{"arch":"arm64","os":"linux","kernel_release":"6.12.1-rt","kernel_version":"#1 PREEMPT_RT","preempt_rt":true,"cpu_model":"Cortex-A76","cpu_count":4,"backend":"","threads":0,"sched":"","go_version":"go1.26","tool_version":"dev"},"checks":[]}`)
	fp, err := Fingerprint(doctor, []string{"cpus=2,3", "threads=2", "board=Pi 5", "preempt_rt=false"})
	if err != nil {
		t.Fatal(err)
	}
	if fp.Arch != "arm64" || fp.KernelRelease != "6.12.1-rt" || fp.PreemptRT || fp.Board != "Pi 5" || fp.Threads != 2 || len(fp.CPUs) != 2 || fp.Backend != DefaultBackend {
		t.Errorf("fingerprint %+v", fp)
	}
	for _, tc := range []struct{ pin, want string }{
		{"color=red", `unknown key "color"`},
		{"threads=-1", "threads: want a whole number"},
		{"cpus=a", "cpus: want CPU ids"},
		{"preempt_rt=maybe", "want true or false"},
		{"governors=x", "governors cannot be pinned"},
		{"board", "want KEY=VALUE"},
	} {
		if _, err := Fingerprint("", []string{tc.pin}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--pin %s: %v, want %q", tc.pin, err, tc.want)
		}
	}
	for _, bad := range []string{`{"host":{}}`, `{"root":"/","host":{"arch":"x"},"checks":[],"extra":1}`, `[]`, `{"root":"/","host":{"arch":"x"},"checks":[]} {}`} {
		if _, err := ParseDoctor("d.json", []byte(bad)); err == nil || !strings.Contains(err.Error(), "d.json") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// fuzzScan runs src over data, checking that whatever it accepts is a well-formed interval.
func fuzzScan(t *testing.T, src source, data []byte) {
	_, _ = src.scan("fuzz", bytes.NewReader(data), func(iv interval) error {
		if iv.end < iv.start || iv.hist.TotalCount() < 0 || iv.hist.Max() > result.HighestNs+result.HighestNs/1000 {
			t.Fatalf("bad interval %+v", iv)
		}
		return nil
	})
}

func FuzzImportHLog(f *testing.F) {
	p := payload(f, 1, 3_600_000_000, 2, 500, 1000)
	f.Add([]byte(hlogText("Tag=a,0.000,1.000,1.0,"+p, "Tag=a,1.000,1.000,1.0,"+p)))
	f.Add([]byte("#[BaseTime: 1000.000 (seconds since epoch)]\n0.5,1,1," + p + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzScan(t, &hlogSource{rec: newRecorder(Microseconds)}, data) })
}

func FuzzImportHistogram(f *testing.F) {
	f.Add([]byte(payload(f, 1, 3_600_000, 3, 5, 6000) + "\n"))
	f.Add([]byte(payload(f, 1000, 3_600_000_000_000, 3, 5000, 6_000_000)))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzScan(t, &histogramSource{rec: newRecorder(Milliseconds)}, data) })
}

func FuzzImportLines(f *testing.F) {
	f.Add([]byte("1.5ms\n2ms\n# c\n\n3e-1ms\n"), "")
	f.Add([]byte("1\n2\n3\n"), "us")
	f.Fuzz(func(t *testing.T, data []byte, u string) {
		unit, err := ParseUnit(u)
		if err != nil {
			return
		}
		fuzzScan(t, &listSource{rows: readLines, units: units{flag: unit}, perInterval: 2, timeUnit: Seconds}, data)
	})
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("t,lat\n1.0,5\n1.5,6\n3,7\n"), "lat", "t")
	f.Add([]byte("2026-11-26T01:00:00Z,5us\n2026-11-26T01:00:02Z,6us\n"), "2", "1")
	f.Add([]byte("lat\n5\n\"6\"\n"), "lat", "")
	f.Fuzz(func(t *testing.T, data []byte, col, at string) {
		ls := &listSource{rows: csvReader(col, at), units: units{flag: Microseconds}, perInterval: 3, timeUnit: Seconds}
		if at != "" {
			ls.perInterval, ls.every = 0, time.Second
		}
		fuzzScan(t, ls, data)
	})
}

func FuzzImportJSONL(f *testing.F) {
	f.Add([]byte(`{"t":1,"v":2}`+"\n"+`{"t":2,"v":"3ms"}`+"\n"), "v", "t")
	f.Add([]byte(`{"v":2.5}`+"\n\n"+`{"v":1e3}`+"\n"), "v", "")
	f.Fuzz(func(t *testing.T, data []byte, field, at string) {
		ls := &listSource{rows: jsonlReader(field, at), units: units{flag: Milliseconds}, perInterval: 3, timeUnit: Milliseconds}
		if at != "" {
			ls.perInterval, ls.every = 0, time.Second
		}
		fuzzScan(t, ls, data)
	})
}

func FuzzParseDoctor(f *testing.F) {
	f.Add([]byte(`{"root":"/","cpus":[3],"host":{"arch":"arm64"},"checks":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if fp, err := ParseDoctor("fuzz", data); err == nil && fp.Arch == "" {
			t.Fatal("accepted a capture without host.arch")
		}
	})
}
