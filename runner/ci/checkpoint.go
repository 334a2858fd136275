// Package ci owns the per-suite job of `tailgate ci` (Pipeline): measure, or resume a killed
// run of the same commit, or reuse a finished one; compare with the store's baseline; rerun to
// confirm a nightly regression; keep the run and the night in the store and promote per policy;
// and the comment input the outcomes publish as. It also owns what outlives one process: the
// work folder of a suite's run for one commit and profile, its checkpoint state, and the
// recovery of a killed run (validating latency.hlog and telemetry.jsonl, cutting a torn last
// line, and saying how much was measured so the run can append the rest).
//
// It does not time (runner/measure, injected as a Measurer), decide (gate), store (baseline)
// or send (runner/publish), and it reads no flags or environment: cmd/tailgate passes values.
package ci

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/runner/measure"
	"github.com/tailgate-ci/tailgate/runner/telemetry"
)

// DefaultWorkDir is where `tailgate ci` keeps its run folders (relative to the working directory).
const DefaultWorkDir = ".tailgate-ci"

// StateFile is the checkpoint record inside a run folder.
const StateFile = "checkpoint.json"

// Run states.
const (
	// StateRunning: measuring, or killed while measuring; the folder may be resumed.
	StateRunning = "running"
	// StateMeasured: meta.json is written; the result is complete.
	StateMeasured = "measured"
)

// State is checkpoint.json: what a run folder holds and for which commit and profile.
type State struct {
	Suite        string        `json:"suite"`
	Profile      string        `json:"profile"`
	Commit       string        `json:"commit"`
	ConfigDigest string        `json:"config_digest,omitempty"`
	Duration     time.Duration `json:"duration_ns"`
	State        string        `json:"state"`
	// Job names the CI job that measured the folder (Actions run id and attempt); a measured
	// folder is reused only by the same job, never by a later one on the same commit.
	Job string `json:"job,omitempty"`
	// Night is the stored run whose nightly history entry this folder's job appended: a later
	// attempt of the same workflow run (Actions' "Re-run jobs") measures again but does not
	// record the night a second time.
	Night string `json:"night,omitempty"`
	// Resumes counts how often the run was continued after being killed.
	Resumes int       `json:"resumes,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SameWorkflowRun reports whether jobs a and b (RUN_ID.ATTEMPT) are attempts of one workflow
// run: one night, however often it is re-run.
func SameWorkflowRun(a, b string) bool {
	ra, _, okA := strings.Cut(a, ".")
	rb, _, okB := strings.Cut(b, ".")
	return okA && okB && ra != "" && ra == rb
}

// RunDir is the folder of suite's run for commit and profile below work; attempt 0 is the
// run itself, 1… are confirmation reruns. The name is stable, so a restarted `ci` on the same
// commit finds the run it was killed in.
func RunDir(work, suite, profile, commit string, attempt int) string {
	c := commit
	if c == "" {
		c = "nocommit"
	}
	if len(c) > 12 {
		c = c[:12]
	}
	name := unsafeName.ReplaceAllString(suite, "_") + "-" + profile + "-" + unsafeName.ReplaceAllString(c, "_")
	if attempt > 0 {
		name += fmt.Sprintf("-confirm%d", attempt)
	}
	return filepath.Join(work, name)
}

// ReadState reads dir's checkpoint; errors.Is(err, os.ErrNotExist) when there is none.
func ReadState(dir string) (*State, error) {
	p := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var errs []string
	if s.State != StateRunning && s.State != StateMeasured {
		errs = append(errs, fmt.Sprintf("state %q (want %s or %s)", s.State, StateRunning, StateMeasured))
	}
	if s.Suite == "" || s.Profile == "" {
		errs = append(errs, "suite or profile empty")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", p, strings.Join(errs, "; "))
	}
	return &s, nil
}

// WriteState writes dir's checkpoint atomically.
func WriteState(dir string, s *State) error {
	s.Updated = time.Now().UTC()
	if s.Created.IsZero() {
		s.Created = s.Updated
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return result.WriteFileAtomic(filepath.Join(dir, StateFile), append(b, '\n'), 0o644)
}

// Matches reports why a checkpoint cannot be resumed for this run (empty: it can): a
// different suite, profile, commit or configuration.
func (s *State) Matches(suite, profile, commit, configDigest string) string {
	var why []string
	if s.Suite != suite {
		why = append(why, fmt.Sprintf("suite %s, not %s", s.Suite, suite))
	}
	if s.Profile != profile {
		why = append(why, fmt.Sprintf("profile %s, not %s", s.Profile, profile))
	}
	if s.Commit != commit {
		why = append(why, fmt.Sprintf("commit %s, not %s", s.Commit, commit))
	}
	if s.ConfigDigest != configDigest {
		why = append(why, "the configuration changed")
	}
	return strings.Join(why, "; ")
}

// Recovered is what a killed run had measured, after its files were made whole.
type Recovered struct {
	// Resume is what a new measurement needs to continue the run.
	measure.Resume
	Samples int64
	// Cut says what was cut off (torn or incomplete lines), for the log of the resume.
	Cut []string
}

// Recover validates the latency.hlog and telemetry.jsonl of a killed run in dir and cuts them
// back to their last whole interval: a torn last line (no newline: the process died mid-write),
// a last line that does not decode, and an interval of which only some classes were written.
// The files are truncated in place and fsynced, so the caller can append to them.
func Recover(dir string) (*Recovered, error) {
	lp := filepath.Join(dir, result.LatencyFile)
	b, err := os.ReadFile(lp)
	if err != nil {
		return nil, err
	}
	rec := &Recovered{}
	keep := bytes.LastIndexByte(b, '\n') + 1
	if keep < len(b) {
		rec.Cut = append(rec.Cut, fmt.Sprintf("%s: torn last line (%d bytes)", result.LatencyFile, len(b)-keep))
	}
	// The log is scanned, not parsed: a line's tag, times and count are all Recover needs, and a
	// killed 48-hour nightly's interval histograms would be gigabytes decoded.
	type line struct {
		start, end time.Time
		samples    int64
	}
	// An interval writes one line per class, one after the other with the same start; the
	// lines are grouped into intervals as result.LogCounter counts them.
	var groups [][]line
	var logStart time.Time
	for try := 0; ; try++ {
		groups = groups[:0]
		var counter result.LogCounter
		logStart, err = result.ScanLogBuckets(lp, bytes.NewReader(b[:keep]), func(iv result.IntervalBuckets) error {
			if counter.Add(iv) {
				groups = append(groups, nil)
			}
			g := len(groups) - 1
			groups[g] = append(groups[g], line{iv.Start, iv.End, iv.Buckets.Total})
			return nil
		})
		if err == nil {
			break
		}
		prev := bytes.LastIndexByte(b[:max(keep-1, 0)], '\n') + 1
		if try == 1 || keep == 0 || !isIntervalLine(b[prev:keep]) {
			return nil, fmt.Errorf("resume: %w", err)
		}
		rec.Cut = append(rec.Cut, fmt.Sprintf("%s: undecodable last line: %v", result.LatencyFile, err))
		keep = prev
	}
	// A last interval missing some of its classes is dropped.
	most := 0
	for _, g := range groups {
		most = max(most, len(g))
	}
	if n := len(groups); n > 0 && len(groups[n-1]) < most {
		last := groups[n-1]
		for range last {
			keep = bytes.LastIndexByte(b[:keep-1], '\n') + 1
		}
		groups = groups[:n-1]
		rec.Cut = append(rec.Cut, fmt.Sprintf("%s: interval at %s had %d of %d classes", result.LatencyFile, last[0].start.Format(time.RFC3339Nano), len(last), most))
	}
	// The telemetry line of an interval is written after its log lines: a kill between the two
	// leaves the last interval without one. That interval is dropped too, so that every kept
	// interval keeps its telemetry line and the resumed run numbers them on without a gap.
	rec.Intervals = len(groups)
	if err := recoverTelemetry(dir, rec); err != nil {
		return nil, err
	}
	if n := len(groups); n > 1 && rec.TelemetryLines == n-1 {
		for range groups[n-1] {
			keep = bytes.LastIndexByte(b[:keep-1], '\n') + 1
		}
		groups = groups[:n-1]
		rec.Cut = append(rec.Cut, fmt.Sprintf("%s: the last interval had no telemetry line yet", result.LatencyFile))
	}
	if keep < len(b) {
		if err := truncateSync(lp, int64(keep)); err != nil {
			return nil, err
		}
	}
	rec.LogStart = logStart
	rec.Intervals = 0
	for _, g := range groups {
		for _, l := range g {
			rec.Samples += l.samples
		}
		rec.Intervals++
		rec.Elapsed += g[0].end.Sub(g[0].start)
		if rec.Start.IsZero() {
			rec.Start = g[0].start
		}
		rec.End = g[0].end
	}
	return rec, nil
}

// isIntervalLine reports whether a log line is an interval (not a header or comment), the only
// kind Recover may drop.
func isIntervalLine(line []byte) bool {
	l := bytes.TrimSpace(line)
	return len(l) > 0 && l[0] != '#' && !bytes.HasPrefix(l, []byte(`"StartTimestamp"`))
}

// recoverTelemetry keeps the telemetry lines that decode, at most one per kept interval,
// streaming the file: each kept line is judged (telemetry.Judge) and not held.
func recoverTelemetry(dir string, rec *Recovered) error {
	tp := filepath.Join(dir, result.TelemetryFile)
	f, err := os.Open(tp)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	judge := telemetry.NewJudge(0)
	br := bufio.NewReader(f)
	var keep int64
	for rec.TelemetryLines < rec.Intervals {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			if len(b) > 0 {
				rec.Cut = append(rec.Cut, fmt.Sprintf("%s: torn last line", result.TelemetryFile))
			}
			break
		}
		if err != nil {
			return err
		}
		var t result.Telemetry
		if err := json.Unmarshal(b, &t); err != nil {
			rec.Cut = append(rec.Cut, fmt.Sprintf("%s: line %d does not decode: %v", result.TelemetryFile, rec.TelemetryLines+1, err))
			break
		}
		judge.Line(&t)
		rec.TelemetryLines++
		keep += int64(len(b))
	}
	rec.TelemetryReasons = judge.Reasons()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if keep < st.Size() {
		if rec.TelemetryLines == rec.Intervals {
			rec.Cut = append(rec.Cut, fmt.Sprintf("%s: lines past the last whole interval", result.TelemetryFile))
		}
		return truncateSync(tp, keep)
	}
	return nil
}

func truncateSync(path string, n int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(n); err != nil {
		return fmt.Errorf("resume: truncating %s: %w", path, err)
	}
	return f.Sync()
}
