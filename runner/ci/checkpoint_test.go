package ci_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/runner/ci"
)

var t0 = time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)

// writeRun writes n intervals of 100 samples for each tag, and a telemetry line per interval.
func writeRun(t testing.TB, dir string, n int, tags ...string) {
	t.Helper()
	lw, err := result.CreateLog(filepath.Join(dir, result.LatencyFile), t0)
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Close()
	tf, err := os.Create(filepath.Join(dir, result.TelemetryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	for i := range n {
		for _, tag := range tags {
			h := result.NewHistogram()
			for j := range 100 {
				_ = h.RecordValue(int64(1e6 + 1000*j))
			}
			s := t0.Add(time.Duration(i) * time.Second)
			if err := lw.WriteInterval(result.Interval{Tag: tag, Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := json.Marshal(result.Telemetry{Interval: i, Time: t0.Add(time.Duration(i+1) * time.Second).Format(time.RFC3339)})
		tf.Write(append(b, '\n'))
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestRecover(t *testing.T) {
	cases := []struct {
		name      string
		tags      []string
		damage    func(t *testing.T, dir string)
		intervals int
		cut       int
	}{
		{name: "clean", tags: []string{""}, intervals: 5},
		{name: "torn log line", tags: []string{""}, intervals: 5, cut: 1,
			damage: func(t *testing.T, dir string) {
				appendTo(t, filepath.Join(dir, result.LatencyFile), "Tag=x,5.000,1.000,0.001,HISTFAAAA")
			}},
		{name: "undecodable last line", tags: []string{""}, intervals: 5, cut: 1,
			damage: func(t *testing.T, dir string) {
				appendTo(t, filepath.Join(dir, result.LatencyFile), "5.000,1.000,0.001,HISTnotbase64\n")
			}},
		{name: "interval missing a class", tags: []string{"random", "zeros"}, intervals: 4, cut: 2,
			damage: func(t *testing.T, dir string) {
				// Drop the last line: interval 4 keeps only its "random" class.
				p := filepath.Join(dir, result.LatencyFile)
				b, _ := os.ReadFile(p)
				b = b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
				os.WriteFile(p, b, 0o644)
			}},
		{name: "killed before the last interval's telemetry", tags: []string{""}, intervals: 4, cut: 1,
			damage: func(t *testing.T, dir string) {
				p := filepath.Join(dir, result.TelemetryFile)
				b, _ := os.ReadFile(p)
				os.WriteFile(p, b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1], 0o644)
			}},
		{name: "torn telemetry", tags: []string{""}, intervals: 5, cut: 1,
			damage: func(t *testing.T, dir string) {
				// A whole line for an interval the log never got, then a torn one.
				appendTo(t, filepath.Join(dir, result.TelemetryFile), `{"interval":5}`+"\n"+`{"interv`)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRun(t, dir, 5, c.tags...)
			if c.damage != nil {
				c.damage(t, dir)
			}
			rec, err := ci.Recover(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Intervals != c.intervals || len(rec.Cut) != c.cut {
				t.Fatalf("intervals %d cut %q; want %d and %d cuts", rec.Intervals, rec.Cut, c.intervals, c.cut)
			}
			if rec.Elapsed != time.Duration(c.intervals)*time.Second || !rec.Start.Equal(t0) || !rec.LogStart.Equal(t0) {
				t.Errorf("elapsed %v start %v logstart %v", rec.Elapsed, rec.Start, rec.LogStart)
			}
			if want := int64(100 * len(c.tags) * c.intervals); rec.Samples != want {
				t.Errorf("samples %d, want %d", rec.Samples, want)
			}
			if rec.TelemetryLines != c.intervals {
				t.Errorf("%d telemetry lines, want %d", rec.TelemetryLines, c.intervals)
			}
			// The repaired files take appended intervals and read back strictly.
			lw, err := result.AppendLog(filepath.Join(dir, result.LatencyFile), rec.LogStart)
			if err != nil {
				t.Fatal(err)
			}
			h := result.NewHistogram()
			_ = h.RecordValue(5e6)
			if err := lw.WriteInterval(result.Interval{Tag: c.tags[0], Start: rec.End, End: rec.End.Add(time.Second), Hist: h}); err != nil {
				t.Fatal(err)
			}
			lw.Close()
			log, err := result.ReadLog(filepath.Join(dir, result.LatencyFile))
			if err != nil {
				t.Fatal(err)
			}
			if got := len(log.Intervals); got != c.intervals*len(c.tags)+1 {
				t.Errorf("%d log lines after append", got)
			}
			if _, err := result.ReadTelemetry(dir); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestRecoverRejectsBrokenHeader(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, result.LatencyFile), []byte("#[StartTime: 1]\nnot a log\nnor this\n"), 0o644)
	if _, err := ci.Recover(dir); err == nil || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("err %v", err)
	}
	if _, err := ci.Recover(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing log: %v", err)
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	if _, err := ci.ReadState(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	s := &ci.State{Suite: "vision", Profile: "nightly", Commit: "abc", State: ci.StateRunning, Duration: time.Hour}
	if err := ci.WriteState(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := ci.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if why := got.Matches("vision", "nightly", "abc", ""); why != "" {
		t.Errorf("matches: %s", why)
	}
	if why := got.Matches("vision", "pr", "def", "x"); !strings.Contains(why, "profile") || !strings.Contains(why, "commit") || !strings.Contains(why, "configuration") {
		t.Errorf("mismatch reasons %q", why)
	}
	os.WriteFile(filepath.Join(dir, ci.StateFile), []byte(`{"suite":"","state":"odd"}`), 0o644)
	if _, err := ci.ReadState(dir); err == nil || !strings.Contains(err.Error(), `state "odd"`) || !strings.Contains(err.Error(), "suite or profile empty") {
		t.Fatalf("err %v", err)
	}
}

func TestRunDir(t *testing.T) {
	if got := ci.RunDir("w", "vision/int8", "nightly", "0123456789abcdef", 2); got != filepath.Join("w", "vision_int8-nightly-0123456789ab-confirm2") {
		t.Fatal(got)
	}
}

// FuzzRecover feeds arbitrary bytes after a valid log: Recover either refuses or leaves a
// log that reads back strictly.
func FuzzRecover(f *testing.F) {
	f.Add([]byte("Tag=x,5.000,1.000,0.001,HISTFAAAA"))
	f.Add([]byte("5.000,1.000,0.001,HIST\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		writeRun(t, dir, 2, "")
		appendTo(&testing.T{}, filepath.Join(dir, result.LatencyFile), string(tail))
		if _, err := ci.Recover(dir); err != nil {
			return
		}
		if _, err := result.ReadLog(filepath.Join(dir, result.LatencyFile)); err != nil {
			t.Fatalf("recovered log does not read: %v", err)
		}
	})
}
