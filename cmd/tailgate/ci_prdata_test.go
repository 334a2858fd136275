package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// prDataProject is a repository on main whose model the base pins, and a pull request
// (refs/pull/9/head) from a fork that replaces the model. It returns the repository, the
// pull request's head, and the base config file (outside the repository, as the base
// branch's checkout would hold it).
func prDataProject(t *testing.T) (repo, head, cfg string) {
	t.Helper()
	repo = t.TempDir()
	fast, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "models", "vision-fp32.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	slow, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "models", "vision-slow.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(repo, "models", "vision.onnx")
	if err := os.MkdirAll(filepath.Dir(model), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(model, fast, 0o644); err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "init", "-q", "-b", "main")
	gitT(t, repo, "add", "-A")
	gitT(t, repo, "commit", "-qm", "base")
	gitT(t, repo, "checkout", "-qb", "pr")
	if err := os.WriteFile(model, slow, 0o644); err != nil {
		t.Fatal(err)
	}
	gitT(t, repo, "commit", "-qam", "a slower model")
	head = gitT(t, repo, "rev-parse", "HEAD")
	gitT(t, repo, "update-ref", "refs/pull/9/head", head)
	gitT(t, repo, "checkout", "-q", "main")

	sum := sha256.Sum256(fast)
	cfg = filepath.Join(t.TempDir(), "tailgate.yaml")
	yaml := "version: 1\nsuites:\n  vision:\n    model: models/vision.onnx\n    inputs:\n      input: { shape: [1, 3, 32, 32] }\n" +
		"pins:\n  model_sha256:\n    vision: " + hex.EncodeToString(sum[:]) + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo, head, cfg
}

// prTargetVars is the environment of a pull_request_target job about a fork's pull request
// #9 whose head is head.
func prTargetVars(t *testing.T, head string) map[string]string {
	ev := filepath.Join(t.TempDir(), "event.json")
	b, _ := json.Marshal(map[string]any{"action": "synchronize", "number": 9, "pull_request": map[string]any{
		"number": 9, "head": map[string]any{"sha": head, "repo": map[string]any{"full_name": "stranger/vision", "fork": true}},
		"base": map[string]any{"repo": map[string]any{"full_name": "pi-fleet/vision"}}}})
	if err := os.WriteFile(ev, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target",
		"GITHUB_EVENT_PATH": ev, "GITHUB_REPOSITORY": "pi-fleet/vision"}
}

// Under --pr-data the run takes the pull request's model, not the checkout's: the base's pin
// (the fast model's hash) now fails on the fork's slower model, before anything is measured.
// The fork guard does not refuse it: nothing of the fork runs.
func TestCIPRDataTakesThePullRequestsModel(t *testing.T) {
	repo, head, cfg := prDataProject(t)
	vars := prTargetVars(t, head)
	work := filepath.Join(t.TempDir(), "work")
	code, _, stderr := runCIEnv(t, vars, "--profile", "pr", "--config", cfg, "--work", work, "--no-publish", "--quiet",
		"--root", hostFixture("x86-here"), "--pr-data", head, "--pr-data-remote", repo)
	if code != exitIncomparable || !strings.Contains(stderr, "pins failed") {
		t.Fatalf("exit %d: want %d with the pin failing on the pull request's model", code, exitIncomparable)
	}
	if !strings.Contains(stderr, "pr-data: 1 file(s) of "+head[:12]) {
		t.Errorf("stderr does not report the fetch")
	}
	got, err := os.ReadFile(filepath.Join(work, "pr-data", "models", "vision.onnx"))
	want, _ := os.ReadFile(filepath.Join("..", "..", "fixtures", "models", "vision-slow.onnx"))
	if err != nil || string(got) != string(want) {
		t.Fatalf("fetched model is not the pull request's: %v", err)
	}
	// The base's model (the checkout's) is what the same config measures without --pr-data:
	// the pin holds there, and the fork guard refuses a fork's pull_request run.
	vars["GITHUB_EVENT_NAME"] = "pull_request"
	code, _, stderr = runCIEnv(t, vars, "--profile", "pr", "--config", cfg, "--work", work, "--no-publish", "--quiet",
		"--root", hostFixture("x86-here"))
	if code != exitError || !strings.Contains(stderr, "refusing pull request #9 from fork") {
		t.Fatalf("pull_request from a fork without --pr-data: exit %d", code)
	}
}

func TestCIPRDataRefuses(t *testing.T) {
	repo, head, cfg := prDataProject(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not hex", []string{"--pr-data", "main"}, "not a commit SHA"},
		{"nightly", []string{"--profile", "nightly", "--pr-data", head}, "pull request data is for pr runs"},
		{"not the event's head", []string{"--pr-data", strings.Repeat("ab", 20)}, "is not the head " + head},
		{"cap", []string{"--pr-data", head, "--pr-data-max-mib", "0"}, "want 1 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--config", cfg, "--work", t.TempDir(), "--no-publish", "--quiet",
				"--root", hostFixture("x86-here"), "--pr-data-remote", repo}, tc.args...)
			code, _, stderr := runCIEnv(t, prTargetVars(t, head), args...)
			if code != exitError || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d: want %d and %q", code, exitError, tc.want)
			}
		})
	}
}
