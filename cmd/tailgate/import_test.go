package main

import (
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// hdrJar is Debian libhdrhistogram-java's jar: HdrHistogram's own Java log writer and
// HistogramLogProcessor.
const hdrJar = "/usr/share/java/hdrhistogram.jar"

// hdrJSVersion is the hdr-histogram-js .ci/hdrjs.sh installs (make test-deps).
const hdrJSVersion = "3.0.1"

// hlpTotals runs HdrHistogram's HistogramLogProcessor on log (only the lines tagged tag, when
// set) with values in the log's own unit, and returns the last row of its CSV: the Total_*
// columns cover the whole log.
func hlpTotals(t *testing.T, log, tag string) map[string]float64 {
	t.Helper()
	if _, err := os.Stat(hdrJar); err != nil {
		t.Fatalf("this test needs libhdrhistogram-java (make test-deps installs it): %v", err)
	}
	prefix := filepath.Join(t.TempDir(), "hlp")
	args := []string{"-cp", hdrJar, "org.HdrHistogram.HistogramLogProcessor", "-i", log, "-o", prefix, "-csv", "-outputValueUnitRatio", "1"}
	if tag != "" {
		args = append(args, "-tag", tag)
	}
	if b, err := exec.Command("java", args...).CombinedOutput(); err != nil {
		t.Fatalf("HistogramLogProcessor: %v\n%s", err, b)
	}
	f, err := os.ReadFile(prefix)
	if err != nil {
		t.Fatal(err)
	}
	var header, last []string
	for _, line := range strings.Split(string(f), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			t.Fatalf("HistogramLogProcessor csv %q: %v", line, err)
		}
		if header == nil {
			header = rec
		} else {
			last = rec
		}
	}
	if last == nil {
		t.Fatalf("HistogramLogProcessor read no intervals from %s", log)
	}
	out := map[string]float64{}
	for i, h := range header {
		v, err := strconv.ParseFloat(last[i], 64)
		if err != nil {
			t.Fatalf("HistogramLogProcessor column %s: %v", h, err)
		}
		out[h] = v
	}
	return out
}

// bucketsApart counts the buckets of h's geometry from the lower of a and b to the higher's.
func bucketsApart(h *hdrhistogram.Histogram, a, b int64) int {
	lo, hi := min(a, b), max(a, b)
	n := 0
	for ; !h.ValuesAreEquivalent(lo, hi); n++ {
		h.Reset()
		h.RecordValue(lo)
		lo = h.Max() + 1 // the next bucket's lowest value
	}
	return n
}

// interop is one log another HdrHistogram writer wrote, imported and checked against
// HistogramLogProcessor.
type interop struct {
	name, log, tag, unit string
	nanos                int64 // per unit
}

// check imports the log and compares p50/p99/p99.9/max with HistogramLogProcessor's, scaled to
// nanoseconds: at most one of tailgate's buckets apart (tailgate's are as fine as or finer than
// the writers' here, so this is within a bucket of theirs too). It logs the distance.
func (c interop) check(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	args := []string{"import", c.log, "--unit", c.unit, "--suite", "interop", "--out", out}
	if c.tag != "" {
		args = append(args, "--tag", c.tag)
	}
	if code, stdout, stderr := runTailgate(t, nil, args...); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	r, err := result.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	java := hlpTotals(t, c.log, c.tag)
	s := r.Meta.Summary
	if n := int64(java["Total_Count"]); n != s.Count {
		t.Fatalf("HistogramLogProcessor counts %d samples, tailgate %d", n, s.Count)
	}
	tg := result.NewHistogram()
	for _, q := range []struct {
		col string
		got int64
	}{{"Total_50%", s.P50}, {"Total_99%", s.P99}, {"Total_99.9%", s.P999}, {"Total_Max", s.Max}} {
		want := int64(math.Round(java[q.col]))
		apart := bucketsApart(tg, q.got, want*c.nanos)
		t.Logf("%s %s: HistogramLogProcessor %d %s, tailgate %d ns: %d buckets apart", c.name, q.col, want, c.unit, q.got, apart)
		if apart > 1 {
			t.Errorf("%s: HistogramLogProcessor %d %s, tailgate %d ns: %d buckets apart, want at most 1", q.col, want, c.unit, q.got, apart)
		}
	}
}

// TestImportJavaLog imports logs written by HdrHistogram's Java HistogramLogWriter (a small
// program compiled here against Debian's jar): microseconds at 2 significant digits with two
// tags and absolute timestamps, and nanoseconds from 1 µs at 3 digits with timestamps
// relative to a BaseTime header.
func TestImportJavaLog(t *testing.T) {
	if _, err := exec.LookPath("javac"); err != nil {
		t.Fatalf("this test needs javac (default-jdk-headless; make test-deps installs it): %v", err)
	}
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("testdata", "import", "HdrWriter.java"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("javac", "-cp", hdrJar, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, b)
	}
	for _, c := range []interop{
		{name: "java-us", tag: "npu", unit: "us", nanos: 1000},
		{name: "java-ns", unit: "ns", nanos: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.log = filepath.Join(dir, c.name+".hlog")
			if b, err := exec.Command("java", "-cp", hdrJar+string(os.PathListSeparator)+dir, "HdrWriter", c.log, c.unit).CombinedOutput(); err != nil {
				t.Fatalf("HdrWriter: %v\n%s", err, b)
			}
			c.check(t)
		})
	}
}

// TestImportJSLog imports a log written by hdr-histogram-js (npm, pinned by .ci/hdrjs.sh):
// microseconds, two tags, timestamps relative to the StartTime header.
func TestImportJSLog(t *testing.T) {
	cache := os.Getenv("TAILGATE_CACHE")
	if cache == "" {
		cache = filepath.Join("..", "..", ".cache")
	}
	modules, err := filepath.Abs(filepath.Join(cache, "hdr-histogram-js", hdrJSVersion, "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "hdr-histogram-js", "package.json")); err != nil {
		t.Fatalf("this test needs hdr-histogram-js %s (make test-deps runs .ci/hdrjs.sh): %v", hdrJSVersion, err)
	}
	c := interop{name: "js-us", tag: "cpu", unit: "us", nanos: 1000}
	c.log = filepath.Join(t.TempDir(), "js.hlog")
	if b, err := exec.Command("node", filepath.Join("testdata", "import", "hdrwriter.js"), modules, c.log).CombinedOutput(); err != nil {
		t.Fatalf("hdrwriter.js: %v\n%s", err, b)
	}
	c.check(t)
}

// TestImportedResultEverywhere feeds imported results to the commands that read results:
// compare (the report labels the imported side), report, wcet and baseline promote.
func TestImportedResultEverywhere(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	for i := range 6000 {
		// a sawtooth body and every 50th sample slow, spread over 3-5 ms: deterministic, with
		// p99 and p99.9 inside the tail, not on its edge
		v := 1000 + (i*37)%500
		if i%50 == 0 {
			v = 3000 + (i*13)%2000
		}
		lines.WriteString(strconv.Itoa(v) + "us\n")
	}
	in := filepath.Join(dir, "latencies.txt")
	if err := os.WriteFile(in, []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base, cand := filepath.Join(dir, "base"), filepath.Join(dir, "cand")
	for _, out := range []string{base, cand} {
		code, stdout, stderr := runTailgate(t, nil, "import", in, "--suite", "npu", "--per-interval", "100",
			"--start", "2026-11-26T01:00:00Z", "--pin", "board=Raspberry Pi 5", "--pin", "backend=hailort", "--out", out)
		if code != 0 || !strings.Contains(stdout, "6000 samples in 60 intervals") {
			t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	code, stdout, stderr := runTailgate(t, nil, "compare", base, cand, "--format", "markdown")
	if code != exitPass || !strings.Contains(stdout, "| source | imported from lines latencies.txt (us, sha256 ") {
		t.Errorf("compare: exit %d\n%s%s", code, stdout, stderr)
	}
	html := filepath.Join(dir, "report.html")
	if code, _, stderr := runTailgate(t, nil, "report", base, cand, "--html", html); code != 0 {
		t.Errorf("report: exit %d\n%s", code, stderr)
	}
	if code, stdout, stderr := runTailgate(t, nil, "wcet", cand, "--bootstrap", "50"); code == exitError {
		t.Errorf("wcet: exit %d\n%s%s", code, stdout, stderr)
	}
	store := filepath.Join(dir, "store")
	if code, stdout, stderr := runTailgate(t, nil, "baseline", "promote", base, "--store", store, "--force", "--reason", "imported from the vendor's benchmark"); code != 0 {
		t.Errorf("baseline promote: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runTailgate(t, nil, "compare", "--store", store, cand); code != exitPass {
		t.Errorf("compare --store: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestImportFlags checks the command's own checks: the format from the extension, flags that
// conflict, and an unreadable doctor capture, each exit 2 naming what is wrong.
func TestImportFlags(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "lat.dat")
	if err := os.WriteFile(in, []byte("1ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{in, "--suite", "s", "--out", filepath.Join(dir, "a")}, "--format: " + in + "'s extension does not say"},
		{[]string{in, "--format", "csv", "--column", "a", "--field", "b", "--suite", "s", "--out", filepath.Join(dir, "a")}, "--column and --field: give one"},
		{[]string{in, "--format", "lines", "--unit", "furlong", "--suite", "s", "--out", filepath.Join(dir, "a")}, `--unit: unknown unit "furlong"`},
		{[]string{in, "--format", "lines", "--start", "yesterday", "--suite", "s", "--out", filepath.Join(dir, "a")}, "--start: "},
		{[]string{in, "--format", "lines", "--doctor", filepath.Join(dir, "none.json"), "--suite", "s", "--out", filepath.Join(dir, "a")}, "none.json: no such file"},
		{[]string{in, "--format", "lines", "--pin", "colour=red", "--suite", "s", "--out", filepath.Join(dir, "a")}, `--pin "colour=red": unknown key`},
		{[]string{in, in, "--suite", "s"}, "want exactly one input FILE, got 2"},
	} {
		code, _, stderr := runTailgate(t, nil, append([]string{"import"}, tc.args...)...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("import %v: exit %d %s, want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
}
