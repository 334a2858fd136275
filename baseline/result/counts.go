package result

import "fmt"

// LogCounter counts what a streamed log holds, to check it against meta.json as Read does: its
// samples, and its intervals (an interval writes one line per tag: whole intervals are the
// distinct start times).
type LogCounter struct {
	samples int64
	starts  map[int64]struct{}
}

// Add counts one interval as ScanLogBuckets reads it.
func (c *LogCounter) Add(iv IntervalBuckets) {
	if c.starts == nil {
		c.starts = map[int64]struct{}{}
	}
	c.samples += iv.Buckets.Total
	c.starts[iv.Start.UnixMilli()] = struct{}{}
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
