package gate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// Run is one side of a comparison, prepared for evaluation: its meta and its interval
// histograms as a stats.Sample, from which every estimate comes. NewRun builds it from a result
// read into memory, LoadRun streams a result directory; any other caller sets Dir and Meta and
// calls Add per interval.
type Run struct {
	Dir    string
	Meta   *result.Meta
	Sample *stats.Sample
	// Span is the summed length of the intervals, for the sample rate.
	Span time.Duration
	// Maxima holds, per interval in the order added, what extreme-value analysis needs of it (a
	// few dozen bytes instead of a 270 KB histogram).
	Maxima []IntervalMax
	// Tags are the interval tags in the order first seen; IntervalMax.Tag indexes it.
	Tags []string
	// tails holds, per entry of Tags, that tag's intervals merged (see Tail).
	tails []tagTail
}

// tagTail is one tag's intervals merged: streamed intervals as dense counts by bucket index (an
// addition per bucket, where recording into a histogram would add a quarter second to reading a
// 48-hour log), intervals added as histograms merged into one.
type tagTail struct {
	lowest, highest, sigFigs int64
	counts                   []int64
	hist                     *hdrhistogram.Histogram
}

// Tail returns the intervals of tag Tags[i] merged into one new histogram (270 KB, whatever the
// run's length), with the geometry of that tag's first interval: the peaks-over-threshold pWCET
// fits its upper tail.
func (r *Run) Tail(i int) *hdrhistogram.Histogram {
	t := r.tails[i]
	h := hdrhistogram.New(t.lowest, t.highest, int(t.sigFigs))
	if t.hist != nil {
		h.Merge(t.hist)
	}
	b := result.Buckets{Lowest: t.lowest, Highest: t.highest, SigFigs: t.sigFigs}
	for idx, c := range t.counts {
		if c > 0 {
			b.Index, b.Count = append(b.Index, int32(idx)), append(b.Count, c)
		}
	}
	for k, c := range b.Count {
		// Cannot fail: the counts were checked against the geometry as they were added.
		_ = h.RecordValues(b.Value(k), c)
	}
	return h
}

// IntervalMax is one interval reduced to its block maximum: its start, tag, sample count and the
// HdrHistogram bucket its largest value fell in, [MaxLow, Max], with Max as the histogram
// reports it (the top of that bucket). An empty interval has Count 0 and Max 0.
type IntervalMax struct {
	StartMs     int64
	Count       int64
	MaxLow, Max int64
	Tag         int32
}

// NewRun prepares a result read with result.Read.
func NewRun(r *result.Result) (*Run, error) {
	run := &Run{Dir: r.Dir, Meta: r.Meta, Sample: &stats.Sample{}}
	for i, iv := range r.Log.Intervals {
		if err := run.Add(iv); err != nil {
			return nil, fmt.Errorf("result %s: interval %d: %w", r.Dir, i, err)
		}
	}
	return run, nil
}

// LoadRun reads a result directory one interval at a time, keeping only the compact Sample: a
// 48-hour nightly log, gigabytes as dense histograms, fits in tens of megabytes. Each line is
// decoded by result.ScanLogBuckets into reused sparse buckets that go straight into the
// Sample, so no histogram is built per interval (under a second for a 48-hour log). Like
// result.Read it checks the log against meta.json's counts.
func LoadRun(dir string) (*Run, error) { return LoadRunEach(dir, nil) }

// LoadRunEach is LoadRun that also hands each log line, as it is read, to each (when not nil):
// the place to compute per-interval figures of a long run without keeping its histograms. The
// Buckets are reused once each returns; an error from each stops the read.
func LoadRunEach(dir string, each func(result.IntervalBuckets) error) (*Run, error) {
	m, f, err := openResult(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run := &Run{Dir: dir, Meta: m, Sample: &stats.Sample{}}
	if err := run.addLog(dir, m, f, each); err != nil {
		return nil, err
	}
	return run, nil
}

// LoadRunFrom is LoadRun for a result whose meta.json is read already and whose latency.hlog
// is streamed from log (a stored run, read as its bytes are hashed): dir names the result.
func LoadRunFrom(dir string, m *result.Meta, log io.Reader) (*Run, error) {
	run := &Run{Dir: dir, Meta: m, Sample: &stats.Sample{}}
	if err := run.addLog(dir, m, log, nil); err != nil {
		return nil, err
	}
	return run, nil
}

// LoadStored streams a run of a store (baseline.Store.OpenRun, OpenBaseline) into a Run as
// LoadRunFrom does, decoding its log as the store hashes it: the Run is returned only once the
// log matched the store's manifest, and a mismatch is the error (wrapping baseline.ErrIntegrity)
// whatever the decoder made of the bytes. The caller still closes r.
func LoadStored(r *baseline.RunReader) (*Run, error) { return LoadStoredEach(r, nil) }

// LoadStoredEach is LoadStored that also hands each log line to each (when not nil), as
// LoadRunEach does; what each computed must be discarded when it returns an error.
func LoadStoredEach(r *baseline.RunReader, each func(result.IntervalBuckets) error) (*Run, error) {
	run := &Run{Dir: r.Dir, Meta: r.Meta, Sample: &stats.Sample{}}
	if err := r.Scan(func(log io.Reader) error { return run.addLog(r.Dir, r.Meta, log, each) }); err != nil {
		return nil, err
	}
	return run, nil
}

// AddLog appends, after the run's intervals, those of the latency.hlog streamed from log of the
// result in dir whose meta.json is m, and checks the log against m's counts as LoadRun does: a
// pooled baseline is its runs' logs read one after another into one Run. On an error the run
// may hold part of the log.
func (r *Run) AddLog(dir string, m *result.Meta, log io.Reader) error {
	return r.addLog(dir, m, log, nil)
}

// addLog is AddLog that also hands each line to each (when not nil), as LoadRunEach does.
func (r *Run) addLog(dir string, m *result.Meta, log io.Reader, each func(result.IntervalBuckets) error) error {
	return scanLog(dir, m, log, func(iv result.IntervalBuckets) error {
		if err := r.AddBuckets(iv); err != nil || each == nil {
			return err
		}
		return each(iv)
	})
}

// openResult reads the meta.json of the result in dir and opens its latency.hlog.
func openResult(dir string) (*result.Meta, *os.File, error) {
	m, err := result.ReadMeta(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("result %s: %w", dir, err)
	}
	f, err := result.OpenRegular(filepath.Join(dir, result.LatencyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("result %s: %w", dir, err)
	}
	return m, f, nil
}

// scanLog streams the latency.hlog of the result in dir, whose meta.json is m, from log to fn
// line by line, and checks it against m's counts.
func scanLog(dir string, m *result.Meta, log io.Reader, fn func(result.IntervalBuckets) error) error {
	var c result.LogCounter
	add := func(iv result.IntervalBuckets) error {
		c.Add(iv)
		return fn(iv)
	}
	if _, err := result.ScanLogBuckets(filepath.Join(dir, result.LatencyFile), log, add); err != nil {
		return fmt.Errorf("result %s: %w", dir, err)
	}
	return c.Check(dir, m)
}

// LoadPair loads the two sides of a comparison in parallel: decoding a log is most of the work.
// Without baseDir there is no baseline (base is nil). Both sides' errors are reported at once,
// each named "candidate:" or "baseline:".
func LoadPair(baseDir, candDir string) (base, cand *Run, err error) {
	return loadPair(baseDir, candDir, LoadRun)
}

// ReadPair is LoadPair for whole results (their intervals kept, as the report's figures need).
func ReadPair(baseDir, candDir string) (base, cand *result.Result, err error) {
	return loadPair(baseDir, candDir, result.Read)
}

func loadPair[T any](baseDir, candDir string, load func(string) (*T, error)) (base, cand *T, err error) {
	var baseErr error
	var wg sync.WaitGroup
	if baseDir != "" {
		wg.Go(func() { base, baseErr = load(baseDir) })
	}
	cand, candErr := load(candDir)
	wg.Wait()
	var errs []error
	if candErr != nil {
		errs = append(errs, fmt.Errorf("candidate: %w", candErr))
	}
	if baseErr != nil {
		errs = append(errs, fmt.Errorf("baseline: %w", baseErr))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return base, cand, nil
}

// Add appends one interval, in time order.
func (r *Run) Add(iv result.Interval) error {
	if err := r.sample().Add(iv.Hist); err != nil {
		return err
	}
	h := iv.Hist
	tag, tail := r.tail(iv.Tag, h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures())
	if tail.hist == nil {
		tail.hist = hdrhistogram.New(tail.lowest, tail.highest, int(tail.sigFigs))
	}
	if dropped := tail.hist.Merge(h); dropped != 0 {
		return fmt.Errorf("%d samples above the highest trackable value %d", dropped, tail.highest)
	}
	low, top := MaxBucket(h)
	r.Maxima = append(r.Maxima, IntervalMax{StartMs: iv.Start.UnixMilli(), Count: h.TotalCount(), MaxLow: low, Max: top, Tag: tag})
	r.Span += iv.End.Sub(iv.Start)
	return nil
}

// AddBuckets appends one interval as result.ScanLogBuckets reads it, in time order: the
// streaming path, which never builds a histogram per interval.
func (r *Run) AddBuckets(iv result.IntervalBuckets) error {
	b := iv.Buckets
	if err := r.sample().AddBuckets(b); err != nil {
		return err
	}
	tag, tail := r.tail(iv.Tag, b.Lowest, b.Highest, b.SigFigs)
	if n := len(b.Index); n > 0 && int(b.Index[n-1]) >= len(tail.counts) {
		// The Sample checked the indices against the geometry: this is bounded by it.
		tail.counts = append(tail.counts, make([]int64, int(b.Index[n-1])+1-len(tail.counts))...)
	}
	for i, idx := range b.Index {
		tail.counts[idx] += b.Count[i]
	}
	m := IntervalMax{StartMs: iv.Start.UnixMilli(), Count: b.Total, Max: b.Max(), Tag: tag}
	if n := len(b.Index); n > 0 {
		m.MaxLow = b.Value(n - 1)
	}
	r.Maxima = append(r.Maxima, m)
	r.Span += iv.End.Sub(iv.Start)
	return nil
}

// tail returns the index of tag in r.Tags and its merged intervals, creating both with the given
// geometry (the first interval's of that tag, as a merge of the intervals would have it).
func (r *Run) tail(tag string, lowest, highest, sigFigs int64) (int32, *tagTail) {
	for i, t := range r.Tags {
		if t == tag {
			return int32(i), &r.tails[i]
		}
	}
	r.Tags = append(r.Tags, tag)
	r.tails = append(r.tails, tagTail{lowest: lowest, highest: highest, sigFigs: sigFigs})
	return int32(len(r.Tags) - 1), &r.tails[len(r.tails)-1]
}

// MaxBucket is the value range of the bucket holding h's maximum, as IntervalMax records it.
// Buckets are power-of-two wide and aligned, so the lower end is the maximum with its low bits
// cleared, for the widest alignment HdrHistogram still calls equivalent (the library does not
// export the bucket bounds).
func MaxBucket(h *hdrhistogram.Histogram) (low, top int64) {
	top = h.Max()
	low = top
	for s := int64(2); s > 0 && s <= top; s *= 2 {
		c := top &^ (s - 1)
		if !h.ValuesAreEquivalent(c, top) {
			break
		}
		low = c
	}
	return low, top
}

// sample returns r.Sample, creating it for a Run built field by field.
func (r *Run) sample() *stats.Sample {
	if r.Sample == nil {
		r.Sample = &stats.Sample{}
	}
	return r.Sample
}
