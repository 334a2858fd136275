package result

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Interval is one interval histogram of a run: latencies recorded between Start and End,
// tagged by phase or input class ("" when untagged).
//
// A device tag (DeviceTag) marks an auxiliary histogram beside an end-to-end one: the
// device-side durations an out-of-process worker reported for the same requests. They are not
// latencies of the run, so ScanLog, ScanLogBuckets and everything built on them skip them;
// ScanDeviceLog reads only them.
type Interval struct {
	Tag   string
	Start time.Time
	End   time.Time
	Hist  *hdrhistogram.Histogram
}

// LogWriter appends interval histograms to an HdrHistogram V2 interval log and fsyncs after
// each one, so a crash loses at most the interval being recorded. Once it has written the
// largest interval of a run, writing allocates nothing (see Encoder), so the harness can log
// with the garbage collector off.
type LogWriter struct {
	f      *os.File
	lw     *hdrhistogram.HistogramLogWriter // writes the headers only
	enc    *Encoder
	baseMs int64
	line   []byte
	tag    string // the last tag that passed CheckTag
}

func newLogWriter(f *os.File, baseMs int64) (*LogWriter, error) {
	enc, err := NewEncoder(DefaultLogCompression)
	if err != nil {
		return nil, err
	}
	lw := hdrhistogram.NewHistogramLogWriter(f)
	lw.SetBaseTime(baseMs)
	return &LogWriter{f: f, lw: lw, enc: enc, baseMs: baseMs}, nil
}

// CreateLog creates path (failing if it exists) and writes the log header. Timestamps in the
// log are relative to start, which is recorded as its StartTime and BaseTime.
func CreateLog(path string, start time.Time) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	ms := start.UnixMilli()
	w, err := newLogWriter(f, ms)
	if err != nil {
		f.Close()
		return nil, err
	}
	hdr := []func() error{
		func() error { return w.lw.OutputComment("[Logged with tailgate]") },
		w.lw.OutputLogFormatVersion,
		// hdrhistogram-go writes these two headers in whole seconds while interval timestamps
		// are relative to the millisecond base, which would shift every interval by up to a
		// second on read; write them with milliseconds, as HdrHistogram's Java writer does.
		func() error {
			_, err := fmt.Fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", float64(ms)/1000, start.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
			return err
		},
		func() error {
			_, err := fmt.Fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", float64(ms)/1000)
			return err
		},
		w.lw.OutputLegend,
	}
	for _, fn := range hdr {
		if err := fn(); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: writing header: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return w, SyncDir(filepath.Dir(path))
}

// AppendLog opens an existing log for appending (used when a run resumes).
func AppendLog(path string, start time.Time) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	w, err := newLogWriter(f, start.UnixMilli())
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// WriteInterval appends one interval, [Tag=T,]start,length,max,payload, in a single write and
// fsyncs. Times are taken from iv at millisecond resolution, relative to the log's start;
// iv.Hist is only read. The name is the harness's Sink's: a LogWriter takes a run's intervals
// straight from the harness.
func (w *LogWriter) WriteInterval(iv Interval) error {
	if iv.Tag != w.tag {
		if err := CheckTag(iv.Tag); err != nil {
			return fmt.Errorf("%s: %w", w.f.Name(), err)
		}
		w.tag = iv.Tag
	}
	startMs, endMs := iv.Start.UnixMilli(), iv.End.UnixMilli()
	// Readers, this package's included, reject negative times: fail now rather than
	// leave a log nobody can read.
	if startMs < w.baseMs {
		return fmt.Errorf("%s: interval starts at %s, before the log's start %s", w.f.Name(),
			iv.Start.UTC().Format(time.RFC3339Nano), time.UnixMilli(w.baseMs).UTC().Format(time.RFC3339Nano))
	}
	if endMs < startMs {
		return fmt.Errorf("%s: interval ends (%s) before it starts (%s)", w.f.Name(),
			iv.End.UTC().Format(time.RFC3339Nano), iv.Start.UTC().Format(time.RFC3339Nano))
	}
	line, err := w.enc.appendIntervalLine(w.line[:0], iv.Tag, w.baseMs, startMs, endMs, iv.Hist)
	w.line = line
	if err != nil {
		return fmt.Errorf("%s: %w", w.f.Name(), err)
	}
	if _, err := w.f.Write(line); err != nil {
		return err // *PathError, naming the file
	}
	return w.f.Sync()
}

// Close closes the log file.
func (w *LogWriter) Close() error { return w.f.Close() }

// Log is a parsed interval log.
type Log struct {
	Start     time.Time // from the StartTime header, zero if absent
	Intervals []Interval
}

// ReadLog reads and strictly parses an interval log file.
func ReadLog(path string) (*Log, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseLog(path, f)
}

// ParseLog parses an HdrHistogram interval log. Unlike the library's reader it rejects, with
// the file name and line number, any line it cannot read: a corrupt log must not shrink into a
// smaller, passing one. name is used in errors.
func ParseLog(name string, r io.Reader) (*Log, error) {
	log := &Log{}
	start, err := ScanLog(name, r, func(iv Interval) error {
		log.Intervals = append(log.Intervals, iv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	log.Start = start
	return log, nil
}

// ScanLog parses an interval log as strictly as ParseLog but hands each interval to fn as it
// is read instead of keeping it, so a 48-hour log (17,280 dense histograms, gigabytes) can be
// reduced one interval at a time. It returns the StartTime header (zero if absent). An error
// from fn stops the scan and is returned with the file name and line. ScanLogBuckets reads the
// same lines several times faster when the caller does not need dense histograms.
func ScanLog(name string, r io.Reader, fn func(Interval) error) (time.Time, error) {
	return scanIntervals(name, r, false, fn)
}

// ScanDeviceLog reads the device-tagged intervals of a log, and only them, as ScanLog reads the
// others: a worker's own device-side durations, tagged DeviceTag(class).
func ScanDeviceLog(name string, r io.Reader, fn func(Interval) error) (time.Time, error) {
	return scanIntervals(name, r, true, fn)
}

func scanIntervals(name string, r io.Reader, device bool, fn func(Interval) error) (time.Time, error) {
	return scanLines(name, r, device, func(l logLine) error {
		h, err := decodeHist(l.payload)
		if err != nil {
			return fmt.Errorf("histogram payload: %w", err)
		}
		h.SetStartTimeMs(l.startMs)
		h.SetEndTimeMs(l.endMs)
		h.SetTag(l.tag)
		return fn(Interval{Tag: l.tag, Start: time.UnixMilli(l.startMs), End: time.UnixMilli(l.endMs), Hist: h})
	})
}

// IntervalBuckets is one interval as ScanLogBuckets hands it over: its tag and times, and its
// histogram as sparse Buckets that are only valid until the callback returns.
type IntervalBuckets struct {
	Tag        string
	Start, End time.Time
	Buckets    *Buckets
}

// ScanLogBuckets reads an interval log as ScanLog does, accepting and rejecting the same
// lines, but decodes each histogram with one reused Decoder into reused Buckets instead of a
// fresh dense histogram: reading a 48-hour log allocates a few kilobytes instead of gigabytes.
// fn must not keep iv.Buckets.
func ScanLogBuckets(name string, r io.Reader, fn func(iv IntervalBuckets) error) (time.Time, error) {
	d := NewDecoder()
	return scanLines(name, r, false, func(l logLine) error {
		b, err := d.Decode(l.payload)
		if err != nil {
			return fmt.Errorf("histogram payload: %w", err)
		}
		return fn(IntervalBuckets{Tag: l.tag, Start: time.UnixMilli(l.startMs), End: time.UnixMilli(l.endMs), Buckets: b})
	})
}

// logLine is an interval line with its times resolved against the log's base time. payload
// is only valid during the callback.
type logLine struct {
	tag            string
	startMs, endMs int64
	payload        []byte
}

// DeviceTag is the tag of the device-side histogram beside the end-to-end one of class (whose
// tag is "" in a log of one class).
func DeviceTag(class string) string {
	if class == "" {
		return deviceTag
	}
	return deviceTag + "." + class
}

// IsDeviceTag reports whether tag is one DeviceTag makes.
func IsDeviceTag(tag string) bool {
	return tag == deviceTag || strings.HasPrefix(tag, deviceTag+".")
}

const deviceTag = "device"

// scanLines reads the headers and interval lines of a log, handing each interval line whose
// tag is a device tag (device) or is not (!device) to fn, and returns the StartTime header.
func scanLines(name string, r io.Reader, device bool, fn func(logLine) error) (time.Time, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	var start time.Time
	var startSec, baseSec float64
	var haveBase bool
	var lastTag string // reused while the tag repeats, as it does line after line
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			if v, ok := headerValue(line, "#[StartTime: "); ok {
				startSec = v
				start = time.UnixMilli(int64(math.Round(v * 1000)))
			} else if v, ok := headerValue(line, "#[BaseTime: "); ok {
				baseSec, haveBase = v, true
			}
			continue
		}
		if bytes.HasPrefix(line, []byte(`"StartTimestamp"`)) {
			continue // the legend
		}
		iv, err := parseIntervalLine(line, lastTag)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		lastTag = iv.tag
		if !haveBase {
			// Same rule as HdrHistogram's reader: timestamps more than a year before the start
			// time are relative to it.
			if iv.startSec < startSec-365*24*3600 {
				baseSec = startSec
			}
			haveBase = true
		}
		startMs := int64(math.Round((baseSec + iv.startSec) * 1000))
		endMs := startMs + int64(math.Round(iv.lengthSec*1000))
		if IsDeviceTag(iv.tag) != device {
			continue
		}
		if err := fn(logLine{tag: iv.tag, startMs: startMs, endMs: endMs, payload: iv.payload}); err != nil {
			return time.Time{}, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return time.Time{}, fmt.Errorf("%s:%d: %w", name, lineNo+1, err)
	}
	return start, nil
}

type parsedInterval struct {
	tag                 string
	startSec, lengthSec float64
	payload             []byte
}

// parseIntervalLine splits [Tag=T,]start,length,max,payload and checks the numbers; prevTag is
// returned as the tag when the line's is the same, so a tagged log does not allocate one per
// line.
func parseIntervalLine(line []byte, prevTag string) (parsedInterval, error) {
	var p parsedInterval
	if rest, ok := bytes.CutPrefix(line, []byte("Tag=")); ok {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			return p, fmt.Errorf("tag without an interval")
		}
		if string(rest[:i]) == prevTag {
			p.tag = prevTag
		} else {
			p.tag = string(rest[:i])
		}
		line = rest[i+1:]
	}
	var f [4][]byte
	n := 0
	for ; n < 3; n++ {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			break
		}
		f[n], line = line[:i], line[i+1:]
	}
	f[n] = line
	if n != 3 {
		return p, fmt.Errorf("interval line has %d fields, want 4 (start,length,max,payload)", n+1)
	}
	var err error
	if p.startSec, err = parseNonNeg(f[0]); err != nil {
		return p, fmt.Errorf("start timestamp %q: %w", f[0], err)
	}
	if p.lengthSec, err = parseNonNeg(f[1]); err != nil {
		return p, fmt.Errorf("interval length %q: %w", f[1], err)
	}
	if _, err = parseNonNeg(f[2]); err != nil {
		return p, fmt.Errorf("interval max %q: %w", f[2], err)
	}
	p.payload = f[3]
	return p, nil
}

// decodeHist decodes a payload, turning a decoder panic on hostile input into an error.
func decodeHist(payload []byte) (h *hdrhistogram.Histogram, err error) {
	defer func() {
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("corrupt payload: %v", r)
		}
	}()
	h, err = hdrhistogram.Decode(payload)
	if err == nil && h == nil {
		err = fmt.Errorf("empty payload")
	}
	return h, err
}

func parseNonNeg(b []byte) (float64, error) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, err
	}
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("must be a finite number ≥ 0")
	}
	return v, nil
}

func headerValue(line []byte, prefix string) (float64, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(prefix))
	if !ok {
		return 0, false
	}
	end := bytes.IndexAny(rest, " ,]")
	if end < 0 {
		end = len(rest)
	}
	v, err := strconv.ParseFloat(string(rest[:end]), 64)
	return v, err == nil
}
