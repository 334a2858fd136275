package ci_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// seeded "measures" a seeded synthetic result: the same bytes on every machine, so the
// pipeline's reports can be golden files. A confirmation rerun takes the rerun scale.
type seeded struct {
	seed         uint64
	scale, rerun float64
	start        time.Time
}

func (s seeded) Measure(_ context.Context, suite, dir string, _ *measure.Resume) (*result.Meta, error) {
	scale, seed := s.scale, s.seed
	if strings.Contains(filepath.Base(dir), "-confirm") {
		scale, seed = s.rerun, s.seed+100
	}
	r := gatetest.Write(nopTB{}, dir, gatetest.Spec{Suite: suite, Intervals: 40, PerIv: 2000, Seed: seed, Start: s.start,
		Process: gatetest.Tail(gatetest.Lognormal(1e6, 0.05), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), scale))})
	return r.Meta, nil
}

// nopTB lets gatetest.Write run outside the test's goroutine bookkeeping; it panics on failure.
type nopTB struct{ testing.TB }

func (nopTB) Helper()                   {}
func (nopTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (nopTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

// TestPipelineGolden pins the nightly pipeline's reports over a pooled baseline
// (ci.baseline_runs: 3), a confirmed and an unconfirmed regression: the verdicts and figures
// must not change with how the store's runs and the candidate are read.
func TestPipelineGolden(t *testing.T) {
	tmp := t.TempDir()
	st, err := baseline.OpenDir(filepath.Join(tmp, "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	yaml := "version: 1\nsuites:\n  vision:\n    backend: synthetic\n    synthetic: \"const:d=1ms\"\n    duration: 10s\n" +
		"    thresholds: [\"p50 < +5%\", \"p99 < +5%\", \"max < 40ms\"]\nci: { baseline_runs: 3 }\n"
	cfg, err := config.Parse(filepath.Join(tmp, "tailgate.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	nights := []struct {
		name         string
		seed         uint64
		scale, rerun float64
	}{
		{"bootstrap", 1, 1, 1}, {"pass1", 2, 1, 1}, {"pass2", 3, 1, 1},
		{"pooled", 4, 1.01, 1}, {"confirmed", 5, 1.2, 1.2}, {"unconfirmed", 7, 1.2, 1},
	}
	for i, n := range nights {
		day := time.Date(2026, 11, 1+i, 2, 0, 0, 0, time.UTC)
		var log bytes.Buffer
		p := &ci.Pipeline{Config: cfg, Profile: "nightly", Work: filepath.Join(tmp, "work"), Store: st,
			Measurer: seeded{seed: n.seed, scale: n.scale, rerun: n.rerun, start: day}, Confirm: 1, DefaultBranch: "main",
			Git: result.Git{Commit: fmt.Sprintf("%040d", i), Ref: "refs/heads/main"}, Job: n.name,
			Gate: gate.Options{Inconclusive: gate.InconclusiveFail}, Log: &log, Now: func() time.Time { return day.Add(time.Hour) }}
		o := p.Run(context.Background(), "vision")
		if o.Err != nil || o.Report == nil {
			t.Fatalf("night %s: %v\n%s", n.name, o.Err, log.String())
		}
		var b bytes.Buffer
		if err := render.JSON(&b, o.Report); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "exit %d\nnotes:\n%s\n", o.Code, strings.Join(o.Notes, "\n"))
		golden.Check(t, filepath.Join("testdata", "pipeline", n.name+".json"), []byte(strings.ReplaceAll(b.String(), tmp, "$TMP")))
	}
}
