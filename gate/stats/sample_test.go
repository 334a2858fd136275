package stats

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// decodeBuckets encodes h as a log line carries it and decodes it as the streaming reader does.
func decodeBuckets(t testing.TB, enc *result.Encoder, d *result.Decoder, h *hdrhistogram.Histogram) *result.Buckets {
	t.Helper()
	payload, err := enc.AppendPayload(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleState is everything a Sample keeps per interval and in all, for comparing Samples.
func sampleState(s *Sample) string {
	var chunks []byte
	for _, c := range s.chunks {
		chunks = append(chunks, c...)
	}
	return fmt.Sprintf("geom %+v count %v sum %v p50 %v p99 %v total %d min %d max %d loc %v chunks %x",
		s.geom, s.count, s.sum, s.p50, s.p99, s.total, s.min, s.max, s.loc, chunks)
}

// TestAddPathsAgree builds the same run through Add (dense), AddPacked and AddBuckets (decoded
// from the log encoding): the three Samples must be identical, empty intervals included.
func TestAddPathsAgree(t *testing.T) {
	hs := lognormalIntervals(7, 60, 400, 3e6, 0.6, 1)
	hs[10] = result.NewHistogram() // a stall: an empty interval
	_ = hs[20].RecordValues(result.HighestNs, 3)
	enc, err := result.NewEncoder(result.DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	d := result.NewDecoder()
	var dense, packed, sparse Sample
	for i, h := range hs {
		p := hdrhistogram.NewPacked(result.LowestNs, result.HighestNs, result.SigFigs)
		p.MergeFrom(h)
		for name, err := range map[string]error{
			"Add": dense.Add(h), "AddPacked": packed.AddPacked(p), "AddBuckets": sparse.AddBuckets(decodeBuckets(t, enc, d, h)),
		} {
			if err != nil {
				t.Fatalf("interval %d: %s: %v", i, name, err)
			}
		}
	}
	want := sampleState(&dense)
	if got := sampleState(&packed); got != want {
		t.Errorf("AddPacked:\n%s\nAdd:\n%s", got, want)
	}
	if got := sampleState(&sparse); got != want {
		t.Errorf("AddBuckets:\n%s\nAdd:\n%s", got, want)
	}
	if dense.Count() != 59*400+3 || dense.Max() != hs[20].Max() {
		t.Errorf("count %d max %d", dense.Count(), dense.Max())
	}
	if !slices.Equal(dense.mergedCounts(), sparse.mergedCounts()) {
		t.Error("merged counts differ")
	}
}

// TestAddBucketsRejects: intervals that do not line up with the Sample's first one, or reach
// past its counts, are errors, not panics in the merge later.
func TestAddBucketsRejects(t *testing.T) {
	enc, err := result.NewEncoder(result.DefaultLogCompression)
	if err != nil {
		t.Fatal(err)
	}
	d := result.NewDecoder()
	first := result.NewHistogram()
	_ = first.RecordValue(1000)
	other := hdrhistogram.New(1, result.HighestNs, 2)
	_ = other.RecordValue(1000)
	small := hdrhistogram.New(1, 1000, 3)
	_ = small.RecordValue(900)
	tall := hdrhistogram.New(1, 1<<20, 3)
	_ = tall.RecordValue(1 << 19)
	for _, tc := range []struct {
		name        string
		first, next *hdrhistogram.Histogram
		want        string
	}{
		{"significant figures", first, other, "histogram geometry (lowest 1, 2 significant figures) differs"},
		{"above the highest trackable value", small, tall, "above the sample's highest trackable value 1000"},
		{"nil", first, nil, "nil histogram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Sample
			if err := s.AddBuckets(decodeBuckets(t, enc, d, tc.first)); err != nil {
				t.Fatal(err)
			}
			var b *result.Buckets
			if tc.next != nil {
				b = decodeBuckets(t, enc, d, tc.next)
			}
			if err := s.AddBuckets(b); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			if s.Intervals() != 1 {
				t.Errorf("%d intervals after a rejected one, want 1", s.Intervals())
			}
		})
	}
}

// TestAddBucketsPastCounts: a wire histogram may hold counts in the top bucket beyond its highest
// trackable value, past the merged counts the Sample sizes from that value.
func TestAddBucketsPastCounts(t *testing.T) {
	var s Sample
	g, err := newGeometry(1, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	b := &result.Buckets{Lowest: 1, Highest: 1000, SigFigs: 3, Index: []int32{int32(g.countsLen)}, Count: []int64{1}, Total: 1}
	if err := s.AddBuckets(b); err == nil || !strings.Contains(err.Error(), "above the sample's highest trackable value") {
		t.Fatalf("err = %v", err)
	}
	if s.Count() != 0 || s.Intervals() != 0 {
		t.Fatalf("count %d after a rejected interval", s.Count())
	}
}

// BenchmarkAddBuckets48h is BenchmarkAdd48h for the streaming log reader: intervals decoded by
// result.Decoder into reused Buckets, added without building any histogram.
func BenchmarkAddBuckets48h(b *testing.B) {
	enc, err := result.NewEncoder(result.DefaultLogCompression)
	if err != nil {
		b.Fatal(err)
	}
	var pool []*result.Buckets
	for _, h := range intervalPool(b) {
		bk := *decodeBuckets(b, enc, result.NewDecoder(), h)
		pool = append(pool, &bk)
	}
	benchAdd(b, func(s *Sample, i int) error { return s.AddBuckets(pool[i%len(pool)]) })
}
