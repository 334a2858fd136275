package result

import (
	"fmt"
	"time"
)

// LogCounter counts what a streamed log holds, to check it against meta.json as Read does: its
// samples, and its intervals (an interval writes one line per tag: whole intervals are the
// distinct start times).
type LogCounter struct {
	samples int64
	starts  map[int64]struct{}
}

// Add counts one interval as ScanLogBuckets reads it.
func (c *LogCounter) Add(iv IntervalBuckets) { c.count(iv.Start, iv.Buckets.Total) }

// AddInterval counts one interval of a log read whole.
func (c *LogCounter) AddInterval(iv Interval) { c.count(iv.Start, iv.Hist.TotalCount()) }

// count adds one log line: an interval writes one line per class, so whole intervals are the
// distinct start times.
func (c *LogCounter) count(start time.Time, samples int64) {
	if c.starts == nil {
		c.starts = map[int64]struct{}{}
	}
	c.samples += samples
	c.starts[start.UnixMilli()] = struct{}{}
}

// Check says whether the counted log agrees with m's counts, naming the result dir as Read does.
func (c *LogCounter) Check(dir string, m *Meta) error {
	if c.samples != m.Counts.Samples {
		return fmt.Errorf("result %s: %s holds %d samples but %s says %d", dir, LatencyFile, c.samples, MetaFile, m.Counts.Samples)
	}
	if n := len(c.starts); n != m.Counts.Intervals {
		return fmt.Errorf("result %s: %s holds %d intervals but %s says %d", dir, LatencyFile, n, MetaFile, m.Counts.Intervals)
	}
	return nil
}
