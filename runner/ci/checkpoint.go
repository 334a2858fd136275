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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/runner/measure"
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
	var log *result.Log
	for try := 0; ; try++ {
		log, err = result.ParseLog(lp, bytes.NewReader(b[:keep]))
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
	// An interval writes one line per class; drop a last interval missing some of them.
	ivs := log.Intervals
	perStart := map[time.Time]int{}
	most := 0
	for _, iv := range ivs {
		perStart[iv.Start]++
		most = max(most, perStart[iv.Start])
	}
	for len(ivs) > 0 && perStart[ivs[len(ivs)-1].Start] < most {
		last := ivs[len(ivs)-1].Start
		n := perStart[last]
		for i := 0; i < n; i++ {
			keep = bytes.LastIndexByte(b[:keep-1], '\n') + 1
		}
		ivs = ivs[:len(ivs)-n]
		delete(perStart, last)
		rec.Cut = append(rec.Cut, fmt.Sprintf("%s: interval at %s had %d of %d classes", result.LatencyFile, last.Format(time.RFC3339Nano), n, most))
	}
	if keep < len(b) {
		if err := truncateSync(lp, int64(keep)); err != nil {
			return nil, err
		}
	}
	rec.LogStart = log.Start
	seen := map[time.Time]bool{}
	for _, iv := range ivs {
		rec.Samples += iv.Hist.TotalCount()
		if seen[iv.Start] {
			continue
		}
		seen[iv.Start] = true
		rec.Intervals++
		rec.Elapsed += iv.End.Sub(iv.Start)
		if rec.Start.IsZero() {
			rec.Start = iv.Start
		}
		rec.End = iv.End
	}
	if err := recoverTelemetry(dir, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// isIntervalLine reports whether a log line is an interval (not a header or comment), the only
// kind Recover may drop.
func isIntervalLine(line []byte) bool {
	l := bytes.TrimSpace(line)
	return len(l) > 0 && l[0] != '#' && !bytes.HasPrefix(l, []byte(`"StartTimestamp"`))
}

// recoverTelemetry keeps the telemetry lines that decode, at most one per kept interval.
func recoverTelemetry(dir string, rec *Recovered) error {
	tp := filepath.Join(dir, result.TelemetryFile)
	b, err := os.ReadFile(tp)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	keep := 0
	for keep < len(b) && len(rec.Telemetry) < rec.Intervals {
		nl := bytes.IndexByte(b[keep:], '\n')
		if nl < 0 {
			rec.Cut = append(rec.Cut, fmt.Sprintf("%s: torn last line", result.TelemetryFile))
			break
		}
		var t result.Telemetry
		if err := json.Unmarshal(b[keep:keep+nl], &t); err != nil {
			rec.Cut = append(rec.Cut, fmt.Sprintf("%s: line %d does not decode: %v", result.TelemetryFile, len(rec.Telemetry)+1, err))
			break
		}
		rec.Telemetry = append(rec.Telemetry, t)
		keep += nl + 1
	}
	if keep < len(b) {
		if len(rec.Telemetry) == rec.Intervals {
			rec.Cut = append(rec.Cut, fmt.Sprintf("%s: lines past the last whole interval", result.TelemetryFile))
		}
		return truncateSync(tp, int64(keep))
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
