package result

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// libDecode is hdrhistogram.Decode with its panics (on some hostile input) as errors.
func libDecode(payload []byte) (h *hdrhistogram.Histogram, err error) {
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return hdrhistogram.Decode(payload)
}

// sameAsLibrary reports how b differs from the histograms hdrhistogram.Decode (h) and
// DecodePacked (packed) made of the same payload, or "" when it does not. Either may be nil:
// the dense checks walk every counts index, too slow for fuzzing wide geometries.
func sameAsLibrary(b *Buckets, h *hdrhistogram.Histogram, packed *hdrhistogram.PackedHistogram) string {
	type geo struct{ lo, hi, sig, total, max int64 }
	got := geo{b.Lowest, b.Highest, b.SigFigs, b.Total, b.Max()}
	if h != nil {
		if want := (geo{h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), h.TotalCount(), h.Max()}); got != want {
			return fmt.Sprintf("geometry, total and max %+v, Decode's %+v", got, want)
		}
		j := 0
		for i, c := range h.Export().Counts {
			if c == 0 {
				continue
			}
			if j >= len(b.Index) || int(b.Index[j]) != i || b.Count[j] != c {
				return fmt.Sprintf("populated bucket %d: Decode has index %d count %d", j, i, c)
			}
			j++
		}
		if j != len(b.Index) {
			return fmt.Sprintf("%d populated buckets, Decode's %d", len(b.Index), j)
		}
	}
	if packed != nil {
		if want := (geo{packed.LowestTrackableValue(), packed.HighestTrackableValue(), packed.SignificantFigures(), packed.TotalCount(), packed.Max()}); got != want {
			return fmt.Sprintf("geometry, total and max %+v, DecodePacked's %+v", got, want)
		}
		// The packed decoder names each bucket by its lowest value.
		j := 0
		for v, c := range packed.ForEachBucket {
			if j >= len(b.Index) || b.Value(j) != v || b.Count[j] != c {
				return fmt.Sprintf("populated bucket %d: DecodePacked has value %d count %d", j, v, c)
			}
			j++
		}
		if j != len(b.Index) {
			return fmt.Sprintf("%d populated buckets, DecodePacked's %d", len(b.Index), j)
		}
	}
	return ""
}

// randomHist records a seeded random distribution into a histogram of a random geometry, from
// tailgate's own to the extremes the wire format allows.
func randomHist(rng *rand.Rand) *hdrhistogram.Histogram {
	type geo struct {
		lo, hi int64
		sig    int
	}
	geos := []geo{{1, HighestNs, 3}, {1, 1000, 1}, {1, math.MaxInt64, 4}, {3, 1 << 30, 5}, {1000, 1e12, 2}, {1 << 20, math.MaxInt64 / 2, 4}, {7, 1 << 40, 3}}
	g := geos[rng.IntN(len(geos))]
	h := hdrhistogram.New(g.lo, g.hi, g.sig)
	n := rng.IntN(3000)
	median := math.Exp(rng.Float64() * math.Log(float64(min(g.hi, 1e15))))
	for range n {
		v := int64(median * math.Exp(rng.NormFloat64()))
		v = min(max(v, g.lo), g.hi)
		if rng.IntN(50) == 0 {
			_ = h.RecordValues(v, 1+rng.Int64N(1<<40)) // a heavy bucket: multi-byte counts
		} else {
			_ = h.RecordValue(v)
		}
	}
	return h
}

// TestDecoderMatchesLibrary decodes many random histograms, encoded both by hdrhistogram-go and
// by this package's Encoder, with one reused Decoder, and checks every bucket, the total and
// the max against hdrhistogram.Decode.
func TestDecoderMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 6))
	d := NewDecoder()
	enc, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		h := randomHist(rng)
		lib, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := enc.AppendPayload(nil, h)
		if err != nil {
			t.Fatal(err)
		}
		for name, payload := range map[string][]byte{"library": lib, "Encoder": ours} {
			want, err := hdrhistogram.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.Decode(payload)
			if err != nil {
				t.Fatalf("histogram %d (%s-encoded): %v", i, name, err)
			}
			packed, err := hdrhistogram.DecodePacked(payload)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameAsLibrary(b, want, packed); diff != "" {
				t.Fatalf("histogram %d (%s-encoded): %s", i, name, diff)
			}
		}
	}
}

// v2 builds a compressed V2 payload around an uncompressed header and counts payload, so tests
// can say exactly what is on the wire.
type v2 struct {
	cookie, innerCookie uint32
	payloadLen          int32 // -1: the real length
	sig                 int32
	lowest, highest     int64
	counts              []byte // the ZigZag LEB128 payload
	trailing            []byte // inflated bytes after the payload
	clen                int32  // 0: the real compressed length
	outer               []byte // bytes after the compressed contents
	zlib                func([]byte) []byte
}

func (p v2) bytes() []byte {
	if p.cookie == 0 {
		p.cookie = v2CompressedEncodingCookie
	}
	if p.innerCookie == 0 {
		p.innerCookie = v2EncodingCookie
	}
	raw := binary.BigEndian.AppendUint32(nil, p.innerCookie)
	pl := p.payloadLen
	if pl == -1 {
		pl = int32(len(p.counts))
	}
	raw = binary.BigEndian.AppendUint32(raw, uint32(pl))
	raw = binary.BigEndian.AppendUint32(raw, 0)
	raw = binary.BigEndian.AppendUint32(raw, uint32(p.sig))
	raw = binary.BigEndian.AppendUint64(raw, uint64(p.lowest))
	raw = binary.BigEndian.AppendUint64(raw, uint64(p.highest))
	raw = binary.BigEndian.AppendUint64(raw, math.Float64bits(1))
	raw = append(append(raw, p.counts...), p.trailing...)
	z := p.zlib
	if z == nil {
		z = deflate
	}
	comp := z(raw)
	out := binary.BigEndian.AppendUint32(nil, p.cookie)
	clen := p.clen
	if clen == 0 {
		clen = int32(len(comp))
	}
	out = binary.BigEndian.AppendUint32(out, uint32(clen))
	out = append(append(out, comp...), p.outer...)
	return []byte(base64.StdEncoding.EncodeToString(out))
}

func deflate(raw []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(raw)
	w.Close()
	return buf.Bytes()
}

func zz(vs ...int64) []byte {
	var b []byte
	for _, v := range vs {
		b = appendZigZag(b, v)
	}
	return b
}

// TestDecoderRejects feeds hostile and damaged payloads: each must fail with an error saying
// what is wrong, and hdrhistogram.Decode must reject it too, so that the streaming gate and
// result.Read never disagree about a log.
func TestDecoderRejects(t *testing.T) {
	ok := v2{payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs, counts: zz(0, 5, -3, 7)}
	cases := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"not base64", []byte("HISTF!!!"), "base64"},
		{"short", []byte(base64.StdEncoding.EncodeToString([]byte{1, 2, 3})), "shorter than its 8-byte header"},
		{"outer cookie", v2{cookie: 0x1c849301, payloadLen: -1, sig: 3, lowest: 1, highest: 1000}.bytes(), "not HdrHistogram's V2 compressed"},
		{"negative compressed length", func() []byte { p := ok; p.clen = -5; return p.bytes() }(), "compressed length -5"},
		{"compressed length past the end", func() []byte { p := ok; p.clen = 5000; return p.bytes() }(), "compressed length 5000"},
		{"not zlib", func() []byte { p := ok; p.zlib = func(b []byte) []byte { return b }; return p.bytes() }(), "zlib"},
		{"truncated zlib", func() []byte {
			p := ok
			p.zlib = func(b []byte) []byte { z := deflate(b); return z[:len(z)-8] }
			return p.bytes()
		}(), "unexpected EOF"},
		{"bad checksum", func() []byte {
			p := ok
			p.zlib = func(b []byte) []byte { z := deflate(b); z[len(z)-1] ^= 1; return z }
			return p.bytes()
		}(), "checksum"},
		{"inner cookie", func() []byte { p := ok; p.innerCookie = 0x1c849301; return p.bytes() }(), "not HdrHistogram's V2 encoding"},
		{"negative payload length", func() []byte { p := ok; p.payloadLen = -2; return p.bytes() }(), "negative payload length"},
		{"seven significant digits", func() []byte { p := ok; p.sig = 7; return p.bytes() }(), "7 significant digits"},
		{"lowest too large", func() []byte { p := ok; p.lowest = 1 << 60; p.highest = math.MaxInt64; return p.bytes() }(), "too large"},
		{"payload length past the geometry", func() []byte {
			p := v2{payloadLen: 1 << 30, sig: 1, lowest: 1, highest: 100}
			return p.bytes()
		}(), "exceeds"},
		{"payload shorter than declared", func() []byte { p := ok; p.payloadLen = int32(len(ok.counts) + 3); return p.bytes() }(), "shorter than its declared"},
		{"payload longer than declared", func() []byte { p := ok; p.trailing = []byte{2}; return p.bytes() }(), "continues past"},
		{"count cut off", func() []byte { p := ok; p.counts = append(zz(4), 0x80); return p.bytes() }(), "ends inside a count"},
		{"zero run past the end", func() []byte { p := ok; p.counts = zz(-1 << 40); return p.bytes() }(), "overflows"},
		{"MinInt64 zero run", func() []byte { p := ok; p.counts = zz(math.MinInt64); return p.bytes() }(), "overflows"},
		{"count past the end", func() []byte {
			p := v2{payloadLen: -1, sig: 1, lowest: 1, highest: 100, counts: zz(-64, 1)}
			return p.bytes()
		}(), "past the"},
		{"counts overflow", func() []byte { p := ok; p.counts = zz(math.MaxInt64, 1); return p.bytes() }(), "sum past"},
	}
	d := NewDecoder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.Decode(tc.payload)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			if _, lerr := libDecode(tc.payload); lerr == nil {
				t.Errorf("hdrhistogram.Decode accepts it: the two readers disagree")
			}
		})
	}
	// The decoder is still good after all that.
	b, err := d.Decode(ok.bytes())
	if err != nil || b.Total != 12 || len(b.Index) != 2 || b.Index[0] != 1 || b.Index[1] != 5 {
		t.Fatalf("valid payload after errors: %+v, %v", b, err)
	}
}

// TestDecoderAccepts covers what is valid though unusual, as the library reads it.
func TestDecoderAccepts(t *testing.T) {
	cases := []struct {
		name string
		p    v2
	}{
		{"lowest 0 read as 1", v2{payloadLen: -1, sig: 2, lowest: 0, highest: 5000, counts: zz(3, 0, 4)}},
		{"zero significant digits", v2{payloadLen: -1, sig: 0, lowest: 1, highest: 1 << 20, counts: zz(-3, 9)}},
		{"empty", v2{payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs, counts: zz(0)}},
		{"no counts at all", v2{payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs}},
		{"other cookie flags", v2{cookie: 0x1c849304 | 0x20, innerCookie: 0x1c849303 | 0x20, payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs, counts: zz(1)}},
		{"bytes after the compressed contents", v2{payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs, counts: zz(1), outer: []byte("xyz")}},
		{"nine-byte count", v2{payloadLen: -1, sig: 3, lowest: 1, highest: HighestNs, counts: zz(-100, math.MaxInt64)}},
		{"long payload across reads", v2{payloadLen: -1, sig: 5, lowest: 1, highest: math.MaxInt64, counts: bytes.Repeat(zz(1<<50, 0, 1), 4000)}},
	}
	d := NewDecoder()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := tc.p.bytes()
			want, err := hdrhistogram.Decode(payload)
			if err != nil {
				t.Fatalf("the library rejects it: %v", err)
			}
			b, err := d.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			packed, err := hdrhistogram.DecodePacked(payload)
			if err != nil {
				t.Fatal(err)
			}
			if diff := sameAsLibrary(b, want, packed); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

// FuzzDecodeCompressed checks the Decoder never panics, and agrees with hdrhistogram.Decode
// about every input: both accept it (with the buckets DecodePacked finds), or both reject it. With wrap set the
// input is the uncompressed header and counts, wrapped in zlib, the outer header and base64,
// so mutations reach the counts decoder rather than dying in base64 or zlib.
func FuzzDecodeCompressed(f *testing.F) {
	enc, _ := NewEncoder(DefaultLogCompression)
	for _, h := range []*hdrhistogram.Histogram{latencyHist(1, 500, 3e6), histOf(1, 1000, 1, recording{5, 3}), NewHistogram()} {
		p, _ := enc.AppendPayload(nil, h)
		f.Add(p, false)
		raw, _ := base64.StdEncoding.DecodeString(string(p))
		r, _ := zlib.NewReader(bytes.NewReader(raw[8:]))
		var inner bytes.Buffer
		inner.ReadFrom(r)
		f.Add(inner.Bytes(), true)
	}
	f.Add([]byte("HISTFAAAA"), false)
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		payload := data
		if wrap {
			z := deflate(data)
			out := binary.BigEndian.AppendUint32(nil, v2CompressedEncodingCookie)
			out = binary.BigEndian.AppendUint32(out, uint32(len(z)))
			payload = []byte(base64.StdEncoding.EncodeToString(append(out, z...)))
		}
		b, err := d.Decode(payload)
		_, lerr := libDecode(payload)
		switch {
		case err == nil && lerr != nil:
			t.Fatalf("Decoder accepts what hdrhistogram.Decode rejects (%v)", lerr)
		case err != nil && lerr == nil:
			t.Fatalf("Decoder rejects what hdrhistogram.Decode accepts: %v", err)
		case err == nil:
			packed, err := hdrhistogram.DecodePacked(payload)
			if err != nil {
				t.Fatalf("DecodePacked rejects what Decode accepts: %v", err)
			}
			if diff := sameAsLibrary(b, nil, packed); diff != "" {
				t.Fatal(diff)
			}
		}
	})
}

// TestScanLogBucketsMatchesScanLog reads the same log both ways: the same intervals, tags,
// times and counts, and the same errors for damaged logs.
func TestScanLogBucketsMatchesScanLog(t *testing.T) {
	start := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	enc, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	log.WriteString("#[StartTime: 1795478400.000 (seconds since epoch), 2026-11-24T00:00:00.000Z]\n#[BaseTime: 1795478400.000 (seconds since epoch)]\n")
	log.WriteString(`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"` + "\r\n")
	for i := range 40 {
		tag := []string{"", "warm", "warm", "cold"}[i%4]
		s := start.Add(time.Duration(i) * 1500 * time.Millisecond)
		line, err := enc.appendIntervalLine(nil, tag, start.UnixMilli(), s.UnixMilli(), s.Add(time.Second).UnixMilli(), latencyHist(uint64(i), 50*i, 2e6))
		if err != nil {
			t.Fatal(err)
		}
		log.Write(line)
	}
	good := log.String()
	type iv struct {
		tag        string
		start, end time.Time
		total, max int64
	}
	read := func(text string) (dense, sparse []iv, derr, serr error) {
		_, derr = ScanLog("x.hlog", strings.NewReader(text), func(i Interval) error {
			dense = append(dense, iv{i.Tag, i.Start, i.End, i.Hist.TotalCount(), i.Hist.Max()})
			return nil
		})
		_, serr = ScanLogBuckets("x.hlog", strings.NewReader(text), func(i IntervalBuckets) error {
			sparse = append(sparse, iv{i.Tag, i.Start, i.End, i.Buckets.Total, i.Buckets.Max()})
			return nil
		})
		return
	}
	dense, sparse, derr, serr := read(good)
	if derr != nil || serr != nil {
		t.Fatal(derr, serr)
	}
	if len(dense) != 40 || fmt.Sprint(dense) != fmt.Sprint(sparse) {
		t.Fatalf("ScanLog read %v\nScanLogBuckets read %v", dense, sparse)
	}
	if dense[5].tag != "warm" || !dense[5].start.Equal(start.Add(7500*time.Millisecond)) {
		t.Fatalf("interval 5: %+v", dense[5])
	}
	lines := strings.SplitAfter(good, "\n")
	for _, tc := range []struct{ name, text, want string }{
		{"truncated", good[:len(good)-100], "x.hlog:43: histogram payload"},
		{"garbage line", good + "hello world\n", "x.hlog:44: interval line has 1 fields"},
		{"negative start", good + "-1.0,1.0,2.0,HISTFAAAA\n", "x.hlog:44: start timestamp"},
		{"bad payload", strings.Join(lines[:10], "") + "1.0,1.0,2.0,HISTFAAAAKXicNYk=\n", "x.hlog:11: histogram payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, derr, serr := read(tc.text)
			if derr == nil || serr == nil || !strings.Contains(derr.Error(), tc.want) || !strings.Contains(serr.Error(), tc.want) {
				t.Errorf("ScanLog: %v\nScanLogBuckets: %v\nwant both to mention %q", derr, serr, tc.want)
			}
		})
	}
}

// log48h is a 48-hour nightly log: $TAILGATE_48H/base/latency.hlog when that is set (written
// by gate's TestWrite48h), else one built in memory the same way: 17,280 ten-second intervals
// of 5,787 samples (100M in all), drawn from 96 distinct seeded intervals of the same process
// (a lognormal body around 1 ms with a 2 % tail around 3 ms).
var log48h = sync.OnceValues(func() ([]byte, error) {
	if dir := os.Getenv("TAILGATE_48H"); dir != "" {
		return os.ReadFile(filepath.Join(dir, "base", LatencyFile))
	}
	const intervals, perIv, distinct = 17280, 5787, 96
	rng := rand.New(rand.NewPCG(48, 1))
	enc, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		return nil, err
	}
	tails := make([][]byte, distinct) // max,payload\n of each distinct interval
	for i := range tails {
		h := NewHistogram()
		for range perIv {
			v := 1e6 * math.Exp(0.05*rng.NormFloat64())
			if rng.Float64() < 0.02 {
				v = 3e6 * math.Exp(0.1*rng.NormFloat64())
			}
			_ = h.RecordValue(int64(v))
		}
		line, err := enc.appendIntervalLine(nil, "", 0, 0, 10_000, h)
		if err != nil {
			return nil, err
		}
		tails[i] = line[len("0.000,10.000,"):]
	}
	var log bytes.Buffer
	log.WriteString("#[StartTime: 1795478400.000 (seconds since epoch), 2026-11-24T00:00:00.000Z]\n#[BaseTime: 1795478400.000 (seconds since epoch)]\n")
	for i := range intervals {
		fmt.Fprintf(&log, "%d.000,10.000,%s", i*10, tails[rng.IntN(distinct)])
	}
	return log.Bytes(), nil
})

// BenchmarkScanLog48h reads a 48-hour nightly log (17,280 intervals, 100M samples; see log48h)
// three ways: ScanLog, which decodes every line into a fresh dense histogram with
// hdrhistogram.Decode; the same lines through hdrhistogram.DecodePacked (fresh sparse
// histograms); and ScanLogBuckets, which decodes into reused Buckets.
func BenchmarkScanLog48h(b *testing.B) {
	log, err := log48h()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		scan func(r io.Reader, n *int, total *int64) error
	}{
		{"dense", func(r io.Reader, n *int, total *int64) error {
			_, err := ScanLog("48h", r, func(iv Interval) error {
				*n, *total = *n+1, *total+iv.Hist.TotalCount()
				return nil
			})
			return err
		}},
		{"packed", func(r io.Reader, n *int, total *int64) error {
			_, err := scanLines("48h", r, false, func(l logLine) error {
				p, err := hdrhistogram.DecodePacked(l.payload)
				if err != nil {
					return err
				}
				*n, *total = *n+1, *total+p.TotalCount()
				return nil
			})
			return err
		}},
		{"buckets", func(r io.Reader, n *int, total *int64) error {
			_, err := ScanLogBuckets("48h", r, func(iv IntervalBuckets) error {
				*n, *total = *n+1, *total+iv.Buckets.Total
				return nil
			})
			return err
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(log)))
			for b.Loop() {
				var n int
				var total int64
				if err := tc.scan(bytes.NewReader(log), &n, &total); err != nil {
					b.Fatal(err)
				}
				if n != 17280 || total < 17280*5000 {
					b.Fatalf("%d intervals, %d samples", n, total)
				}
			}
		})
	}
}

// FuzzScanLogBuckets reads arbitrary logs both ways: ScanLogBuckets must accept exactly the
// logs ScanLog accepts, with the same intervals, and fail at the same line.
func FuzzScanLogBuckets(f *testing.F) {
	enc, _ := NewEncoder(DefaultLogCompression)
	var log []byte
	log = append(log, "#[StartTime: 1795478400.000 (seconds since epoch)]\n"...)
	for i, tag := range []string{"", "a", "a"} {
		log, _ = enc.appendIntervalLine(log, tag, 0, int64(i)*1000, int64(i+1)*1000, latencyHist(uint64(i), 20*i, 1e6))
	}
	f.Add(log)
	f.Add([]byte("0.0,1.0,2.0,HISTFAAAAA==\n"))
	f.Add([]byte("Tag=x,1,2,3,\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		type iv struct {
			tag        string
			start, end int64
			total, max int64
		}
		var dense, sparse []iv
		_, derr := ScanLog("f", bytes.NewReader(data), func(i Interval) error {
			dense = append(dense, iv{i.Tag, i.Start.UnixMilli(), i.End.UnixMilli(), i.Hist.TotalCount(), i.Hist.Max()})
			return nil
		})
		_, serr := ScanLogBuckets("f", bytes.NewReader(data), func(i IntervalBuckets) error {
			sparse = append(sparse, iv{i.Tag, i.Start.UnixMilli(), i.End.UnixMilli(), i.Buckets.Total, i.Buckets.Max()})
			return nil
		})
		if (derr == nil) != (serr == nil) {
			t.Fatalf("ScanLog: %v\nScanLogBuckets: %v", derr, serr)
		}
		// Both stop at the same line: the same intervals before it.
		if fmt.Sprint(dense) != fmt.Sprint(sparse) {
			t.Fatalf("ScanLog read %v\nScanLogBuckets read %v", dense, sparse)
		}
		if derr != nil && strings.SplitN(derr.Error(), ":", 3)[1] != strings.SplitN(serr.Error(), ":", 3)[1] {
			t.Fatalf("different lines: %v / %v", derr, serr)
		}
	})
}
