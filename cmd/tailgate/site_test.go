package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/site/sitetest"
)

// TestSiteCommand: `tailgate site` exits 0 on a sound store, 2 naming the damage when a stored
// run was modified (the site is still written), and 2 on bad flags.
func TestSiteCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	st, err := sitetest.Generate(store, t.TempDir(), sitetest.Store{Suites: []string{"vision"}, Boards: []string{"pi5"}, Nights: 6, Intervals: 3, PerInterval: 200, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	out := filepath.Join(t.TempDir(), "site")
	if code, stdout, stderr := runCLI(t, "site", "--store", store, "--out", out, "--report-nights", "2"); code != 0 || !strings.Contains(stdout, "2 night reports built") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	metas, _ := filepath.Glob(filepath.Join(store, "suites", "vision", "*", "runs", "*", "telemetry.jsonl"))
	if err := os.WriteFile(metas[0], []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "site", "--store", store, "--out", out)
	if run := filepath.Base(filepath.Dir(metas[0])); code != 2 || !strings.Contains(stderr, run) {
		t.Errorf("damaged store: exit %d, stderr does not name run %s:\n%s", code, run, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Errorf("the site was not written: %v", err)
	}
	if code, _, stderr := runCLI(t, "site", "--store", store, "--report-nights", "0"); code != 2 || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, "--report-nights 0") {
		t.Errorf("bad flags: exit %d\n%s", code, stderr)
	}
}
