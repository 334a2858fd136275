package stats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Sample is one run as the statistics see it: its interval histograms, in time order, reduced
// to a compact sparse form. A 48-hour nightly log holds 17,280 interval histograms of about
// 270 KB each when dense; a Sample keeps only the populated buckets (about two bytes each), so
// a pair of such runs fits in memory and the caller can decode, add and drop one interval at a
// time.
//
// The zero Sample is empty and ready for Add. A Sample is safe for concurrent readers once
// every Add has returned; Add must not run concurrently with anything else.
type Sample struct {
	geom    geometry
	packed  *hdrhistogram.PackedHistogram
	chunks  [][]byte // encoded intervals (see appendEntry), never split across chunks
	loc     []span   // where interval i lives in chunks
	scratch []byte   // the interval being encoded
	idx     []int32  // the populated buckets of the interval being added (AddPacked)
	cnt     []int64
	started bool    // geometry known
	count   []int64 // samples per interval
	sum     []float64
	p50     []float64 // per-interval median, for the block-length choice
	p99     []float64 // per-interval 99th percentile, likewise
	total   int64
	min     int64
	max     int64
	merged  []int64 // dense merged counts, built lazily
	mu      sync.Mutex
	blocks  map[int]*blockSet
	choices map[choiceKey]BlockChoice // BlocksFor, per statistic and point
	fallbck int                       // resamples that fell outside the precomputed window (tests watch it)
}

// NewSample returns a Sample holding the given interval histograms, in order.
func NewSample(hs ...*hdrhistogram.Histogram) (*Sample, error) {
	s := &Sample{}
	var errs []error
	for i, h := range hs {
		if err := s.Add(h); err != nil {
			errs = append(errs, fmt.Errorf("interval %d: %w", i, err))
		}
	}
	return s, errors.Join(errs...)
}

// Add appends one interval histogram. h is only read: the caller may reset and reuse it. Every
// histogram of a Sample must share the first one's lowest discernible value and significant
// figures, so that buckets line up; an empty histogram still counts as an interval (a stall).
func (s *Sample) Add(h *hdrhistogram.Histogram) error {
	if h == nil {
		return errors.New("nil histogram")
	}
	if s.packed == nil || s.packed.LowestTrackableValue() != h.LowestTrackableValue() ||
		s.packed.SignificantFigures() != h.SignificantFigures() || s.packed.HighestTrackableValue() != h.HighestTrackableValue() {
		s.packed = hdrhistogram.NewPacked(h.LowestTrackableValue(), h.HighestTrackableValue(), int(h.SignificantFigures()))
	}
	p := s.packed
	p.Reset()
	if dropped := p.MergeFrom(h); dropped != 0 {
		return fmt.Errorf("%d samples could not be packed (above the highest trackable value %d)", dropped, h.HighestTrackableValue())
	}
	return s.AddPacked(p)
}

// AddPacked appends one interval held as a packed (sparse) histogram, which is what a log
// reader gets from hdrhistogram.DecodePacked without ever building a dense 270 KB histogram.
// It must have the Sample's geometry (see Add).
func (s *Sample) AddPacked(p *hdrhistogram.PackedHistogram) error {
	if p == nil {
		return errors.New("nil histogram")
	}
	if err := s.checkGeometry(p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures(), p.Max()); err != nil {
		return err
	}
	s.idx, s.cnt = s.idx[:0], s.cnt[:0]
	for v, c := range p.ForEachBucket {
		s.idx = append(s.idx, s.geom.index(v)) // v is the bottom of its bucket
		s.cnt = append(s.cnt, c)
	}
	return s.appendInterval(s.idx, s.cnt, p.TotalCount())
}

// AddBuckets appends one interval as result.Decoder and result.ScanLogBuckets hand it over: its
// populated buckets by flat index, straight from the log line, with no histogram built at all.
// This is the cheapest way in; b is only read and may be reused by the caller. It must have the
// Sample's geometry (see Add).
func (s *Sample) AddBuckets(b *result.Buckets) error {
	if b == nil {
		return errors.New("nil histogram")
	}
	if err := s.checkGeometry(b.Lowest, b.Highest, b.SigFigs, b.Max()); err != nil {
		return err
	}
	return s.appendInterval(b.Index, b.Count, b.Total)
}

// checkGeometry sets the Sample's geometry from its first interval and checks later ones
// against it: buckets must line up for intervals to be merged and resampled.
func (s *Sample) checkGeometry(lowest, highest, sigFigs, maxValue int64) error {
	switch {
	case !s.started:
		g, err := newGeometry(lowest, highest, sigFigs)
		if err != nil {
			return err
		}
		s.geom, s.started = g, true
		s.min = math.MaxInt64
	case lowest != s.geom.lowestTrackable || sigFigs != s.geom.sigFigs:
		return fmt.Errorf("histogram geometry (lowest %d, %d significant figures) differs from the sample's (lowest %d, %d)",
			lowest, sigFigs, s.geom.lowestTrackable, s.geom.sigFigs)
	case highest > s.geom.highest && maxValue > s.geom.highest:
		return fmt.Errorf("interval max %d is above the sample's highest trackable value %d", maxValue, s.geom.highest)
	}
	return nil
}

// appendInterval encodes one interval given as its populated buckets (flat indices, increasing;
// counts, positive) with n samples in all, and records its summaries.
func (s *Sample) appendInterval(idxs []int32, cnts []int64, n int64) error {
	if len(idxs) > 0 && int(idxs[len(idxs)-1]) >= s.geom.countsLen {
		// A wire histogram's last bucket can reach past the highest trackable value; the merged
		// counts are sized to it.
		return fmt.Errorf("a count at %d is above the sample's highest trackable value %d", s.geom.lowest(idxs[len(idxs)-1]), s.geom.highest)
	}
	r50, r99 := percentileRank(0.5, n), percentileRank(0.99, n)
	var (
		prev     int32
		cum      int64
		sum      float64
		q50, q99 float64
	)
	for i, idx := range idxs {
		c := cnts[i]
		s.scratch = appendEntry(s.scratch, idx-prev, c)
		prev = idx
		v, sz := s.geom.lowest(idx), s.geom.size(idx)
		sum += float64(c) * float64(v+sz>>1)
		if cum < r50 && cum+c >= r50 {
			q50 = float64(v + sz - 1)
		}
		if cum < r99 && cum+c >= r99 {
			q99 = float64(v + sz - 1)
		}
		cum += c
	}
	s.store()
	s.count = append(s.count, n)
	s.sum = append(s.sum, sum)
	if len(idxs) > 0 {
		s.min = min(s.min, s.geom.lowest(idxs[0]))
		s.max = max(s.max, s.geom.top(idxs[len(idxs)-1]))
	}
	s.p50 = append(s.p50, q50)
	s.p99 = append(s.p99, q99)
	s.total += n
	s.merged = nil
	s.blocks = nil
	return nil
}

// Intervals returns the number of interval histograms added.
func (s *Sample) Intervals() int { return len(s.count) }

// Count returns the number of samples in all intervals.
func (s *Sample) Count() int64 { return s.total }

// Max returns the largest recorded value as HdrHistogram reports it (the top of its bucket), or
// 0 when the sample is empty. It is one sample: gate it only against absolute limits.
func (s *Sample) Max() int64 {
	if s.total == 0 {
		return 0
	}
	return s.max
}

// Min returns the smallest recorded value (the bottom of its bucket), or 0 when empty.
func (s *Sample) Min() int64 {
	if s.total == 0 {
		return 0
	}
	return s.min
}

// Bytes returns the memory the compact intervals take, for capacity planning and benchmarks.
func (s *Sample) Bytes() int {
	n := 12*cap(s.loc) + 8*cap(s.count) + 8*cap(s.sum) + 8*cap(s.p50) + 8*cap(s.p99)
	for _, c := range s.chunks {
		n += cap(c)
	}
	return n
}

// span locates one encoded interval.
type span struct{ chunk, start, end uint32 }

// chunkSize is the size of the blocks encoded intervals are stored in. Chunks rather than one
// growing slice: appending to a 60 MB slice would briefly need 180 MB.
const chunkSize = 1 << 20

// appendEntry encodes one populated bucket: uvarint(count<<1) when it directly follows the
// previous one (delta 1, the common case inside the body of a distribution, one byte for a count
// below 64), else uvarint(count<<1|1) and uvarint(delta).
func appendEntry(b []byte, delta int32, c int64) []byte {
	if delta == 1 {
		return binary.AppendUvarint(b, uint64(c)<<1)
	}
	b = binary.AppendUvarint(b, uint64(c)<<1|1)
	return binary.AppendUvarint(b, uint64(delta))
}

// nextEntry decodes one entry from d: the index delta, the count and the rest of d.
func nextEntry(d []byte) (delta int32, c int64, rest []byte) {
	var v uint64
	if d[0] < 0x80 {
		v, d = uint64(d[0]), d[1:]
	} else {
		var k int
		v, k = binary.Uvarint(d)
		d = d[k:]
	}
	if v&1 == 0 {
		return 1, int64(v >> 1), d
	}
	if d[0] < 0x80 {
		return int32(d[0]), int64(v >> 1), d[1:]
	}
	dl, k := binary.Uvarint(d)
	return int32(dl), int64(v >> 1), d[k:]
}

// store moves the scratch encoding of the interval just added into the chunks.
func (s *Sample) store() {
	n := len(s.scratch)
	last := len(s.chunks) - 1
	if last < 0 || len(s.chunks[last])+n > cap(s.chunks[last]) {
		s.chunks = append(s.chunks, make([]byte, 0, max(chunkSize, n)))
		last++
	}
	c := s.chunks[last]
	start := len(c)
	s.chunks[last] = append(c, s.scratch...)
	s.loc = append(s.loc, span{uint32(last), uint32(start), uint32(start + n)})
	s.scratch = s.scratch[:0]
}

// interval returns the encoding of interval i.
func (s *Sample) interval(i int) []byte {
	l := s.loc[i]
	return s.chunks[l.chunk][l.start:l.end]
}

// forEach calls fn for each populated bucket of interval i, in increasing index order.
func (s *Sample) forEach(i int, fn func(idx int32, c int64)) {
	d := s.interval(i)
	var idx int32
	for len(d) > 0 {
		var delta int32
		var c int64
		delta, c, d = nextEntry(d)
		idx += delta
		fn(idx, c)
	}
}

// mergedCounts returns the dense counts of all intervals merged, indexed like HdrHistogram's.
func (s *Sample) mergedCounts() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.merged != nil {
		return s.merged
	}
	m := make([]int64, s.geom.countsLen)
	for i := range s.count {
		s.forEach(i, func(idx int32, c int64) { m[idx] += c })
	}
	s.merged = m
	return m
}

// geometry is HdrHistogram's bucket layout, reproduced so that a bucket index maps to its value
// range without a dense histogram. The tests check it against the library for every index.
type geometry struct {
	lowestTrackable int64
	highest         int64
	sigFigs         int64
	unit            uint // log2 of the lowest discernible value
	half            uint // log2 of half the sub-bucket count
	countsLen       int
}

func newGeometry(lowest, highest, sigFigs int64) (geometry, error) {
	if sigFigs < 1 || sigFigs > 5 {
		return geometry{}, fmt.Errorf("histogram has %d significant figures, want 1..5", sigFigs)
	}
	g := geometry{lowestTrackable: lowest, highest: highest, sigFigs: sigFigs}
	lo := max(lowest, 1)
	g.unit = uint(bits.Len64(uint64(lo)) - 1)
	subBucketCountMag := uint(math.Ceil(math.Log2(2 * math.Pow10(int(sigFigs)))))
	g.half = subBucketCountMag - 1
	g.countsLen = int(g.index(highest)) + 1
	return g, nil
}

// index returns the flat counts index of v, as HdrHistogram computes it.
func (g geometry) index(v int64) int32 {
	mask := uint64(1)<<(g.half+1) - 1
	mask <<= g.unit
	bucket := bits.Len64(uint64(v)|mask) - 1 - int(g.unit) - int(g.half)
	sub := int64(uint64(v) >> (uint(bucket) + g.unit))
	return int32(int64(bucket+1)<<g.half + sub - int64(1)<<g.half)
}

// lowest returns the smallest value of bucket idx.
func (g geometry) lowest(idx int32) int64 {
	bucket := int(idx>>g.half) - 1
	sub := int64(idx&(1<<g.half-1)) + 1<<g.half
	if bucket < 0 {
		sub -= 1 << g.half
		bucket = 0
	}
	return sub << (uint(bucket) + g.unit)
}

// size returns the width of bucket idx.
func (g geometry) size(idx int32) int64 {
	bucket := max(int(idx>>g.half)-1, 0)
	return int64(1) << (uint(bucket) + g.unit)
}

// top returns the largest value of bucket idx: what ValueAtQuantile reports.
func (g geometry) top(idx int32) int64 { return g.lowest(idx) + g.size(idx) - 1 }

// median returns the middle of bucket idx: what HdrHistogram's Mean weighs counts by.
func (g geometry) median(idx int32) int64 { return g.lowest(idx) + g.size(idx)>>1 }

// dropCaches forgets the merged counts and blocks, so that a benchmark times building them.
func (s *Sample) dropCaches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.merged, s.blocks, s.choices = nil, nil, nil
}
