package result

import (
	"fmt"
	"time"
)

// LogCounter counts what a streamed log holds, to check it against meta.json as Read does: its
// samples, and its intervals. An interval writes one line per tag, one after the other with the
// same start, so a line starts a new interval when its start differs from the line before or
// its tag was seen already at that start. Starts alone would not do: the log keeps them to the
// millisecond, and an interval cut short (a timing thread preempted past its boundary catches
// up with a sub-millisecond interval) shares its start's millisecond with the next one.
type LogCounter struct {
	samples   int64
	intervals int
	start     int64
	tags      map[string]bool
}

// Add counts one interval as ScanLogBuckets reads it and reports whether its line began a new
// interval.
func (c *LogCounter) Add(iv IntervalBuckets) bool { return c.count(iv.Tag, iv.Start, iv.Buckets.Total) }

// AddInterval counts one interval of a log read whole.
func (c *LogCounter) AddInterval(iv Interval) { c.count(iv.Tag, iv.Start, iv.Hist.TotalCount()) }

// count adds one log line and reports whether it began a new interval.
func (c *LogCounter) count(tag string, start time.Time, samples int64) bool {
	c.samples += samples
	ms := start.UnixMilli()
	first := c.tags == nil || ms != c.start || c.tags[tag]
	if first {
		c.intervals++
		c.start, c.tags = ms, map[string]bool{}
	}
	c.tags[tag] = true
	return first
}

// Intervals is how many intervals the counted lines make.
func (c *LogCounter) Intervals() int { return c.intervals }

// Check says whether the counted log agrees with m's counts, naming the result dir as Read does.
func (c *LogCounter) Check(dir string, m *Meta) error {
	if c.samples != m.Counts.Samples {
		return fmt.Errorf("result %s: %s holds %d samples but %s says %d", dir, LatencyFile, c.samples, MetaFile, m.Counts.Samples)
	}
	if c.intervals != m.Counts.Intervals {
		return fmt.Errorf("result %s: %s holds %d intervals but %s says %d", dir, LatencyFile, c.intervals, MetaFile, m.Counts.Intervals)
	}
	return nil
}
