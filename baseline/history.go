package baseline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// History entry kinds.
const (
	// KindNightly is one nightly comparison: the night's summary and its verdict.
	KindNightly = "nightly"
	// KindPromotion is one promotion of a run to baseline.
	KindPromotion = "promotion"
)

// HistoryVersion is the version of a history line this package writes and reads.
const HistoryVersion = 1

// HistoryEntry is one line of history.jsonl.
type HistoryEntry struct {
	V      int       `json:"v"`
	Kind   string    `json:"kind"`
	Time   time.Time `json:"time"`
	Suite  string    `json:"suite"`
	Key    string    `json:"key"`
	Run    string    `json:"run,omitempty"`
	Commit string    `json:"commit,omitempty"`
	Ref    string    `json:"ref,omitempty"`
	// The run's latency summary in nanoseconds.
	Samples int64 `json:"samples,omitempty"`
	P50     int64 `json:"p50_ns,omitempty"`
	P99     int64 `json:"p99_ns,omitempty"`
	P999    int64 `json:"p99_9_ns,omitempty"`
	Max     int64 `json:"max_ns,omitempty"`
	// Gated holds the night's other quantiles that the suite's rules gate (p90, p99.99: every
	// quantile rule but p50, p99 and p99.9), by their rule name, so that the history finds
	// change points in what the suite gates.
	Gated map[string]int64 `json:"gated_ns,omitempty"`
	// Verdict is the comparison's verdict (nightly) or the verdict the promotion relied on.
	Verdict string `json:"verdict,omitempty"`
	// Baseline is the run compared against (nightly) or the baseline replaced (promotion).
	Baseline string `json:"baseline,omitempty"`
	// Rule is the policy rule that allowed a promotion; By who asked; Reason why (forced).
	Rule   string `json:"rule,omitempty"`
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// NightlyEntry builds the history entry of a nightly comparison of the run described by m
// against baselineRun, with the caller's verdict.
func NightlyEntry(m *result.Meta, run, baselineRun, verdict string, at time.Time) HistoryEntry {
	return HistoryEntry{
		V: HistoryVersion, Kind: KindNightly, Time: at.UTC(), Suite: m.Suite, Key: m.Env.Key(), Run: run,
		Commit: m.Git.Commit, Ref: m.Git.Ref, Samples: m.Summary.Count,
		P50: m.Summary.P50, P99: m.Summary.P99, P999: m.Summary.P999, Max: m.Summary.Max,
		Verdict: verdict, Baseline: baselineRun,
	}
}

// gatedName is a quantile's rule name: "p" and a percentile (strictly between 0 and 100, which
// validGated checks).
var gatedName = regexp.MustCompile(`^p[0-9]{1,2}(\.[0-9]{1,12})?$`)

func validGated(name string, ns int64) bool {
	if !gatedName.MatchString(name) || ns <= 0 {
		return false
	}
	v, err := strconv.ParseFloat(name[1:], 64)
	return err == nil && v > 0 && v < 100
}

// Validate reports every problem with e.
func (e HistoryEntry) Validate() error {
	var errs []error
	if e.V != HistoryVersion {
		errs = append(errs, fmt.Errorf("v %d not supported (want %d)", e.V, HistoryVersion))
	}
	if e.Kind != KindNightly && e.Kind != KindPromotion {
		errs = append(errs, fmt.Errorf("kind %q unknown (want %q or %q)", e.Kind, KindNightly, KindPromotion))
	}
	if e.Time.IsZero() {
		errs = append(errs, errors.New("time is missing"))
	}
	errs = append(errs, validateNames(e.Suite, e.Key, e.Run)...)
	if e.Baseline != "" {
		if err := ValidateName("baseline run", e.Baseline); err != nil {
			errs = append(errs, err)
		}
	}
	if e.Samples < 0 || e.P50 < 0 || e.P99 < 0 || e.P999 < 0 || e.Max < 0 {
		errs = append(errs, errors.New("negative latency or count"))
	}
	for _, name := range slices.Sorted(maps.Keys(e.Gated)) {
		if !validGated(name, e.Gated[name]) {
			errs = append(errs, fmt.Errorf("gated_ns %q: %d: want a quantile name (p90, p99.99) and a positive latency", name, e.Gated[name]))
		}
	}
	return errors.Join(errs...)
}

// ParseHistoryLine decodes and validates one history line (without its newline).
func ParseHistoryLine(b []byte) (HistoryEntry, error) {
	var e HistoryEntry
	if err := decodeStrict("history line", b, &e); err != nil {
		return HistoryEntry{}, err
	}
	if err := e.Validate(); err != nil {
		return HistoryEntry{}, err
	}
	return e, nil
}

// History is a parsed history file.
type History struct {
	Entries []HistoryEntry
	// Warnings says what was skipped: a torn last line left by an interrupted append.
	Warnings []string
}

// Nightly returns the nightly entries in time order (entries recorded late, e.g. a night
// re-run the next morning, still land on their night).
func (h *History) Nightly() []HistoryEntry {
	var out []HistoryEntry
	for _, e := range h.Entries {
		if e.Kind == KindNightly {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

// ParseHistory parses history.jsonl bytes. Every complete line (ending in a newline) must
// parse, or the error names the file and line. A last line without its newline, or one that is
// NUL bytes (what a power cut can leave past the last fsync), is an append that never finished:
// it is ignored with a warning, and the next append cuts it off.
func ParseHistory(name string, b []byte) (*History, error) {
	h := &History{}
	complete, torn := splitTorn(b)
	if len(torn) > 0 {
		h.Warnings = append(h.Warnings, fmt.Sprintf("%s: ignoring a torn last line (%d bytes) left by an interrupted append", name, len(torn)))
	}
	var errs []error
	lineNo := 0
	for len(complete) > 0 {
		i := bytes.IndexByte(complete, '\n')
		line := complete[:i]
		complete = complete[i+1:]
		lineNo++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := ParseHistoryLine(line)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, lineNo, err))
			continue
		}
		h.Entries = append(h.Entries, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrIntegrity, errors.Join(errs...))
	}
	return h, nil
}

// splitTorn splits b into its complete lines (through the last newline that is followed only by
// a torn tail) and the torn tail. Trailing NUL bytes count as torn together with any partial
// line before them.
func splitTorn(b []byte) (complete, torn []byte) {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	cut := bytes.LastIndexByte(b[:end], '\n') + 1
	return b[:cut], b[cut:]
}

func encodeLine(e HistoryEntry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
