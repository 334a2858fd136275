package result

import (
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// DefaultLogCompression is the zlib level of interval-log payloads. It is the level
// hdrhistogram-go writes, so a payload is byte for byte the library's own; BenchmarkLogWrite
// measures what it costs (the flate state is reset, not rebuilt, between intervals).
const DefaultLogCompression = zlib.BestCompression

// HdrHistogram V2 cookies as they appear on the wire: the low nibble 0x10 marks 8-byte words
// with the zero-run (TLZE) payload, as HdrHistogram's Java encoder and hdrhistogram-go write.
const (
	v2EncodingCookie           = 0x1c849303 | 0x10
	v2CompressedEncodingCookie = 0x1c849304 | 0x10
	v2HeaderSize               = 40
)

// Encoder writes histograms in HdrHistogram's V2 compressed encoding (base64 of the
// compressed cookie, the compressed length and a zlib stream of the 40-byte header followed by
// ZigZag LEB128 counts, zero runs as negative lengths). Unlike hdrhistogram-go's Encode it
// keeps its buffers, its zlib writer and its copy of the counts between calls, so once it has
// seen the largest histogram it will encode, it allocates nothing: the harness's writer can
// log an interval per second for days with the garbage collector off.
//
// The integer-to-double conversion ratio is always written as 1: tailgate's histograms hold
// integer nanoseconds, and a dense Histogram does not expose its ratio without copying its
// counts. An Encoder is not safe for concurrent use.
type Encoder struct {
	zw   *zlib.Writer
	out  appendWriter // compressed cookie, length and zlib stream
	raw  []byte       // uncompressed header and payload
	geo  geometry     // of sparse
	tmp  *hdrhistogram.PackedHistogram
	scan func(value, count int64) bool // e.visit, bound once so passing it does not allocate

	// Set by visit while the payload is built.
	next   int32 // flat index after the last populated bucket seen
	last   int64 // value of the last populated bucket seen
	filled bool  // a populated bucket was seen
}

// NewEncoder returns an Encoder compressing at level (a compress/zlib level, such as
// DefaultLogCompression).
func NewEncoder(level int) (*Encoder, error) {
	e := &Encoder{}
	zw, err := zlib.NewWriterLevel(&e.out, level)
	if err != nil {
		return nil, fmt.Errorf("histogram encoder: %w", err)
	}
	e.zw = zw
	e.scan = e.visit
	return e, nil
}

// appendWriter is an io.Writer appending to a reused slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// AppendPayload appends h's V2 compressed, base64 encoding to dst (what a log line carries
// after its last comma) and returns the extended slice.
func (e *Encoder) AppendPayload(dst []byte, h *hdrhistogram.Histogram) ([]byte, error) {
	if _, err := e.encodeRaw(h); err != nil {
		return dst, err
	}
	return e.appendCompressed(dst)
}

// appendCompressed compresses e.raw and appends it, with its cookie and length, in base64.
func (e *Encoder) appendCompressed(dst []byte) ([]byte, error) {
	// Deflate into out after 8 bytes kept for the cookie and the compressed length.
	e.out.b = append(e.out.b[:0], 0, 0, 0, 0, 0, 0, 0, 0)
	e.zw.Reset(&e.out)
	if _, err := e.zw.Write(e.raw); err != nil {
		return dst, fmt.Errorf("compressing histogram: %w", err)
	}
	if err := e.zw.Close(); err != nil {
		return dst, fmt.Errorf("compressing histogram: %w", err)
	}
	binary.BigEndian.PutUint32(e.out.b[0:], v2CompressedEncodingCookie)
	binary.BigEndian.PutUint32(e.out.b[4:], uint32(len(e.out.b)-8))
	return base64.StdEncoding.AppendEncode(dst, e.out.b), nil
}

// encodeRaw fills e.raw with the uncompressed header and payload of h and returns h's max.
func (e *Encoder) encodeRaw(h *hdrhistogram.Histogram) (int64, error) {
	lo, hi, sig := h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures()
	if e.tmp == nil || e.geo.lowest != lo || e.geo.highest != hi || e.geo.sig != sig {
		p := hdrhistogram.NewPacked(lo, hi, int(sig))
		if p.LowestTrackableValue() != lo || p.HighestTrackableValue() != hi || p.SignificantFigures() != sig {
			// A geometry New would clamp (0 significant digits, only ever decoded from a
			// foreign log) cannot be mirrored by a PackedHistogram; encode a copy of the counts.
			return e.encodeSnapshot(h)
		}
		e.tmp, e.geo = p, newGeometry(lo, hi, sig)
	}
	// The dense histogram's counts are not exported without a copy (Export allocates one
	// the size of the whole counts array, 270 KB at tailgate's geometry). MergeFrom reads them
	// in place into a sparse copy whose storage is kept across Reset, and ForEachBucket walks
	// the populated buckets in index order; neither allocates once the copy has grown.
	e.tmp.Reset()
	if dropped := e.tmp.MergeFrom(h); dropped != 0 {
		return 0, fmt.Errorf("histogram encoder: %d counts do not fit the histogram's own geometry", dropped)
	}
	e.raw = e.putHeader(e.raw[:0], sig, lo, hi, 1)
	e.next, e.last, e.filled = 0, 0, false
	e.tmp.ForEachBucket(e.scan)
	return e.finishPayload(), nil
}

// visit appends one populated bucket, preceded by the run of empty buckets before it.
func (e *Encoder) visit(value, count int64) bool {
	idx := e.geo.index(value)
	e.raw = appendZeroRun(e.raw, int64(idx-e.next))
	e.raw = appendZigZag(e.raw, count)
	e.next, e.last, e.filled = idx+1, value, true
	return true
}

// finishPayload completes e.raw after the last bucket, fills in the payload length and
// returns the histogram's max.
func (e *Encoder) finishPayload() int64 {
	max := e.geo.highestEquivalent(e.last)
	if !e.filled {
		// As HdrHistogram encodes an empty histogram: its counts up to the index of its
		// max, which is 0, so a single zero count.
		e.raw = appendZigZag(e.raw, 0)
		max = e.geo.highestEquivalent(0)
	}
	binary.BigEndian.PutUint32(e.raw[4:], uint32(len(e.raw)-v2HeaderSize))
	return max
}

// encodeSnapshot is encodeRaw for geometries a PackedHistogram cannot mirror. It allocates.
func (e *Encoder) encodeSnapshot(h *hdrhistogram.Histogram) (int64, error) {
	s := h.Export()
	g := newGeometry(s.LowestTrackableValue, s.HighestTrackableValue, s.SignificantFigures)
	ratio := s.IntegerToDoubleConversionRatio
	if ratio == 0 {
		ratio = 1
	}
	e.raw = e.putHeader(e.raw[:0], s.SignificantFigures, s.LowestTrackableValue, s.HighestTrackableValue, ratio)
	saved := e.geo
	e.geo = g
	defer func() { e.geo = saved }()
	e.next, e.last, e.filled = 0, 0, false
	for i, c := range s.Counts {
		if c > 0 {
			e.visit(g.value(int32(i)), c)
		}
	}
	return e.finishPayload(), nil
}

// putHeader appends the 40-byte uncompressed V2 header with a zero payload length.
func (e *Encoder) putHeader(b []byte, sig, lowest, highest int64, ratio float64) []byte {
	b = binary.BigEndian.AppendUint32(b, v2EncodingCookie)
	b = binary.BigEndian.AppendUint32(b, 0) // payload length, set by finishPayload
	// The normalizing index offset: counts are written in logical index order, unrotated.
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(sig))
	b = binary.BigEndian.AppendUint64(b, uint64(lowest))
	b = binary.BigEndian.AppendUint64(b, uint64(highest))
	return binary.BigEndian.AppendUint64(b, math.Float64bits(ratio))
}

// appendZeroRun appends n empty buckets as HdrHistogram does: a run as its negated length,
// a single empty bucket as the count 0.
func appendZeroRun(b []byte, n int64) []byte {
	switch {
	case n == 1:
		return appendZigZag(b, 0)
	case n > 1:
		return appendZigZag(b, -n)
	}
	return b
}

// appendZigZag appends v in ZigZag LEB128-64b9B: seven bits a byte, low bits first, and a
// ninth byte, if reached, carrying a full eight.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for i := 0; i < 8; i++ {
		if u < 0x80 {
			return append(b, byte(u))
		}
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// geometry is the index arithmetic of an HdrHistogram with the given range and precision,
// as HdrHistogram defines it (the library keeps its own unexported).
type geometry struct {
	lowest, highest, sig int64
	unitMag              uint
	halfMag              uint // log2 of half the sub-bucket count
	halfCount            int32
	mask                 uint64 // sub-bucket mask, shifted by unitMag
}

func newGeometry(lowest, highest, sig int64) geometry {
	// Single-unit resolution up to 2·10^sig, rounded up to a power of two sub-buckets.
	subMag := int(math.Ceil(math.Log2(2 * math.Pow10(int(sig)))))
	halfMag := max(subMag, 1) - 1
	unitMag := 0
	if lowest > 1 {
		unitMag = bits.Len64(uint64(lowest)) - 1
	}
	return geometry{
		lowest: lowest, highest: highest, sig: sig,
		unitMag: uint(unitMag), halfMag: uint(halfMag), halfCount: 1 << halfMag,
		mask: (uint64(2)<<halfMag - 1) << unitMag,
	}
}

// bucket returns v's bucket and sub-bucket.
func (g geometry) bucket(v int64) (int32, int32) {
	b := int32(bits.Len64(uint64(v)|g.mask)) - int32(g.unitMag) - int32(g.halfMag+1)
	return b, int32(uint64(v) >> (uint(b) + g.unitMag))
}

// index returns the flat counts index of v.
func (g geometry) index(v int64) int32 {
	b, sub := g.bucket(v)
	return (b+1)<<g.halfMag + sub - g.halfCount
}

// value returns the lowest value of the bucket at flat index i.
func (g geometry) value(i int32) int64 {
	b := i>>g.halfMag - 1
	sub := i&(g.halfCount-1) + g.halfCount
	if b < 0 {
		sub -= g.halfCount
		b = 0
	}
	return int64(sub) << (uint(b) + g.unitMag)
}

// highestEquivalent returns the highest value counted in the same bucket as v.
func (g geometry) highestEquivalent(v int64) int64 {
	b, sub := g.bucket(v)
	lowestEq := int64(sub) << (uint(b) + g.unitMag)
	if sub >= 2*g.halfCount {
		b++ // as HdrHistogram sizes the range of a value past the top sub-bucket
	}
	return lowestEq + int64(1)<<(uint(b)+g.unitMag) - 1
}

// errBadTag is wrapped by CheckTag's errors.
var errBadTag = errors.New("tag must not contain commas or white space")

// CheckTag reports whether tag can label an interval log line: HdrHistogram's readers end
// the tag at the first comma and split on white space.
func CheckTag(tag string) error {
	if strings.ContainsFunc(tag, func(r rune) bool { return r == ',' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%w: %q", errBadTag, tag)
	}
	return nil
}

// appendIntervalLine appends one interval log line, [Tag=T,]start,length,max,payload and a
// newline, with times in seconds relative to baseMs and the max in milliseconds, each with
// three decimals as HdrHistogram's Java writer prints them. The tag must have passed CheckTag.
func (e *Encoder) appendIntervalLine(dst []byte, tag string, baseMs, startMs, endMs int64, h *hdrhistogram.Histogram) ([]byte, error) {
	if tag != "" {
		dst = append(dst, "Tag="...)
		dst = append(dst, tag...)
		dst = append(dst, ',')
	}
	dst = strconv.AppendFloat(dst, float64(startMs-baseMs)/1000, 'f', 3, 64)
	dst = append(dst, ',')
	dst = strconv.AppendFloat(dst, float64(endMs-startMs)/1000, 'f', 3, 64)
	dst = append(dst, ',')
	max, err := e.encodeRaw(h)
	if err != nil {
		return dst, err
	}
	dst = strconv.AppendFloat(dst, float64(max)/1e6, 'f', 3, 64)
	dst = append(dst, ',')
	dst, err = e.appendCompressed(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, '\n'), nil
}
