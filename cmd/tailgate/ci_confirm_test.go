package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
)

// confirmYAML is a synthetic suite whose every sample takes d, gated on its median, stored in
// the folder store. A constant workload makes the verdicts the test's, not the machine's: the
// machine adds its noise to the samples, but it does not double a median. The run is a count
// of samples, not a duration, with short intervals: on this shared machine a loaded second once
// gave 3 intervals of 1 s at 100 ms (stalls of 466 ms), fewer than the gate's 8 bootstrap
// blocks; 300 samples of at least 1 ms in 10 ms intervals always give dozens.
func confirmYAML(d, store, extra string) string {
	return fmt.Sprintf(`version: 1
suites:
  synth:
    backend: synthetic
    synthetic: "const:d=%s"
    cpus: [1]
    warmup: "50"
    iterations: 300
    interval: 10ms
    thresholds: ["p50 < +50%%"]
store: { kind: fs, path: %s }
%s`, d, store, extra)
}

// TestCIConfirmNightly drives `tailgate ci --profile nightly` through the confirmation rerun
// of a regression, on the synthetic backend (1 ms baseline, 2 ms regression) with a folder
// store and the hardened Pi 5 fixture tree as --root, so that health comes from fixed files
// and not from this machine. The nights, in order, on main:
//
//	bootstrap (1 ms) → pass (1 ms) → confirmed regression (2 ms, rerun 2 ms)
//	→ unconfirmed regression (2 ms, rerun 1 ms) → --confirm 0 → ci.confirm: 0 → ci.confirm: 2
//	→ a pass under ci.default_branch: trunk (not promoted)
//
// and after them `baseline history` lists every night with its verdict.
func TestCIConfirmNightly(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store")
	root, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "hosts", "pi5-rt"))
	if err != nil {
		t.Fatal(err)
	}
	proj := ciProject(t, confirmYAML("1ms", store, ""))
	t.Chdir(proj)
	vars := map[string]string{"HOME": tmp, "TAILGATE_CACHE": filepath.Join(tmp, "cache")}

	st, err := baseline.OpenDir(store, baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	baselineRun := func(t *testing.T) string {
		t.Helper()
		keys, err := st.Keys("synth")
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys %v, %v: want one environment", keys, err)
		}
		p, err := st.Pointer("synth", keys[0])
		if err != nil {
			t.Fatal(err)
		}
		return p.Run
	}
	lastNight := func(t *testing.T) baseline.HistoryEntry {
		t.Helper()
		keys, _ := st.Keys("synth")
		h, err := st.History("synth", keys[0])
		if err != nil {
			t.Fatal(err)
		}
		n := h.Nightly()
		if len(n) == 0 {
			t.Fatal("no nights in the history")
		}
		return n[len(n)-1]
	}

	// The unconfirmed case's rerun measures this config instead: the 1 ms workload stands in for
	// the board being itself again after whatever slowed the first run.
	fast := filepath.Join(tmp, "fast.yaml")
	if err := os.WriteFile(fast, []byte(confirmYAML("1ms", store, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	fastRerun := func(e *env, f ciFlags, _ *config.Config, name, dir string, g result.Git) (*result.Result, error) {
		cfg, err := config.Load(fast)
		if err != nil {
			return nil, err
		}
		return ciMeasure(e, f, cfg, name, dir, g)
	}
	t.Cleanup(func() { ciRerun = ciMeasure })

	cases := []struct {
		name  string
		d     string // the first run's constant
		extra string // appended to tailgate.yaml
		args  []string
		rerun func(*env, ciFlags, *config.Config, string, string, result.Git) (*result.Result, error)
		code  int
		// reruns is how many confirmation folders the night leaves.
		reruns   int
		verdict  string // in the history
		promoted bool
		says     []string // in stdout+stderr
	}{
		{name: "bootstrap", d: "1ms", code: exitPass, verdict: "bootstrap", promoted: true, says: []string{"became the baseline"}},
		{name: "pass", d: "1ms", code: exitPass, verdict: "pass", promoted: true, says: []string{"is now the baseline"}},
		{name: "confirmed regression", d: "2ms", code: exitRegression, reruns: 1, verdict: "regression",
			says: []string{"confirmation run 1 regressed too", "synth: synth regression: p50 < +50%"}},
		{name: "unconfirmed regression", d: "2ms", rerun: fastRerun, code: exitInconclusive, reruns: 1, verdict: "inconclusive",
			says: []string{"the regression was not confirmed: confirmation run 1 says pass", "synth inconclusive: confirmation run 1 did not reproduce the regression (regression: p50 < +50%"}},
		{name: "confirm 0 flag", d: "2ms", args: []string{"--confirm", "0"}, code: exitRegression, verdict: "regression"},
		{name: "confirm 0 config", d: "2ms", extra: "ci: { confirm: 0 }\n", code: exitRegression, verdict: "regression"},
		{name: "config confirm 2", d: "2ms", extra: "ci: { confirm: 2 }\n", code: exitRegression, reruns: 2, verdict: "regression",
			says: []string{"confirmation run 2 regressed too"}},
		// A pass from main is not promoted when the config names another default branch.
		{name: "default branch from config", d: "1ms", extra: "ci: { default_branch: trunk }\n", code: exitPass, verdict: "pass"},
	}
	var commits []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.rerun != nil {
				ciRerun = c.rerun
				defer func() { ciRerun = ciMeasure }()
			}
			sha := commitConfig(t, proj, confirmYAML(c.d, store, c.extra), c.name)
			commits = append(commits, sha)
			before := ""
			if c.name != "bootstrap" {
				before = baselineRun(t)
			}
			code, out, errs := runCIEnv(t, vars, append([]string{"--profile", "nightly", "--quiet", "--no-publish", "--root", root}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.says {
				if !strings.Contains(out+errs, w) {
					t.Errorf("output does not say %q", w)
				}
			}
			for i := 1; i <= 3; i++ {
				_, err := os.Stat(ci.RunDir(ci.DefaultWorkDir, "synth", "nightly", sha, i))
				if exists := err == nil; exists != (i <= c.reruns) {
					t.Errorf("confirmation folder %d exists: %v; want %d reruns", i, exists, c.reruns)
				}
			}
			n := lastNight(t)
			if n.Commit != sha || n.Verdict != c.verdict {
				t.Errorf("last night: commit %s verdict %q, want %s %q", n.Commit, n.Verdict, sha, c.verdict)
			}
			if moved := baselineRun(t) != before; moved != c.promoted {
				t.Errorf("baseline moved: %v, want %v (was %s, now %s)", moved, c.promoted, before, baselineRun(t))
			}
			if c.promoted && baselineRun(t) != n.Run {
				t.Errorf("baseline %s is not tonight's run %s", baselineRun(t), n.Run)
			}
		})
	}

	// What an operator sees the morning after: every night, in order, with its verdict.
	code, out, errs := runCLI(t, "baseline", "history", "synth", "--store", store, "--format", "json")
	if code != exitPass {
		t.Fatalf("baseline history: exit %d\n%s", code, errs)
	}
	var h struct {
		Nights []baseline.HistoryEntry `json:"nights"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Nights) != len(cases) {
		t.Fatalf("history has %d nights, want %d: %+v", len(h.Nights), len(cases), h.Nights)
	}
	for i, n := range h.Nights {
		if n.Commit != commits[i] || n.Verdict != cases[i].verdict {
			t.Errorf("night %d: commit %s verdict %q, want %s %q (%s)", i+1, n.Commit, n.Verdict, commits[i], cases[i].verdict, cases[i].name)
		}
	}
	code, out, _ = runCLI(t, "baseline", "history", "synth", "--store", store)
	if code != exitPass || !strings.Contains(out, fmt.Sprintf("%d nights", len(cases))) || !strings.Contains(out, "inconclusive") {
		t.Errorf("baseline history (text): exit %d\n%s", code, out)
	}
}

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

// TestUnconfirmedHeadline: the headline names the unconfirmed regression and stays within
// what a commit status takes, cut on a rune boundary.
func TestUnconfirmedHeadline(t *testing.T) {
	for _, tc := range []struct {
		name, first, want string
	}{
		{"short", "synth regression: p50 < +10% @ 0.99 (+100.0%)",
			"synth inconclusive: confirmation run 1 did not reproduce the regression (regression: p50 < +10% @ 0.99 (+100.0%))"},
		{"long", "synth regression: " + strings.Repeat("µ", 100), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := unconfirmedHeadline("synth", tc.first, 1)
			if tc.want != "" && got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if len(got) > gate.HeadlineMax || !utf8.ValidString(got) || !strings.HasPrefix(got, "synth inconclusive: confirmation run 1") {
				t.Errorf("%q: %d bytes (max %d), valid UTF-8 %v", got, len(got), gate.HeadlineMax, utf8.ValidString(got))
			}
		})
	}
}
