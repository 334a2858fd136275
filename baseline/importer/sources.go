package importer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// clock says what an input's times are measured from.
type clock int

const (
	unknownClock clock = iota
	// absolute times are offsets from the Unix epoch.
	absolute
	// relative times are offsets from an origin the data does not hold (the log's StartTime
	// header, else --start).
	relative
	// backToBack inputs hold no times: intervals are laid end to end from --start, each as
	// long as the sum of its samples, as a closed loop spends it.
	backToBack
)

// relativeBelow separates relative from absolute times, as HdrHistogram's log reader does: a
// time less than a year after the epoch is an offset, not a date.
const relativeBelow = 365 * 24 * time.Hour

// interval is one interval of an input, recorded in tailgate's histogram geometry.
type interval struct {
	tag        string
	start, end time.Duration // since the input's clock origin
	hist       *hdrhistogram.Histogram
}

// scanned is what a source learns reading its input besides the intervals.
type scanned struct {
	clock    clock
	header   time.Time // the log's StartTime header, zero if none
	unit     Unit      // the unit the values were in
	geometry string    // the source histogram's geometry when it is not tailgate's
}

// source reads one input format. scan hands each interval to fn, which must not keep its
// histogram; errors name the input and line.
type source interface {
	scan(name string, r io.Reader, fn func(interval) error) (scanned, error)
}

// recorder re-records histograms of any geometry and unit into one reused histogram of
// tailgate's geometry.
type recorder struct {
	unit Unit
	hist *hdrhistogram.Histogram
	geo  string // the first foreign geometry seen
}

func newRecorder(u Unit) *recorder { return &recorder{unit: u, hist: result.NewHistogram()} }

// record replaces r.hist's counts with b's, each bucket's count recorded at the bucket's
// highest equivalent value converted to nanoseconds: the value HdrHistogram reports for a
// quantile falling in that bucket, so quantiles stay within one of tailgate's buckets of the
// source's own. A bucket starting beyond tailgate's range is refused; one straddling its top
// is recorded at the top. The header's integer-to-double conversion ratio is ignored, as
// HdrHistogram's integer histograms ignore it (hdr-histogram-js writes it as the integer 1); a
// DoubleHistogram's payload has its own cookie, which the decoder refuses.
func (r *recorder) record(b *result.Buckets) error {
	f := r.unit.nanos()
	if r.geo == "" && (b.Lowest != result.LowestNs || b.Highest != result.HighestNs || b.SigFigs != result.SigFigs || f != 1) {
		r.geo = fmt.Sprintf("lowest %d, highest %d %s, %d significant digits", b.Lowest, b.Highest, r.unit, b.SigFigs)
	}
	r.hist.Reset()
	for i, c := range b.Count {
		lo, hi := b.Value(i), b.HighestEquivalent(i)
		if lo > result.HighestNs/f {
			return fmt.Errorf("%d values of %d %s or more: %w", c, lo, r.unit, errRange)
		}
		ns := result.HighestNs
		if hi <= result.HighestNs/f {
			ns = min(hi*f, result.HighestNs)
		}
		if err := r.hist.RecordValues(ns, c); err != nil {
			return fmt.Errorf("recording %d ns: %w", ns, err)
		}
	}
	return nil
}

// hlogSource reads HdrHistogram interval logs through result.ScanLogBuckets: any writer's
// tags, StartTime and BaseTime headers, relative or absolute timestamps.
type hlogSource struct{ rec *recorder }

func (s *hlogSource) scan(name string, r io.Reader, fn func(interval) error) (scanned, error) {
	out := scanned{unit: s.rec.unit}
	last := map[string]time.Time{}
	header, err := result.ScanLogBuckets(name, r, func(iv result.IntervalBuckets) error {
		if prev, ok := last[iv.Tag]; ok && iv.Start.Before(prev) {
			return fmt.Errorf("interval starts %v before the previous one%s: timestamps go backwards", prev.Sub(iv.Start), tagged(iv.Tag))
		}
		last[iv.Tag] = iv.Start
		c := absolute
		if iv.Start.Sub(time.Unix(0, 0)) < relativeBelow {
			c = relative
		}
		if out.clock != unknownClock && c != out.clock {
			return fmt.Errorf("the log mixes relative and absolute timestamps")
		}
		out.clock = c
		if err := s.rec.record(iv.Buckets); err != nil {
			return err
		}
		return fn(interval{tag: iv.Tag, start: time.Duration(iv.Start.UnixNano()), end: time.Duration(iv.End.UnixNano()), hist: s.rec.hist})
	})
	out.header, out.geometry = header, s.rec.geo
	return out, err
}

func tagged(tag string) string {
	if tag == "" {
		return ""
	}
	return " tagged " + tag
}

// histogramSource reads one V2 compressed histogram as base64 text (what follows the last
// comma of an interval log line), surrounding white space allowed: one back-to-back interval.
type histogramSource struct{ rec *recorder }

func (s *histogramSource) scan(name string, r io.Reader, fn func(interval) error) (scanned, error) {
	out := scanned{clock: backToBack, unit: s.rec.unit}
	b, err := io.ReadAll(io.LimitReader(r, result.MaxSmallFile+1))
	if err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > result.MaxSmallFile {
		return out, fmt.Errorf("%s: larger than %d MiB, too large for one histogram", name, result.MaxSmallFile>>20)
	}
	payload := bytes.TrimSpace(b)
	off := len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
	lineAt := func(i int) int { return 1 + bytes.Count(b[:i], []byte("\n")) }
	if len(payload) == 0 {
		return out, fmt.Errorf("%s: empty: want one base64 histogram", name)
	}
	if i := bytes.IndexAny(payload, " \t\r\n"); i >= 0 {
		return out, fmt.Errorf("%s:%d: white space inside the base64 histogram (want one histogram on one line)", name, lineAt(off+i))
	}
	bk, err := result.NewDecoder().Decode(payload)
	if err != nil {
		return out, fmt.Errorf("%s:%d: histogram: %w", name, lineAt(off), err)
	}
	if err := s.rec.record(bk); err != nil {
		return out, fmt.Errorf("%s:%d: %w", name, lineAt(off), err)
	}
	out.geometry = s.rec.geo
	h := s.rec.hist
	// The samples' own values are gone: their sum is estimated from the histogram's mean.
	busy := time.Duration(math.Round(h.Mean() * float64(h.TotalCount())))
	return out, fn(interval{end: busy, hist: h})
}
