package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/gate/htmlreport"
)

func testPiEnv() result.Fingerprint {
	return result.Fingerprint{
		Arch: "arm64", OS: "linux", KernelRelease: "6.12.25-rt-v8+", PreemptRT: true, CPUModel: "Cortex-A76",
		Board: "Raspberry Pi 5", Backend: "onnxruntime", ORTVersion: "1.30.0", Threads: 1, CPUs: []int{3}, Sched: "fifo:80",
	}
}

// synthResult writes a seeded synthetic result and returns its folder.
func synthResult(t *testing.T, night int, median float64, commit string, mut func(*resulttest.Synthetic)) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), fmt.Sprintf("night-%02d", night))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := resulttest.Synthetic{
		Suite: "vision-int8", Env: testPiEnv(), Seed: uint64(night + 1), MedianNs: median, Sigma: 0.03,
		Git:   result.Git{Repo: "acme/vision", Commit: commit, Ref: "refs/heads/main"},
		Start: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC).AddDate(0, 0, night),
	}
	if mut != nil {
		mut(&s)
	}
	if _, err := resulttest.Lognormal(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir
}

// gitRepoWithNights makes a repository with one commit per night, with fixed dates and author
// so the commit ids, and the golden files naming them, are the same on every machine.
func gitRepoWithNights(t *testing.T, n int) (string, []string) {
	t.Helper()
	repo := t.TempDir()
	git := func(date string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@acme", "GIT_COMMITTER_NAME=dev",
			"GIT_COMMITTER_EMAIL=dev@acme", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("", "init", "-q", "-b", "main")
	var commits []string
	for i := 0; i < n; i++ {
		date := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.RFC3339)
		os.WriteFile(filepath.Join(repo, "model.txt"), []byte(fmt.Sprint(i)), 0o644)
		git(date, "add", ".")
		msg := fmt.Sprintf("nightly change %d", i+1)
		if i == 40 {
			msg = "quantize conv3 per-tensor instead of per-channel"
		}
		git(date, "commit", "-qm", msg)
		commits = append(commits, git("", "rev-parse", "HEAD"))
	}
	return repo, commits
}

// TestBaselineHistoryGolden stores 60 generated nights, one with an injected step (+8 % from
// night 41, the commit that changed quantization) and one with slow creep (+0.2 % a night),
// and renders `baseline history` with the commit range and git log of each change point.
func TestBaselineHistoryGolden(t *testing.T) {
	repo, commits := gitRepoWithNights(t, 60)
	shapes := map[string]func(i int) float64{
		"step": func(i int) float64 {
			if i >= 40 {
				return 1.08e6
			}
			return 1e6
		},
		"creep": func(i int) float64 { return 1e6 * (1 + 0.002*float64(i)) },
	}
	for _, name := range []string{"step", "creep"} {
		t.Run(name, func(t *testing.T) {
			store := filepath.Join(t.TempDir(), "store")
			args := []string{"baseline", "add", "--store", store, "--nightly", "--verdict", "pass"}
			for i := 0; i < 60; i++ {
				args = append(args, synthResult(t, i, shapes[name](i), commits[i], nil))
			}
			if code, _, stderr := runTailgate(t, nil, args...); code != 0 {
				t.Fatalf("add: exit %d: %s", code, stderr)
			}
			code, out, stderr := runTailgate(t, nil, "baseline", "history", "vision-int8", "--store", store, "--repo", repo)
			if code != 0 {
				t.Fatalf("history: exit %d: %s", code, stderr)
			}
			checkGolden(t, "baseline_history_"+name+".golden", out)
			if !strings.Contains(out, "change points") {
				t.Fatalf("no change point found:\n%s", out)
			}
			if name == "step" && !strings.Contains(out, "first bad night 41") {
				t.Errorf("step change not placed at night 41:\n%s", out)
			}
			if name == "step" && !strings.Contains(out, "quantize conv3") {
				t.Errorf("git log of the range missing:\n%s", out)
			}
		})
	}
}

func TestBaselineCommands(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	env := map[string]string{"USER": "alice"}
	first := synthResult(t, 0, 1e6, "1111111111aaaa", nil)
	second := synthResult(t, 1, 1.01e6, "2222222222bbbb", nil)
	branch := synthResult(t, 2, 1e6, "3333333333cccc", func(s *resulttest.Synthetic) { s.Git.Ref = "refs/heads/wip"; s.Git.PR = 7 })
	key := testPiEnv().Key()
	steps := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"empty list", []string{"baseline", "list"}, 0, []string{"is empty"}},
		{"first run becomes the baseline", []string{"baseline", "promote", first}, 0, []string{"by rule bootstrap"}},
		{"second needs a verdict", []string{"baseline", "promote", second}, 2, []string{"no verdict was given"}},
		{"second passes", []string{"baseline", "promote", "vision-int8", "latest", "--verdict", "pass"}, 0, []string{"by rule pass-on-default-branch", "replacing"}},
		{"PR branch refused with every reason", []string{"baseline", "promote", branch, "--verdict", "pass"}, 2, []string{`"refs/heads/wip"`, "pull request #7"}},
		{"force needs a reason", []string{"baseline", "promote", "vision-int8", "latest", "--force"}, 2, []string{"needs a --reason"}},
		{"bad verdict", []string{"baseline", "promote", "vision-int8", "latest", "--verdict", "ok"}, 2, []string{`--verdict "ok"`}},
		{"list", []string{"baseline", "list"}, 0, []string{"vision-int8", key, "pass-on-default-branch"}},
		{"show baseline", []string{"baseline", "show", "vision-int8"}, 0, []string{"verified against its manifest", "baseline since", "by alice", "ort_version"}},
		{"show json", []string{"baseline", "show", "vision-int8", "--format", "json"}, 0, []string{`"baseline": true`}},
		{"history of promotions only", []string{"baseline", "history", "vision-int8"}, 0, []string{"0 nights"}},
		{"prune keeps baselines", []string{"baseline", "prune", "--keep", "1"}, 0, []string{"pruned 0 runs"}},
		{"verify", []string{"baseline", "verify"}, 0, []string{"matches its manifest"}},
		{"unknown suite", []string{"baseline", "show", "nosuch"}, 2, []string{"no runs of suite nosuch"}},
		{"hostile suite", []string{"baseline", "show", "../../etc"}, 2, []string{"invalid suite name"}},
		{"unknown subcommand", []string{"baseline", "frobnicate"}, 2, []string{"unknown subcommand"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			args := append(append([]string{}, s.args...), "--store", store)
			code, out, stderr := runTailgate(t, env, args...)
			if code != s.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, s.code, out, stderr)
			}
			for _, c := range s.contains {
				if !strings.Contains(out+stderr, c) {
					t.Errorf("output lacks %q:\n%s%s", c, out, stderr)
				}
			}
		})
	}
	t.Run("tampered store fails verify and show with the file named", func(t *testing.T) {
		logs, _ := filepath.Glob(filepath.Join(store, "suites", "vision-int8", key, "runs", "*", result.LatencyFile))
		if len(logs) == 0 {
			t.Fatal("no stored logs")
		}
		for _, p := range logs {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-10], 0o644)
		}
		for _, args := range [][]string{{"baseline", "verify"}, {"baseline", "show", "vision-int8"}} {
			code, _, stderr := runTailgate(t, env, append(args, "--store", store)...)
			if code != 2 || !strings.Contains(stderr, "latency.hlog is truncated") {
				t.Fatalf("%v: exit %d, stderr %s", args, code, stderr)
			}
		}
	})
}

func TestStoreBaselineIncomparable(t *testing.T) {
	store := filepath.Join(t.TempDir(), "store")
	base := synthResult(t, 0, 1e6, "aaaa1111", nil)
	if code, _, stderr := runTailgate(t, nil, "baseline", "promote", base, "--store", store); code != 0 {
		t.Fatal(stderr)
	}
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: func(string) string { return "" }}
	same, _ := result.ReadMeta(base)
	if r, _, err := storeBaseline(e, store, same, htmlreport.LoadStored); err != nil || r.Run.Meta.Suite != "vision-int8" {
		t.Fatalf("same environment: %v, %v", r, err)
	}
	other := *same
	other.Env.ORTVersion = "1.29.0"
	_, _, err := storeBaseline(e, store, &other, htmlreport.LoadStored)
	ce, ok := err.(*codeError)
	if !ok || ce.code != exitIncomparable {
		t.Fatalf("other environment: %v, want exit %d", err, exitIncomparable)
	}
	for _, want := range []string{"nearest baseline", "ort_version", `this run "1.29.0"`, `baseline "1.30.0"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	other.Suite = "nosuch"
	if _, _, err := storeBaseline(e, store, &other, htmlreport.LoadStored); err == nil || !strings.Contains(err.Error(), "no baseline for suite nosuch") {
		t.Fatalf("unknown suite: %v", err)
	}
}

func TestBaselineGitStoreCLI(t *testing.T) {
	remote := filepath.Join(t.TempDir(), "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", remote).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	spec := "git:" + remote + "#tailgate-data"
	for i, board := range []string{"board-1", "board-2"} {
		env := map[string]string{"TAILGATE_CACHE": t.TempDir(), "GITHUB_ACTOR": board}
		dir := synthResult(t, i, 1e6, fmt.Sprintf("%d%d%d%d", i, i, i, i), nil)
		args := []string{"baseline", "promote", dir, "--store", spec}
		if i > 0 {
			args = append(args, "--verdict", "pass")
		}
		if code, _, stderr := runTailgate(t, env, args...); code != 0 {
			t.Fatalf("%s promote: exit %d: %s", board, code, stderr)
		}
		code, out, stderr := runTailgate(t, env, "baseline", "list", "--store", spec)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("│ %d    │", i+1)) {
			t.Fatalf("%s list: exit %d, want %d runs:\n%s%s", board, code, i+1, out, stderr)
		}
	}
	code, out, _ := runTailgate(t, map[string]string{"TAILGATE_CACHE": t.TempDir()}, "baseline", "show", "vision-int8", "--store", spec, "--format", "json")
	if code != 0 || !strings.Contains(out, `"by": "board-2"`) {
		t.Fatalf("a third clone does not see board-2's promotion: exit %d\n%s", code, out)
	}
}

// TestBaselineGitStorePlantedHook plants a post-checkout hook and a hostile .git/config in the
// persistent clone of a git store, as an earlier job on the runner could, and runs `tailgate
// baseline list --store git:…` with the job's token set: nothing planted runs, the clone is made
// again, and the token is in no file under the cache.
func TestBaselineGitStorePlantedHook(t *testing.T) {
	const token = "ghs_cliPlantedHookCanary42"
	t.Setenv("GITHUB_TOKEN", token)
	remote := filepath.Join(t.TempDir(), "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", remote).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	spec := "git:" + remote + "#tailgate-data"
	cache := t.TempDir()
	env := map[string]string{"TAILGATE_CACHE": cache, "GITHUB_TOKEN": token, "TAILGATE_GITHUB_TOKEN": token}
	if code, _, stderr := runTailgate(t, env, "baseline", "promote", synthResult(t, 0, 1e6, "0000", nil), "--store", spec); code != 0 {
		t.Fatalf("promote: exit %d: %s", code, stderr)
	}
	gits, _ := filepath.Glob(filepath.Join(cache, "git", "*", ".git"))
	if len(gits) != 1 {
		t.Fatalf("clones: %v", gits)
	}
	evil := t.TempDir()
	marker := filepath.Join(evil, "ran")
	prog := filepath.Join(evil, "prog")
	script := []byte("#!/bin/sh\nenv > '" + marker + "'\n")
	for _, p := range []string{prog, filepath.Join(gits[0], "hooks", "post-checkout"), filepath.Join(gits[0], "hooks", "reference-transaction")} {
		if err := os.WriteFile(p, script, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(filepath.Join(gits[0], "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "[core]\n\tfsmonitor = %s\n\tpager = %s\n[alias]\n\tls = !%s\n[include]\n\tpath = %s\n", prog, prog, prog, filepath.Join(evil, "inc"))
	f.Close()
	os.WriteFile(filepath.Join(evil, "inc"), []byte("[core]\n\thooksPath = "+filepath.Dir(prog)+"\n"), 0o644)
	code, out, stderr := runTailgate(t, env, "baseline", "list", "--store", spec)
	if code != 0 || !strings.Contains(out, "vision-int8") {
		t.Fatalf("list: exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "changed outside tailgate") {
		t.Errorf("the tampered clone was used without a word: %s", stderr)
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Fatalf("a planted program ran (token in its environment: %v)", strings.Contains(string(b), token))
	}
	filepath.Walk(cache, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), token) {
				t.Errorf("the token is written in %s", p)
			}
		}
		return nil
	})
}
