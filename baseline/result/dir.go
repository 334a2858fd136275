package result

import (
	"bufio"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is a result directory read into memory.
type Result struct {
	Dir  string
	Meta *Meta
	Log  *Log
}

// Read reads a result directory: meta.json and latency.hlog. It checks that the log agrees with
// the meta's sample count, so a truncated or swapped log is an error rather than a smaller run.
func Read(dir string) (*Result, error) {
	m, err := ReadMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	lp := filepath.Join(dir, LatencyFile)
	log, err := ReadLog(lp)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	var c LogCounter
	for _, iv := range log.Intervals {
		c.AddInterval(iv)
	}
	if err := c.Check(dir, m); err != nil {
		return nil, err
	}
	return &Result{Dir: dir, Meta: m, Log: log}, nil
}

// Merged returns all intervals (every tag) merged into one histogram.
func (r *Result) Merged() *hdrhistogram.Histogram { return Merge(r.Log.Intervals, nil) }

// Tags returns the distinct interval tags in sorted order.
func (r *Result) Tags() []string {
	seen := map[string]bool{}
	for _, iv := range r.Log.Intervals {
		seen[iv.Tag] = true
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Merge merges intervals into one histogram; when keep is non-nil only intervals it accepts count.
func Merge(ivs []Interval, keep func(Interval) bool) *hdrhistogram.Histogram {
	h := NewHistogram()
	for _, iv := range ivs {
		if keep == nil || keep(iv) {
			h.Merge(iv.Hist)
		}
	}
	return h
}

// Telemetry is one line of telemetry.jsonl: what the host did during one interval.
type Telemetry struct {
	Time        string            `json:"time"` // RFC 3339, end of the interval
	Interval    int               `json:"interval"`
	TempC       *float64          `json:"temp_c,omitempty"`
	FreqKHz     map[string]int64  `json:"freq_khz,omitempty"`  // measured CPU → current frequency
	Throttled   *uint32           `json:"throttled,omitempty"` // Pi get_throttled bits
	VolCtxSw    int64             `json:"vol_ctxsw"`
	InvolCtxSw  int64             `json:"invol_ctxsw"`
	MinorFaults int64             `json:"minor_faults"`
	MajorFaults int64             `json:"major_faults"`
	IRQs        map[string]int64  `json:"irqs,omitempty"` // measured CPU → interrupts in the interval
	Load1       float64           `json:"load1"`
	GCCycles    uint32            `json:"gc_cycles"`
	RSSBytes    int64             `json:"rss_bytes"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// ReadTelemetry reads telemetry.jsonl strictly.
func ReadTelemetry(dir string) ([]Telemetry, error) {
	var out []Telemetry
	err := ScanTelemetry(dir, func(t Telemetry) error {
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanTelemetry reads telemetry.jsonl strictly, as ReadTelemetry does, handing each line to fn
// instead of keeping them; an error from fn stops the read.
func ScanTelemetry(dir string, fn func(Telemetry) error) error {
	path := filepath.Join(dir, TelemetryFile)
	f, err := OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var t Telemetry
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
