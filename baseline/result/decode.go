package result

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Buckets is one histogram as Decoder hands it over: its geometry and its populated buckets,
// without the dense counts array (270 KB at tailgate's geometry) hdrhistogram.Decode builds.
// Index holds HdrHistogram flat counts indices in increasing order (the same indices a dense
// Histogram of this geometry uses) and Count the matching counts, all positive.
type Buckets struct {
	Lowest  int64 // lowest discernible value, ≥ 1 (0 on the wire is read as 1, as the library does)
	Highest int64 // highest trackable value
	SigFigs int64 // significant value digits, 0..5
	Index   []int32
	Count   []int64
	Total   int64 // sum of Count

	geo geometry // of the fields above, when the Decoder set them
}

// geometry returns b's index arithmetic, which Decode sets; Buckets built by hand get it here.
func (b *Buckets) geometry() geometry {
	if b.geo.halfCount == 0 || b.geo.lowest != b.Lowest || b.geo.highest != b.Highest || b.geo.sig != b.SigFigs {
		return newGeometry(b.Lowest, b.Highest, b.SigFigs)
	}
	return b.geo
}

// Max returns the histogram's max as hdrhistogram reports it: the highest value equivalent to
// the top populated bucket, or that of 0 when the histogram is empty.
func (b *Buckets) Max() int64 {
	g := b.geometry()
	if len(b.Index) == 0 {
		return g.highestEquivalent(0)
	}
	return g.highestEquivalent(g.value(b.Index[len(b.Index)-1]))
}

// Value returns the lowest value counted in bucket i (of Index).
func (b *Buckets) Value(i int) int64 { return b.geometry().value(b.Index[i]) }

// HighestEquivalent returns the highest value counted in bucket i (of Index), the value
// HdrHistogram reports for a quantile that falls in it.
func (b *Buckets) HighestEquivalent(i int) int64 {
	g := b.geometry()
	return g.highestEquivalent(g.value(b.Index[i]))
}

// Decoder decodes HdrHistogram V2 compressed payloads (base64 text, as an interval log line
// carries after its last comma) into Buckets. It keeps everything between payloads: the base64
// buffer, one zlib reader (reset, not rebuilt), a fixed read buffer the counts are decoded from
// as they inflate, and the Buckets it returns. Reading a 48-hour log this way allocates almost
// nothing per line, where hdrhistogram.Decode allocates a fresh zlib reader and a dense counts
// array for each.
//
// It accepts what hdrhistogram.Decode accepts and rejects what it rejects, so a log reads the
// same through ScanLog and ScanLogBuckets; hostile input gets an error, never a panic, and
// memory bounded by the payload's declared geometry. A Decoder is not safe for concurrent use.
type Decoder struct {
	raw   []byte // base64-decoded payload
	src   bytes.Reader
	zr    io.ReadCloser // also a zlib.Resetter; nil until the first well-formed stream
	hdr   [v2HeaderSize]byte
	chunk []byte
	out   Buckets
}

// decodeChunk is the size of the buffer counts are decoded from: large enough that a typical
// interval (a few hundred to a few thousand bytes inflated) takes one read.
const decodeChunk = 16 << 10

// maxVarint is the longest ZigZag LEB128-64b9B encoding.
const maxVarint = 9

// NewDecoder returns a Decoder.
func NewDecoder() *Decoder { return &Decoder{chunk: make([]byte, decodeChunk)} }

// Decode decodes one V2 compressed payload. The returned Buckets belong to d and are
// overwritten by the next call.
func (d *Decoder) Decode(payload []byte) (*Buckets, error) {
	if d.chunk == nil {
		d.chunk = make([]byte, decodeChunk)
	}
	b := &d.out
	b.Index, b.Count, b.Total = b.Index[:0], b.Count[:0], 0
	if n := base64.StdEncoding.DecodedLen(len(payload)); cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:cap(d.raw)], payload)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	raw := d.raw[:n]
	if len(raw) < 8 {
		return nil, fmt.Errorf("encoded histogram is %d bytes, shorter than its 8-byte header", len(raw))
	}
	if c := binary.BigEndian.Uint32(raw) &^ 0xf0; c != v2CompressedEncodingCookie&^0xf0 {
		return nil, fmt.Errorf("cookie %#08x is not HdrHistogram's V2 compressed encoding (%#08x)", c, v2CompressedEncodingCookie&^0xf0)
	}
	clen := int32(binary.BigEndian.Uint32(raw[4:]))
	if clen < 0 || int(clen) > len(raw)-8 {
		return nil, fmt.Errorf("compressed length %d does not fit the %d bytes that follow the header", clen, len(raw)-8)
	}
	// Bytes after the compressed contents are ignored, as hdrhistogram.Decode ignores them.
	d.src.Reset(raw[8 : 8+clen])
	if d.zr == nil {
		if d.zr, err = zlib.NewReader(&d.src); err != nil {
			d.zr = nil
			return nil, fmt.Errorf("zlib: %w", err)
		}
	} else if err := d.zr.(zlib.Resetter).Reset(&d.src, nil); err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if _, err := io.ReadFull(d.zr, d.hdr[:]); err != nil {
		return nil, fmt.Errorf("inflating the %d-byte header: %w", v2HeaderSize, noEOF(err))
	}
	payloadLen, err := b.header(d.hdr[:])
	if err != nil {
		return nil, err
	}
	if err := d.counts(payloadLen); err != nil {
		return nil, err
	}
	return b, nil
}

// header checks the uncompressed header, sets b's geometry and returns the payload length.
func (b *Buckets) header(h []byte) (int64, error) {
	if c := binary.BigEndian.Uint32(h) &^ 0xf0; c != v2EncodingCookie&^0xf0 {
		return 0, fmt.Errorf("inner cookie %#08x is not HdrHistogram's V2 encoding (%#08x)", c, v2EncodingCookie&^0xf0)
	}
	payloadLen := int64(int32(binary.BigEndian.Uint32(h[4:])))
	// h[8:12], the normalizing index offset, is ignored as the library ignores it: writers
	// serialize counts in logical index order whatever their in-memory rotation.
	sig := int64(int32(binary.BigEndian.Uint32(h[12:])))
	lowest := int64(binary.BigEndian.Uint64(h[16:]))
	highest := int64(binary.BigEndian.Uint64(h[24:]))
	var errs []error
	if payloadLen < 0 {
		errs = append(errs, fmt.Errorf("negative payload length %d", payloadLen))
	}
	if sig < 0 || sig > 5 {
		errs = append(errs, fmt.Errorf("%d significant digits, want 0..5", sig))
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	lowest = max(lowest, 1)
	g := newGeometry(lowest, highest, sig)
	if g.unitMag+g.halfMag > 61 {
		return 0, fmt.Errorf("lowest discernible value %d is too large for %d significant digits", lowest, sig)
	}
	countsLen := g.countsLen()
	// Each count index takes at most one varint: a longer payload is corrupt, and refusing it
	// here bounds what inflating it can cost.
	if payloadLen > countsLen*maxVarint {
		return 0, fmt.Errorf("payload length %d exceeds %d, the most %d counts can take", payloadLen, countsLen*maxVarint, countsLen)
	}
	b.Lowest, b.Highest, b.SigFigs, b.geo = lowest, highest, sig, g
	return payloadLen, nil
}

// counts inflates payloadLen bytes of ZigZag LEB128 counts a chunk at a time into d.out,
// checking every index against the geometry, then checks the stream ends there (which also
// verifies its checksum).
func (d *Decoder) counts(payloadLen int64) error {
	b := &d.out
	countsLen := b.geo.countsLen()
	buf := d.chunk
	left := payloadLen // bytes still to inflate
	var have, pos int  // buf[pos:have] is inflated and not yet decoded
	var idx int64      // next flat index
	for left > 0 || pos < have {
		if have-pos < maxVarint && left > 0 {
			have = copy(buf, buf[pos:have])
			pos = 0
			want := int(min(int64(len(buf)-have), left))
			got, err := io.ReadFull(d.zr, buf[have:have+want])
			if err != nil {
				return fmt.Errorf("payload is %d bytes, shorter than its declared %d: %w", payloadLen-left+int64(got), payloadLen, noEOF(err))
			}
			have += got
			left -= int64(got)
		}
		v, k := zigZag(buf[pos:have])
		if k == 0 {
			return fmt.Errorf("payload ends inside a count at byte %d", payloadLen-int64(have-pos))
		}
		pos += k
		switch {
		case v < 0:
			zeros := -v // a run of empty buckets
			if zeros <= 0 || zeros > countsLen-idx {
				return fmt.Errorf("run of %d empty buckets at index %d overflows the %d buckets of the geometry", uint64(zeros), idx, countsLen)
			}
			idx += zeros
		case idx >= countsLen:
			return fmt.Errorf("count at index %d is past the %d buckets of the geometry", idx, countsLen)
		case v > 0:
			if v > math.MaxInt64-b.Total {
				return fmt.Errorf("counts sum past the largest 64-bit integer at index %d", idx)
			}
			b.Total += v
			b.Index = append(b.Index, int32(idx))
			b.Count = append(b.Count, v)
			idx++
		default:
			idx++ // a single empty bucket
		}
	}
	var one [1]byte
	for {
		n, err := d.zr.Read(one[:])
		if n > 0 {
			return fmt.Errorf("inflated data continues past the declared payload length %d", payloadLen)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("inflating the payload: %w", err)
		}
	}
}

// noEOF turns the EOF of a short read into io.ErrUnexpectedEOF: a truncated stream is corrupt.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// zigZag decodes one ZigZag LEB128-64b9B value (seven bits a byte, low first, the ninth byte
// carrying a full eight) and returns it with its length, or k = 0 when b ends inside it.
func zigZag(b []byte) (v int64, k int) {
	if len(b) > 0 && b[0] < 0x80 { // most counts: one byte
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), 1
	}
	var u uint64
	for i := 0; i < maxVarint; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		if i == maxVarint-1 {
			u |= uint64(c) << 56
			k = maxVarint
			break
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			k = i + 1
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), k
}

// countsLen returns the length of a dense counts array of g, as HdrHistogram sizes it: whole
// buckets up to the one holding the highest trackable value.
func (g geometry) countsLen() int64 {
	subCount := int64(2) << g.halfMag
	untrackable := subCount << g.unitMag
	buckets := int64(1)
	for untrackable <= g.highest {
		if untrackable > math.MaxInt64/2 {
			buckets++
			break
		}
		untrackable <<= 1
		buckets++
	}
	return (buckets + 1) * (subCount / 2)
}
