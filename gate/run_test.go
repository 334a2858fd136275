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
