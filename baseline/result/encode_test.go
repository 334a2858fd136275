package result

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

type recording struct{ v, n int64 }

func histOf(lo, hi int64, sig int, recs ...recording) *hdrhistogram.Histogram {
	h := hdrhistogram.New(lo, hi, sig)
	for _, r := range recs {
		if err := h.RecordValues(r.v, r.n); err != nil {
			panic(err)
		}
	}
	return h
}

// latencyHist is a realistic interval: n lognormal inference latencies around median ns.
func latencyHist(seed uint64, n int, median float64) *hdrhistogram.Histogram {
	rng := rand.New(rand.NewPCG(seed, 7))
	h := NewHistogram()
	for range n {
		v := int64(median * math.Exp(0.5*rng.NormFloat64()))
		if rng.IntN(100) == 0 {
			v *= 20 // the odd stall
		}
		_ = h.RecordValue(min(max(v, 1), HighestNs))
	}
	return h
}

// checkEncoding encodes h and checks the payload decodes to h and is byte for byte what
// hdrhistogram-go's own encoder writes.
func checkEncoding(t *testing.T, e *Encoder, h *hdrhistogram.Histogram) {
	t.Helper()
	got, err := e.AppendPayload(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := hdrhistogram.Decode(got)
	if err != nil {
		t.Fatalf("decoding our payload: %v", err)
	}
	if !back.Equals(h) {
		t.Errorf("decoded histogram differs: count %d max %d, want %d %d", back.TotalCount(), back.Max(), h.TotalCount(), h.Max())
	}
	lib, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, lib) {
		libBack, err := hdrhistogram.Decode(lib)
		t.Errorf("payload differs from hdrhistogram-go's (%d vs %d bytes; library's decodes equal: %v %v)", len(got), len(lib), err == nil && libBack.Equals(back), err)
	}
}

func TestEncoderRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		h    *hdrhistogram.Histogram
	}{
		{"empty", NewHistogram()},
		{"empty coarse unit", histOf(1000, 1e12, 2)},
		{"one value", histOf(LowestNs, HighestNs, SigFigs, recording{12345, 1})},
		{"zero", histOf(LowestNs, HighestNs, SigFigs, recording{0, 3})},
		{"first two buckets", histOf(LowestNs, HighestNs, SigFigs, recording{0, 1}, recording{1, 1})},
		{"single gap", histOf(LowestNs, HighestNs, SigFigs, recording{0, 1}, recording{2, 1})},
		{"highest", histOf(LowestNs, HighestNs, SigFigs, recording{HighestNs, 1})},
		{"latencies", latencyHist(1, 100_000, 5e6)},
		{"huge counts", histOf(LowestNs, HighestNs, SigFigs, recording{1, math.MaxInt64 / 4}, recording{1e9, math.MaxInt64 / 2})},
		{"count needing nine bytes", histOf(LowestNs, HighestNs, SigFigs, recording{77, math.MaxInt64})},
		{"wide range 5 digits", histOf(1, math.MaxInt64/2, 5, recording{1, 1}, recording{1 << 40, 2}, recording{math.MaxInt64 / 2, 3})},
		{"1 digit", histOf(1, 1e6, 1, recording{9, 1}, recording{999_999, 1})},
		{"unit magnitude", histOf(1000, 1e12, 3, recording{1000, 1}, recording{1e12, 5}, recording{123456789, 7})},
		{"odd lowest", histOf(3, 100, 2, recording{3, 1}, recording{100, 1})},
		{"smallest range", histOf(1, 2, 1, recording{1, 1}, recording{2, 1})},
	}
	e, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkEncoding(t, e, c.h)
			// The same Encoder again: nothing of the previous call may leak into this one.
			checkEncoding(t, e, c.h)
		})
	}
}

// TestEncoderForeignGeometry covers histograms a PackedHistogram cannot mirror: 0
// significant digits, which only a decoded foreign log holds, with a conversion ratio.
func TestEncoderForeignGeometry(t *testing.T) {
	h := hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue: 1, HighestTrackableValue: 1 << 20, SignificantFigures: 0,
		Counts: []int64{0, 5, 0, 0, 7, 1}, IntegerToDoubleConversionRatio: 0.25,
	})
	if h.SignificantFigures() != 0 {
		t.Fatalf("test setup: %d significant digits", h.SignificantFigures())
	}
	e, _ := NewEncoder(DefaultLogCompression)
	checkEncoding(t, e, h)
	checkEncoding(t, e, NewHistogram()) // and back to the common geometry
}

func TestEncoderMaxMatchesHistogram(t *testing.T) {
	e, _ := NewEncoder(zlib.BestSpeed)
	for _, h := range []*hdrhistogram.Histogram{
		NewHistogram(),
		histOf(1000, 1e12, 3),
		histOf(LowestNs, HighestNs, SigFigs, recording{HighestNs, 1}),
		histOf(1000, 1e12, 3, recording{123456789, 7}),
		latencyHist(2, 1000, 3e5),
	} {
		got, err := e.encodeRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		if got != h.Max() {
			t.Errorf("max %d, histogram says %d", got, h.Max())
		}
	}
}

func TestAppendZigZag(t *testing.T) {
	cases := []struct {
		v    int64
		want []byte
	}{
		{0, []byte{0}},
		{-1, []byte{1}},
		{1, []byte{2}},
		{63, []byte{0x7e}},
		{64, []byte{0x80, 0x01}},
		{-64, []byte{0x7f}},
		{math.MaxInt64, []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{math.MinInt64, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, c := range cases {
		t.Run(strconv.FormatInt(c.v, 10), func(t *testing.T) {
			if got := appendZigZag(nil, c.v); !bytes.Equal(got, c.want) {
				t.Errorf("% x, want % x", got, c.want)
			}
		})
	}
}

func TestCheckTag(t *testing.T) {
	cases := []struct {
		tag string
		ok  bool
	}{
		{"", true},
		{"zeros", true},
		{"class-1.x", true},
		{"a,b", false},
		{",", false}, // hdrhistogram-go's own check lets a lone or leading comma through
		{"a b", false},
		{"a\nb", false},
		{"a\r", false},
		{"\tx", false},
		{"a\x00", false},
	}
	for _, c := range cases {
		t.Run(strconv.Quote(c.tag), func(t *testing.T) {
			err := CheckTag(c.tag)
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, errBadTag)) {
				t.Errorf("CheckTag = %v, want ok=%v", err, c.ok)
			}
		})
	}
}

func TestLogWriterLines(t *testing.T) {
	start := time.Date(2026, 11, 26, 1, 0, 0, 731_000_000, time.UTC)
	path := filepath.Join(t.TempDir(), LatencyFile)
	w, err := CreateLog(path, start)
	if err != nil {
		t.Fatal(err)
	}
	h := histOf(LowestNs, HighestNs, SigFigs, recording{4_587_000, 1}, recording{1000, 9})
	ivs := []Interval{
		{Tag: "zeros", Start: start.Add(118 * time.Millisecond), End: start.Add(1118 * time.Millisecond), Hist: h},
		{Start: start.Add(1118 * time.Millisecond), End: start.Add(2000 * time.Millisecond), Hist: NewHistogram()},
		{Tag: "zeros", Start: start.Add(time.Hour), End: start.Add(time.Hour + 1500*time.Microsecond), Hist: h},
	}
	for _, iv := range ivs {
		if err := w.WriteInterval(iv); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, `"`) {
			lines = append(lines, l)
		}
	}
	want := []string{"Tag=zeros,0.118,1.000,4.588,", "1.118,0.882,0.000,", "Tag=zeros,3600.000,0.001,4.588,"}
	if len(lines) != len(want) {
		t.Fatalf("%d interval lines, want %d:\n%s", len(lines), len(want), b)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, want[i]) {
			t.Errorf("line %d = %.60q…, want prefix %q", i, l, want[i])
		}
	}
	log, err := ReadLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if !log.Start.Equal(start) || len(log.Intervals) != len(ivs) {
		t.Fatalf("read start %v, %d intervals", log.Start, len(log.Intervals))
	}
	for i, got := range log.Intervals {
		iv := ivs[i]
		end := time.UnixMilli(iv.End.UnixMilli()) // the log keeps milliseconds
		if got.Tag != iv.Tag || !got.Start.Equal(iv.Start) || !got.End.Equal(end) || !got.Hist.Equals(iv.Hist) {
			t.Errorf("interval %d read back as %q %v-%v", i, got.Tag, got.Start, got.End)
		}
	}
}

func TestLogWriterRejects(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name, want string
		iv         Interval
	}{
		{"comma in tag", "commas", Interval{Tag: "a,b", Start: start, End: start, Hist: NewHistogram()}},
		{"space in tag", "white space", Interval{Tag: "a b", Start: start, End: start, Hist: NewHistogram()}},
		{"before the log", "before the log's start", Interval{Start: start.Add(-time.Second), End: start, Hist: NewHistogram()}},
		{"ends before it starts", "before it starts", Interval{Start: start.Add(time.Second), End: start, Hist: NewHistogram()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LatencyFile)
			w, err := CreateLog(path, start)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			before, _ := os.ReadFile(path)
			err = w.WriteInterval(c.iv)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Write = %v, want an error naming %s and %q", err, path, c.want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Errorf("a rejected interval was written:\n%s", after[len(before):])
			}
		})
	}
}

// TestLogWriteDoesNotAllocate writes real intervals to a real file, fsync included.
func TestLogWriteDoesNotAllocate(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	w, err := CreateLog(filepath.Join(t.TempDir(), LatencyFile), start)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	hs := []*hdrhistogram.Histogram{latencyHist(3, 50_000, 2e6), latencyHist(4, 10, 9e5), NewHistogram()}
	tags := []string{"zeros", "random", ""}
	i := 0
	write := func() {
		k := i % len(hs)
		s := start.Add(time.Duration(i) * time.Second)
		if err := w.WriteInterval(Interval{Tag: tags[k], Start: s, End: s.Add(time.Second), Hist: hs[k]}); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range len(hs) {
		write() // warm-up: buffers grow to the largest interval
	}
	if allocs := testing.AllocsPerRun(30, write); allocs != 0 {
		t.Errorf("LogWriter.Write allocates %.1f times per interval, want 0", allocs)
	}
	e, _ := NewEncoder(DefaultLogCompression)
	var buf []byte
	encode := func() {
		for _, h := range hs {
			if buf, err = e.AppendPayload(buf[:0], h); err != nil {
				t.Fatal(err)
			}
		}
	}
	encode()
	if allocs := testing.AllocsPerRun(30, encode); allocs != 0 {
		t.Errorf("Encoder.AppendPayload allocates %.1f times per call, want 0", allocs)
	}
}

// FuzzEncode encodes random histograms, decodes them and compares them with the original
// and with hdrhistogram-go's own encoding.
func FuzzEncode(f *testing.F) {
	f.Add(uint64(1), uint16(0), uint8(3), uint8(0), uint8(40))
	f.Add(uint64(2), uint16(1000), uint8(3), uint8(0), uint8(40))
	f.Add(uint64(3), uint16(50), uint8(5), uint8(10), uint8(62))
	f.Add(uint64(4), uint16(7), uint8(1), uint8(0), uint8(1))
	e, _ := NewEncoder(DefaultLogCompression)
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, sig, loBits, hiBits uint8) {
		s := int(sig%5) + 1
		lo := int64(1) << (loBits % 20)
		hi := max(2*lo, int64(1)<<min(uint(hiBits%63), 62))
		if int(loBits%20)+s*4 > 61 { // keep to geometries New accepts
			return
		}
		h := hdrhistogram.New(lo, hi, s)
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		for range int(n) {
			v := rng.Int64N(hi + 1)
			c := int64(1)
			if rng.IntN(8) == 0 {
				c = rng.Int64N(1 << (rng.IntN(50) + 1))
			}
			_ = h.RecordValues(v, c)
		}
		checkEncoding(t, e, h)
	})
}

// benchmarkHists are one-second intervals: a fast model at 10k inferences per second (many
// buckets populated) and a slow one at 20 per second.
func benchmarkHists() map[string]*hdrhistogram.Histogram {
	return map[string]*hdrhistogram.Histogram{
		"dense":  latencyHist(5, 10_000, 1e5),
		"sparse": latencyHist(6, 20, 5e7),
	}
}

// BenchmarkLogWrite formats and encodes one interval line with the Encoder, to io.Discard
// (no file, no fsync: the encoding cost alone).
func BenchmarkLogWrite(b *testing.B) {
	for name, h := range benchmarkHists() {
		b.Run(name, func(b *testing.B) {
			e, err := NewEncoder(DefaultLogCompression)
			if err != nil {
				b.Fatal(err)
			}
			// Warm-up: the line buffer grows to size once, as in a run's first interval.
			line, err := e.appendIntervalLine(nil, "zeros", 0, 0, 1000, h)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				line, err = e.appendIntervalLine(line[:0], "zeros", 0, int64(i)*1000, int64(i+1)*1000, h)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Discard.Write(line)
			}
			b.ReportMetric(float64(len(line)), "bytes/line")
		})
	}
}

// BenchmarkLogWriteLibrary is BenchmarkLogWrite through hdrhistogram-go's log writer, the
// path LogWriter took before the Encoder.
func BenchmarkLogWriteLibrary(b *testing.B) {
	for name, h := range benchmarkHists() {
		b.Run(name, func(b *testing.B) {
			lw := hdrhistogram.NewHistogramLogWriter(io.Discard)
			h.SetTag("zeros")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.SetStartTimeMs(int64(i) * 1000)
				h.SetEndTimeMs(int64(i+1) * 1000)
				if err := lw.OutputIntervalHistogram(h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
