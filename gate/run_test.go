package gate_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestLoadRun: streaming a result gives the same run, and so the same report, as reading it
// whole; a log that disagrees with meta.json is an error naming the directory.
func TestLoadRun(t *testing.T) {
	baseDir, candDir := t.TempDir(), t.TempDir()
	base := gatetest.Write(t, baseDir, spec(1, body(1)))
	cand := gatetest.Write(t, candDir, spec(2, body(1.2)))
	rs := rules(t, append([]string{"mean < +5%", "miss(5ms) < 1%", "max < 40ms"}, gate.DefaultRules...)...)
	whole, err := gate.CompareResults(base, cand, rs, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := gate.LoadRun(baseDir)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := gate.LoadRun(candDir)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := gate.Compare(lb, lc, rs, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(whole)
	b, _ := json.Marshal(streamed)
	if !bytes.Equal(a, b) {
		t.Errorf("streamed report differs:\n%s\n%s", a, b)
	}

	m := *cand.Meta
	m.Counts.Samples++
	m.Summary.Count++
	if err := result.WriteMeta(candDir, &m); err != nil {
		t.Fatal(err)
	}
	if _, err := gate.LoadRun(candDir); err == nil || !strings.Contains(err.Error(), "result "+candDir+": latency.hlog holds") {
		t.Errorf("err = %v", err)
	}
	if _, err := gate.LoadRun(filepath.Join(candDir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v", err)
	}
}

// TestLoadPair: both sides load, the baseline is optional, and both sides' errors come at once.
func TestLoadPair(t *testing.T) {
	baseDir, candDir := t.TempDir(), t.TempDir()
	gatetest.Write(t, baseDir, spec(1, body(1)))
	gatetest.Write(t, candDir, spec(2, body(1.2)))
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name, base, cand string
		wantBase         bool
		errHas           []string
	}{
		{"both", baseDir, candDir, true, nil},
		{"no baseline", "", candDir, false, nil},
		{"both missing", missing, missing + "-cand", false, []string{"candidate: ", "missing-cand", "baseline: "}},
		{"baseline missing", missing, candDir, false, []string{"baseline: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, cand, err := gate.LoadPair(tc.base, tc.cand)
			if tc.errHas != nil {
				if err == nil || base != nil || cand != nil {
					t.Fatalf("LoadPair = %v, %v, %v; want an error", base, cand, err)
				}
				for _, w := range tc.errHas {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || cand == nil || (base != nil) != tc.wantBase {
				t.Fatalf("LoadPair = %v, %v, %v", base, cand, err)
			}
		})
	}
}

// TestReadPair reads whole results the way LoadPair loads runs.
func TestReadPair(t *testing.T) {
	baseDir, candDir := t.TempDir(), t.TempDir()
	gatetest.Write(t, baseDir, spec(1, body(1)))
	gatetest.Write(t, candDir, spec(2, body(1.2)))
	base, cand, err := gate.ReadPair(baseDir, candDir)
	if err != nil || base == nil || cand == nil || len(cand.Log.Intervals) == 0 {
		t.Fatalf("ReadPair = %v, %v, %v", base, cand, err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, _, err := gate.ReadPair(missing, missing); err == nil || !strings.Contains(err.Error(), "candidate: ") || !strings.Contains(err.Error(), "baseline: ") {
		t.Errorf("both missing: %v", err)
	}
}
