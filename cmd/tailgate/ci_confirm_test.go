package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/runner/config"
)

// TestCIFromConfig: the ci: section fills what the command line left unset, and a flag, even
// one set to its default value, wins.
func TestCIFromConfig(t *testing.T) {
	two := 2
	cfg := config.CI{Confirm: &two, DefaultBranch: "trunk", TrustedLabel: "board-ok"}
	for _, tc := range []struct {
		name          string
		args          []string
		cfg           config.CI
		confirm       int
		branch, label string
	}{
		{"no config", nil, config.CI{}, DefaultCIConfirm, "main", "tailgate-trusted"},
		{"config", nil, cfg, 2, "trunk", "board-ok"},
		{"config confirm 0", nil, config.CI{Confirm: new(0)}, 0, "main", "tailgate-trusted"},
		{"flags win", []string{"--confirm", "1", "--default-branch", "main", "--trusted-label", "ok"}, cfg, 1, "main", "ok"},
		{"one flag", []string{"--confirm", "0"}, cfg, 0, "trunk", "board-ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f ciFlags
			fs := pflag.NewFlagSet("ci", pflag.ContinueOnError)
			fs.IntVar(&f.confirm, "confirm", DefaultCIConfirm, "")
			fs.StringVar(&f.defaultBranch, "default-branch", "main", "")
			fs.StringVar(&f.trustedLabel, "trusted-label", "tailgate-trusted", "")
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			ciFromConfig(fs, &f, tc.cfg)
			if f.confirm != tc.confirm || f.defaultBranch != tc.branch || f.trustedLabel != tc.label {
				t.Errorf("confirm %d branch %q label %q, want %d %q %q", f.confirm, f.defaultBranch, f.trustedLabel, tc.confirm, tc.branch, tc.label)
			}
		})
	}
}

// TestCIRefusesBadConfigFirst: a configuration whose nightly suite has a rule the grammar
// refuses, and a suite whose name would escape the store's folder, stop `tailgate ci` with
// exit 2 before doctor reads the host and before a run folder exists, naming file:line of
// each key, both at once.
func TestCIRefusesBadConfigFirst(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tailgate.yaml")
	if err := os.WriteFile(cfg, []byte(`version: 1
suites:
  nightly-vision:
    backend: synthetic
    duration: { pr: 1s, nightly: 6h }
    thresholds:
      - "p99 < +5%"
      - "p101 < +5%"
  ../x:
    backend: synthetic
`), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	code, _, stderr := runTailgate(t, map[string]string{"HOME": dir}, "ci", "--profile", "nightly", "--config", cfg, "--work", work, "--no-publish")
	if code != exitError {
		t.Fatalf("exit %d, want %d\n%s", code, exitError, stderr)
	}
	for _, w := range []string{cfg + ":8:", "p101", cfg + ":9:", "../x"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "doctor") {
		t.Errorf("doctor ran before the configuration was refused:\n%s", stderr)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("the work folder exists (%v): something ran", err)
	}
}
