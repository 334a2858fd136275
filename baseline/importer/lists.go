package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// field is one value of a list as its reader found it: the text, and the line it is on.
type field struct {
	text string
	line int
}

// rowReader reads the rows of one list format: each row's latency and, when a time column is
// set, its timestamp. fn's errors are returned as they are; the reader's own name name:line.
type rowReader func(name string, r io.Reader, fn func(value, at field, timed bool) error) error

// listSource reads latency lists: a rowReader's values grouped into intervals by count or by
// their timestamps.
type listSource struct {
	rows        rowReader
	units       units
	perInterval int           // values per interval, when grouping by count
	every       time.Duration // interval length, when grouping by timestamp
	timeUnit    Unit          // unit of numeric timestamps
}

func (s *listSource) scan(name string, r io.Reader, fn func(interval) error) (scanned, error) {
	s.units.firstLine, s.units.suffix = 0, ""
	g := &grouper{hist: result.NewHistogram(), emit: fn, perInterval: s.perInterval, every: s.every}
	ts := &timestamps{unit: s.timeUnit}
	err := s.rows(name, r, func(value, at field, timed bool) error {
		ns, err := s.units.parseLatency(value.text, value.line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, value.line, err)
		}
		if !timed {
			return g.add(ns, 0)
		}
		t, err := ts.parse(at.text, at.line)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, at.line, err)
		}
		return g.add(ns, t)
	})
	if err == nil {
		err = g.flush()
	}
	if err == nil && g.samples == 0 {
		err = fmt.Errorf("%s: no latency values", name)
	}
	out := scanned{clock: backToBack, unit: s.units.used()}
	if s.every > 0 {
		out.clock = ts.clock
	}
	return out, err
}

// grouper cuts a stream of samples into intervals: every perInterval samples, laid back to
// back (each as long as its samples' sum), or into slots of length every from the first
// timestamp. Slots without samples are left out.
type grouper struct {
	hist        *hdrhistogram.Histogram
	emit        func(interval) error
	perInterval int
	every       time.Duration

	samples    int64
	n          int           // samples in the open interval
	start, end time.Duration // the open interval's span
	origin     time.Duration // first timestamp
	slot       int64         // the open slot's index
}

func (g *grouper) add(ns int64, at time.Duration) error {
	if g.every > 0 {
		if g.samples == 0 {
			g.origin = at
		}
		slot := int64((at - g.origin) / g.every)
		if g.n > 0 && slot != g.slot {
			if err := g.flush(); err != nil {
				return err
			}
		}
		g.slot = slot
		g.start = g.origin + time.Duration(slot)*g.every
		g.end = g.start + g.every
	} else {
		if g.n == g.perInterval {
			if err := g.flush(); err != nil {
				return err
			}
		}
		g.end += time.Duration(ns)
	}
	if err := g.hist.RecordValue(ns); err != nil {
		return fmt.Errorf("recording %d ns: %w", ns, err)
	}
	g.n++
	g.samples++
	return nil
}

// flush hands over the open interval, if it holds samples.
func (g *grouper) flush() error {
	if g.n == 0 {
		return nil
	}
	err := g.emit(interval{start: g.start, end: g.end, hist: g.hist})
	g.hist.Reset()
	g.n = 0
	g.start = g.end
	return err
}

// timestamps parses a list's timestamps: RFC 3339 dates, or numbers in unit (absolute when a
// year or more after the epoch, else relative). It refuses a mix of kinds and a timestamp
// before the previous one.
type timestamps struct {
	unit      Unit
	clock     clock
	rfc3339   bool
	last      time.Duration
	lastLine  int
	firstLine int
}

func (p *timestamps) parse(s string, line int) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var t time.Duration
	var c clock
	rfc := false
	if n := numberLen(s); n > 0 && n == len(s) {
		v, err := strconv.ParseFloat(s, 64)
		ns := v * float64(p.unit.nanos())
		if err != nil || ns >= math.MaxInt64 {
			return 0, fmt.Errorf("timestamp %q is out of range", s)
		}
		t, c = time.Duration(math.Round(ns)), absolute
		if t < relativeBelow {
			c = relative
		}
	} else if d, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if d.Before(time.Unix(0, 0)) || d.After(time.Unix(0, math.MaxInt64)) {
			return 0, fmt.Errorf("timestamp %q is out of range", s)
		}
		t, c, rfc = time.Duration(d.UnixNano()), absolute, true
	} else if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative timestamp %q", s)
	} else {
		return 0, fmt.Errorf("timestamp %q is neither a number (of %s) nor an RFC 3339 date", s, p.unit)
	}
	if p.firstLine == 0 {
		p.firstLine, p.clock, p.rfc3339 = line, c, rfc
	} else if c != p.clock || rfc != p.rfc3339 {
		return 0, fmt.Errorf("timestamp %q is not of the kind of line %d's (RFC 3339, absolute or relative numbers): mixed timestamps", s, p.firstLine)
	} else if t < p.last {
		return 0, fmt.Errorf("timestamp %q is before line %d's: timestamps must not go backwards", s, p.lastLine)
	}
	p.last, p.lastLine = t, line
	return t, nil
}

// readLines reads one value per line; blank lines and lines starting with # are skipped.
func readLines(name string, r io.Reader, fn func(value, at field, timed bool) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if err := fn(field{s, n}, field{}, false); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return nil
}

// column names a CSV column: by its header name, or by 1-based index.
type column struct {
	name  string
	index int // 1-based; 0 when named
}

func parseColumn(s string) column {
	if i, err := strconv.Atoi(s); err == nil && i > 0 && strconv.Itoa(i) == s {
		return column{index: i}
	}
	return column{name: s}
}

// csvReader reads a CSV column of values (and optionally one of timestamps). A header row is
// expected when either column is named; every row must have the header's (or first row's)
// number of fields.
func csvReader(value, at string) rowReader {
	return func(name string, r io.Reader, fn func(value, at field, timed bool) error) error {
		cr := csv.NewReader(r)
		cr.ReuseRecord = true
		cr.TrimLeadingSpace = true
		cols := []column{parseColumn(value)}
		if at != "" {
			cols = append(cols, parseColumn(at))
		}
		header := false
		for _, c := range cols {
			header = header || c.name != ""
		}
		idx := make([]int, len(cols)) // 0-based field indices, once known
		for row := 0; ; row++ {
			rec, err := cr.Read()
			if err == io.EOF {
				if row == 0 {
					return fmt.Errorf("%s: empty CSV", name)
				}
				return nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if row == 0 {
				if err := resolveColumns(name, rec, cols, idx); err != nil {
					return err
				}
				if header {
					continue
				}
			}
			line, _ := cr.FieldPos(idx[0])
			v := field{rec[idx[0]], line}
			var t field
			if len(idx) > 1 {
				tl, _ := cr.FieldPos(idx[1])
				t = field{rec[idx[1]], tl}
			}
			if err := fn(v, t, len(idx) > 1); err != nil {
				return err
			}
		}
	}
}

// resolveColumns finds cols among the first row's fields: named ones in it as a header.
func resolveColumns(name string, rec []string, cols []column, idx []int) error {
	for i, c := range cols {
		if c.name == "" && c.index == 0 {
			return fmt.Errorf("%s: no column given", name)
		}
		if c.name == "" {
			if c.index > len(rec) {
				return fmt.Errorf("%s:1: column %d: the rows have %d fields", name, c.index, len(rec))
			}
			idx[i] = c.index - 1
			continue
		}
		idx[i] = -1
		for j, h := range rec {
			if strings.TrimSpace(h) != c.name {
				continue
			}
			if idx[i] >= 0 {
				return fmt.Errorf("%s:1: column %q appears twice in the header", name, c.name)
			}
			idx[i] = j
		}
		if idx[i] < 0 {
			return fmt.Errorf("%s:1: no column %q in the header %q", name, c.name, strings.Join(rec, ","))
		}
	}
	return nil
}

// jsonlReader reads a field of values (and optionally one of timestamps) from JSON lines: one
// object per line, the field a number or a string (a value may carry a unit suffix there,
// "1.5ms"). Blank lines are skipped.
func jsonlReader(value, at string) rowReader {
	return func(name string, r io.Reader, fn func(value, at field, timed bool) error) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 16<<20)
		n := 0
		var obj map[string]json.RawMessage
		for sc.Scan() {
			n++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			clear(obj)
			if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
				return fmt.Errorf("%s:%d: not a JSON object: %v", name, n, orNull(err))
			}
			v, err := jsonField(obj, value)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", name, n, err)
			}
			var t string
			if at != "" {
				if t, err = jsonField(obj, at); err != nil {
					return fmt.Errorf("%s:%d: %w", name, n, err)
				}
			}
			if err := fn(field{v, n}, field{t, n}, at != ""); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n+1, err)
		}
		return nil
	}
}

func orNull(err error) error {
	if err == nil {
		return errors.New("null")
	}
	return err
}

// jsonField returns the text of obj's field key: a number's literal or a string's contents.
func jsonField(obj map[string]json.RawMessage, key string) (string, error) {
	raw, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("no field %q", key)
	}
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("field %q: %w", key, err)
		}
		return s, nil
	case len(raw) > 0 && (raw[0] == '-' || isDigit(raw[0])):
		return string(raw), nil
	}
	return "", fmt.Errorf("field %q is %s, not a number or a string", key, raw)
}
