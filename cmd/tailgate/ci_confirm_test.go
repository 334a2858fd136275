package main

import (
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
