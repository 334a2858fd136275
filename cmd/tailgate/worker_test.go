package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/execbackend/workertest"
	"github.com/tailgate-ci/tailgate/runner/publish/publishtest"
)

// TestMain lets the test binary stand in for the tailgate binary where a command starts it as a
// worker: `tailgate worker echo` (the transport calibration, echoWorker) and the exec backend's
// test workers (workertest.Command).
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "worker" {
		os.Exit(run(&env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}, os.Args[1:]))
	}
	workertest.Main()
	os.Exit(m.Run())
}

// execYAML is a suite on the exec backend (a stand-in worker naming runtime fake 1.2.3),
// pinned to pin.
func execYAML(store, pin string) string {
	return `version: 1
suites:
  npu:
    backend: exec
    worker: "` + strings.Join(workertest.Command("device"), " ") + `"
    warmup: "100"
    duration: { pr: 2s, nightly: 2s }
    interval: { pr: 100ms, nightly: 100ms }
    thresholds: ["max < 2s"]
pins: { fake: "` + pin + `" }
store: { kind: git, repo: ` + store + `, branch: tailgate-data }
`
}

// TestCIExecSuite: a suite with backend exec runs in `tailgate ci` like any other: doctor checks
// the worker's runtime pin, the nightly becomes the baseline, a pull request is compared and
// published with the worker's runtime and device, and a pin the worker does not match stops the
// run as incomparable. The worker never sees the job's token.
func TestCIExecSuite(t *testing.T) {
	tmp := t.TempDir()
	store := filepath.Join(tmp, "store.git")
	gitT(t, tmp, "init", "-q", "--bare", store)
	const token = "ghs_exec_token"
	t.Setenv("GITHUB_TOKEN", token) // the process's own environment, which a worker inherits from
	gh := publishtest.New(t, token)
	proj := ciProject(t, execYAML(store, "1.2.*"))
	t.Chdir(proj)
	vars := map[string]string{"TAILGATE_CACHE": filepath.Join(tmp, "cache"), "HOME": tmp,
		"GITHUB_TOKEN": token, "GITHUB_API_URL": gh.APIURL(), "GITHUB_REPOSITORY": "pi-fleet/npu", "GITHUB_ACTIONS": "true",
		"GITHUB_SHA": gitT(t, proj, "rev-parse", "HEAD"), "GITHUB_EVENT_NAME": "schedule"}
	if code, _, errOut := runCIEnv(t, vars, "--profile", "nightly", "--quiet"); code != exitPass || !strings.Contains(errOut, "is now the baseline") {
		t.Fatalf("nightly: exit %d", code)
	}

	sha := commitConfig(t, proj, execYAML(store, "1.2.*"), "pr")
	event := filepath.Join(tmp, "event.json")
	if err := os.WriteFile(event, []byte(`{"action":"synchronize","number":9,"pull_request":{"number":9,"head":{"sha":"`+sha+
		`","repo":{"full_name":"pi-fleet/npu"}},"base":{"repo":{"full_name":"pi-fleet/npu"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	vars["GITHUB_EVENT_NAME"], vars["GITHUB_EVENT_PATH"], vars["GITHUB_SHA"], vars["GITHUB_REF"] = "pull_request", event, sha, "refs/pull/9/merge"
	code, _, _ := runCIEnv(t, vars, "--profile", "pr", "--quiet", "--work", filepath.Join(tmp, "work"))
	if code != exitPass {
		t.Fatalf("pull request: exit %d", code)
	}
	cs := gh.Comments(9)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "fake 1.2.3") || strings.Contains(cs[0].Body, token) {
		t.Fatalf("comment does not name the worker's runtime (or shows the token):\n%+v", cs)
	}
	metas, _ := filepath.Glob(filepath.Join(tmp, "work", "*", result.MetaFile))
	if len(metas) == 0 {
		t.Fatal("no run folder in the work folder")
	}
	m, err := result.ReadMeta(filepath.Dir(metas[0]))
	if err != nil {
		t.Fatal(err)
	}
	if m.Env.Runtime != "fake" || m.Env.Device != "env:" || m.DeviceTime == nil || m.Calibration.TransportP50Ns <= 0 {
		t.Fatalf("meta: env %+v device time %v calibration %+v", m.Env, m.DeviceTime, m.Calibration)
	}

	sha = commitConfig(t, proj, execYAML(store, "2.*"), "pin moved")
	vars["GITHUB_SHA"] = sha
	if code, _, errOut := runCIEnv(t, vars, "--profile", "pr", "--quiet"); code != exitIncomparable || !strings.Contains(errOut, "fake 1.2.3 does not match pins.fake") {
		t.Fatalf("pin mismatch: exit %d", code)
	}
}
