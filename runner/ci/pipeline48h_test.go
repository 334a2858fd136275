package ci_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// copyMeasurer "measures" by copying a result folder (the 48-hour pair) into the run folder,
// on the default branch.
type copyMeasurer struct{ src string }

func (c copyMeasurer) Measure(_ context.Context, _, dir string, _ *measure.Resume) (*result.Meta, error) {
	for _, n := range []string{result.MetaFile, result.LatencyFile} {
		in, err := os.Open(filepath.Join(c.src, n))
		if err != nil {
			return nil, err
		}
		out, err := os.Create(filepath.Join(dir, n))
		if err == nil {
			_, err = io.Copy(out, in)
			err = errors.Join(err, out.Close())
		}
		in.Close()
		if err != nil {
			return nil, err
		}
	}
	m, err := result.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	m.Git = result.Git{Repo: "acme/vision", Commit: "0123456789abcdef0123456789abcdef01234567", Ref: "refs/heads/main"}
	return m, result.WriteMeta(dir, m)
}

// TestPipeline48h runs the nightly pipeline's post-processing on the 48-hour pair
// (TAILGATE_48H=DIR, as TestWrite48h writes it): base bootstraps the baseline, then cand is
// compared with it, stored, recorded and promoted. Run it under /usr/bin/time for the memory.
func TestPipeline48h(t *testing.T) {
	g48 := os.Getenv("TAILGATE_48H")
	if g48 == "" {
		t.Skip("TAILGATE_48H")
	}
	tmp := t.TempDir()
	st, err := baseline.OpenDir(filepath.Join(tmp, "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := result.ReadMeta(filepath.Join(g48, "base"))
	if err != nil {
		t.Fatal(err)
	}
	yaml := "version: 1\nsuites:\n  " + m.Suite + ":\n    backend: synthetic\n    synthetic: \"const:d=1ms\"\n    duration: 10s\n"
	cfg, err := config.Parse(filepath.Join(tmp, "tailgate.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	for i, side := range []string{"base", "cand"} {
		p := &ci.Pipeline{Config: cfg, Profile: "nightly", Work: filepath.Join(tmp, "work"), Store: st,
			Measurer: copyMeasurer{filepath.Join(g48, side)}, Confirm: 0, DefaultBranch: "main",
			Git: result.Git{Commit: fmt.Sprintf("%040d", i), Ref: "refs/heads/main"}, Job: side,
			Gate: gate.Options{Inconclusive: gate.InconclusivePass}}
		t0 := time.Now()
		o := p.Run(context.Background(), m.Suite)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if o.Report == nil {
			t.Fatalf("night %d: %v", i, o.Err)
		}
		t.Logf("night %d (%s): %v, %s, err %v, notes %v; heap sys %d MB", i, side, time.Since(t0).Round(10*time.Millisecond), o.Report.Headline, o.Err, o.Notes, ms.HeapSys>>20)
	}
}
