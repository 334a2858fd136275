// Package importer owns `tailgate import`: turning latency data other tools wrote
// (HdrHistogram interval logs from any writer, a single base64 histogram, and plain latency
// lists: one value per line, a CSV column, a JSON-lines field) into a result directory every
// command reads. It re-records foreign histograms into tailgate's geometry, groups lists into
// intervals, assembles the fingerprint from a doctor capture and pins, and writes the
// directory atomically. It reads strictly: anything it cannot vouch for (a unit it would have
// to guess, a negative or non-numeric value, time going backwards) is an error naming the
// file and line. The format is described in docs/import.md.
package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Format is an input format.
type Format string

// The input formats.
const (
	HLog      Format = "hlog"      // HdrHistogram V2 interval log
	Histogram Format = "histogram" // one V2 compressed histogram, base64
	Lines     Format = "lines"     // one latency per line
	CSV       Format = "csv"       // a CSV column
	JSONL     Format = "jsonl"     // a JSON-lines field
)

// Formats lists the formats in the order usage text names them.
var Formats = []Format{HLog, Histogram, Lines, CSV, JSONL}

// FormatOf returns the format a file name's extension implies (.hlog, .csv, .jsonl or
// .ndjson, .txt), or "" when it implies none.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".hlog":
		return HLog
	case ".csv":
		return CSV
	case ".jsonl", ".ndjson":
		return JSONL
	case ".txt":
		return Lines
	}
	return ""
}

// Options say what to import and how. Meta carries what the caller knows of the run (suite,
// profile, env, git, tool, tags); Import fills in the rest.
type Options struct {
	Input  string
	Format Format
	Out    string
	// Unit is the unit of values without a suffix; "" requires every value to carry one
	// (lists only: a histogram's values have none).
	Unit Unit
	// Tag selects one tag of an interval log; "" accepts a log with a single tag (or none).
	Tag string
	// Column is the CSV column (header name or 1-based index) or JSON-lines field of the values.
	Column string
	// TimeColumn, when set, is the column or field of each value's timestamp; values are then
	// grouped into intervals of Interval from the first timestamp.
	TimeColumn string
	Interval   time.Duration
	// TimeUnit is the unit of numeric timestamps (default seconds).
	TimeUnit Unit
	// PerInterval groups a list's values into intervals of this many, laid back to back.
	PerInterval int
	// Start is the origin of relative timestamps and of back-to-back intervals. Zero: the
	// log's StartTime header for relative timestamps; for back-to-back intervals the input's
	// modification time minus the sum of its values (the file was written as the run ended).
	Start time.Time
	Meta  result.Meta
}

// Import reads o.Input and writes the result directory o.Out, which must not exist or be
// empty, atomically: a reader sees no directory or a whole result. It returns the meta.json
// written.
func Import(o Options) (*result.Meta, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	src, err := o.source()
	if err != nil {
		return nil, err
	}
	// Pass one checks everything and finds the tags, the time origin and the totals before
	// anything is written; pass two writes, so a 48-hour log never sits in memory.
	var sv survey
	p1, err := o.read(src, func(iv interval) error { return sv.add(iv, o.Tag) })
	if err != nil {
		return nil, err
	}
	if err := sv.check(o, p1); err != nil {
		return nil, err
	}
	origin, err := o.origin(p1, &sv)
	if err != nil {
		return nil, err
	}
	var m *result.Meta
	err = writeDir(o.Out, func(dir string) error {
		var err error
		m, err = o.write(dir, src, origin, p1, &sv)
		return err
	})
	return m, err
}

// check validates the options that do not depend on the input's contents.
func (o *Options) check() error {
	var errs []error
	if err := baseline.ValidateName("suite", o.Meta.Suite); err != nil {
		errs = append(errs, err)
	}
	if o.Out == "" {
		errs = append(errs, errors.New("--out: required"))
	}
	if p := o.Meta.Profile; p != "" && p != "pr" && p != "nightly" {
		errs = append(errs, fmt.Errorf("--profile %q: want pr or nightly", p))
	}
	list := o.Format == Lines || o.Format == CSV || o.Format == JSONL
	switch {
	case !list && (o.Column != "" || o.TimeColumn != "" || o.PerInterval != 0 || o.Interval != 0):
		errs = append(errs, fmt.Errorf("--column, --field, --time-column, --per-interval and --interval apply to lines, csv and jsonl, not %s", o.Format))
	case list && (o.PerInterval > 0) == (o.TimeColumn != ""):
		errs = append(errs, errors.New("a list needs exactly one grouping: --per-interval N (values back to back) or --time-column with --interval"))
	case o.PerInterval < 0:
		errs = append(errs, fmt.Errorf("--per-interval %d: want ≥ 1", o.PerInterval))
	case o.TimeColumn != "" && o.Interval < time.Millisecond:
		errs = append(errs, fmt.Errorf("--interval %v: want ≥ 1ms (the log's time resolution) with --time-column", o.Interval))
	case o.TimeColumn == "" && o.Interval != 0:
		errs = append(errs, errors.New("--interval applies with --time-column"))
	}
	if (o.Format == CSV || o.Format == JSONL) && o.Column == "" {
		errs = append(errs, fmt.Errorf("%s: name the values' column (--column for csv, --field for jsonl)", o.Format))
	}
	if o.Format == Lines && (o.Column != "" || o.TimeColumn != "") {
		errs = append(errs, errors.New("lines: one value per line has no columns"))
	}
	if o.Tag != "" && o.Format != HLog {
		errs = append(errs, fmt.Errorf("--tag applies to hlog, not %s", o.Format))
	}
	if (o.Format == HLog || o.Format == Histogram) && o.Unit == "" {
		errs = append(errs, fmt.Errorf("--unit: required for %s (tailgate's own logs are in ns; HdrHistogram records whatever unit its writer chose)", o.Format))
	}
	// The output must not be, nor hold, nor lie inside an input.
	if err := result.CheckOutput(o.Out, o.Input); err != nil {
		errs = append(errs, fmt.Errorf("--out: %w", err))
	} else if err := result.CheckOutput(o.Input, o.Out); err != nil {
		errs = append(errs, fmt.Errorf("--out %s holds the input %s", o.Out, o.Input))
	}
	return errors.Join(errs...)
}

// source returns the reader of o.Format.
func (o *Options) source() (source, error) {
	ls := &listSource{units: units{flag: o.Unit}, perInterval: o.PerInterval, every: o.Interval, timeUnit: o.TimeUnit}
	if ls.timeUnit == "" {
		ls.timeUnit = Seconds
	}
	switch o.Format {
	case HLog:
		return &hlogSource{rec: newRecorder(o.Unit)}, nil
	case Histogram:
		return &histogramSource{rec: newRecorder(o.Unit)}, nil
	case Lines:
		ls.rows = readLines
	case CSV:
		ls.rows = csvReader(o.Column, o.TimeColumn)
	case JSONL:
		ls.rows = jsonlReader(o.Column, o.TimeColumn)
	default:
		return nil, fmt.Errorf("--format %q: want one of %v", o.Format, Formats)
	}
	return ls, nil
}

// firstPass is what reading the input once tells besides the intervals.
type firstPass struct {
	scanned
	sha256 string
	mtime  time.Time
}

// read scans the input once, refusing anything but a regular file.
func (o *Options) read(src source, fn func(interval) error) (firstPass, error) {
	var p firstPass
	f, err := result.OpenRegular(o.Input)
	if err != nil {
		return p, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return p, err
	}
	h := sha256.New()
	r := io.TeeReader(f, h)
	if p.scanned, err = src.scan(o.Input, r, fn); err != nil {
		return p, err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return p, fmt.Errorf("%s: %w", o.Input, err)
	}
	p.sha256, p.mtime = hex.EncodeToString(h.Sum(nil)), st.ModTime()
	return p, nil
}

// survey is pass one's account of the intervals.
type survey struct {
	tags       []string // in order of appearance
	intervals  int
	samples    int64
	start, end time.Duration // first start and last end of the kept intervals
	short      int           // 1-based index of the first interval under 1ms, 0 if none
}

func (s *survey) add(iv interval, tag string) error {
	if !containsTag(s.tags, iv.tag) {
		s.tags = append(s.tags, iv.tag)
	}
	if tag != "" && iv.tag != tag {
		return nil
	}
	if s.intervals == 0 {
		s.start = iv.start
	}
	s.intervals++
	s.samples += iv.hist.TotalCount()
	s.end = max(s.end, iv.end)
	if s.short == 0 && iv.end-iv.start < time.Millisecond {
		s.short = s.intervals
	}
	return nil
}

func containsTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// check refuses a survey that cannot make a result: several tags without a choice, a chosen
// tag that is not there, no intervals, back-to-back intervals too short for the log's
// millisecond timestamps.
func (s *survey) check(o Options, p firstPass) error {
	names := func() string {
		q := make([]string, len(s.tags))
		for i, t := range s.tags {
			q[i] = fmt.Sprintf("%q", t)
		}
		sort.Strings(q)
		return strings.Join(q, ", ")
	}
	switch {
	case o.Tag == "" && len(s.tags) > 1:
		return fmt.Errorf("%s holds several tags (%s): choose one with --tag", o.Input, names())
	case o.Tag != "" && !containsTag(s.tags, o.Tag):
		return fmt.Errorf("%s has no intervals tagged %q (tags: %s)", o.Input, o.Tag, names())
	case s.intervals == 0:
		return fmt.Errorf("%s: no intervals", o.Input)
	case p.clock == backToBack && s.short > 0 && s.short < s.intervals:
		return fmt.Errorf("%s: interval %d lasts under 1ms, below the interval log's time resolution: group more values (--per-interval)", o.Input, s.short)
	}
	return nil
}

// origin returns the time the input's offsets count from.
func (o *Options) origin(p firstPass, s *survey) (time.Time, error) {
	switch p.clock {
	case absolute:
		if !o.Start.IsZero() {
			return time.Time{}, fmt.Errorf("--start: %s's timestamps are dates already", o.Input)
		}
		return time.Unix(0, 0), nil
	case relative:
		switch {
		case !o.Start.IsZero():
			return o.Start, nil
		case !p.header.IsZero():
			return p.header, nil
		}
		return time.Time{}, fmt.Errorf("%s: timestamps are relative (the first is %v) and nothing says relative to what: give --start", o.Input, s.start)
	}
	if !o.Start.IsZero() {
		return o.Start, nil
	}
	return p.mtime.Add(-s.end), nil
}

// write is pass two: the log, then meta.json, into dir; then dir is read back as every
// command will read it.
func (o *Options) write(dir string, src source, origin time.Time, p1 firstPass, s *survey) (*result.Meta, error) {
	start := origin.Add(s.start)
	w, err := result.CreateLog(filepath.Join(dir, result.LatencyFile), start)
	if err != nil {
		return nil, err
	}
	merged := result.NewHistogram()
	// The intervals are counted as every reader counts them when it checks the log.
	var counter result.LogCounter
	p2, err := o.read(src, func(iv interval) error {
		if o.Tag != "" && iv.tag != o.Tag {
			return nil
		}
		merged.Merge(iv.hist)
		out := result.Interval{Start: origin.Add(iv.start), End: origin.Add(iv.end), Hist: iv.hist}
		counter.AddInterval(out)
		return w.WriteInterval(out)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if p2.sha256 != p1.sha256 {
		return nil, fmt.Errorf("%s changed while it was being imported", o.Input)
	}
	m := o.Meta
	m.Schema = result.SchemaVersion
	m.Start, m.End = start, origin.Add(s.end)
	m.Counts = result.Counts{Samples: merged.TotalCount(), Intervals: counter.Intervals()}
	m.Summary = result.Summarize(merged)
	m.Workload = result.Workload{
		Backend: m.Env.Backend, Threads: m.Env.Threads, CPUs: m.Env.CPUs, Sched: m.Env.Sched,
		Interval: (s.end - s.start) / time.Duration(s.intervals),
	}
	m.Health = result.Health{Healthy: true}
	m.Import = &result.Import{
		Format: string(o.Format), File: filepath.Base(o.Input), SHA256: p1.sha256, Unit: string(p1.unit),
		Tag: o.Tag, Column: o.Column, Source: p1.geometry,
	}
	if m.Import.Tag == "" && len(s.tags) == 1 {
		m.Import.Tag = s.tags[0]
	}
	switch {
	case o.PerInterval > 0:
		m.Import.Grouping = fmt.Sprintf("per %d values", o.PerInterval)
	case o.TimeColumn != "":
		m.Import.Grouping = fmt.Sprintf("by %s every %v", o.TimeColumn, o.Interval)
	}
	if err := result.WriteMeta(dir, &m); err != nil {
		return nil, err
	}
	return &m, verify(dir)
}

// verify reads dir back, streaming, as compare and report will: the log parses and agrees with
// meta.json.
func verify(dir string) error {
	m, err := result.ReadMeta(dir)
	if err != nil {
		return fmt.Errorf("reading back the result: %w", err)
	}
	f, err := result.OpenRegular(filepath.Join(dir, result.LatencyFile))
	if err != nil {
		return err
	}
	defer f.Close()
	var c result.LogCounter
	if _, err := result.ScanLogBuckets(f.Name(), f, func(iv result.IntervalBuckets) error {
		c.Add(iv)
		return nil
	}); err != nil {
		return fmt.Errorf("reading back the result: %w", err)
	}
	return c.Check(dir, m)
}

// writeDir makes dir atomically: fill writes into a fresh folder beside it, which is renamed
// to dir once whole. dir must not exist or be empty.
func writeDir(dir string, fill func(tmp string) error) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("--out %s exists and is not empty", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--out: %w", err)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".import-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // nothing is left to remove after the rename
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	if err := result.SyncDir(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return result.SyncDir(parent)
}
