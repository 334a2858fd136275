package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
	"github.com/tailgate-ci/tailgate/runner/doctor"
)

// runGetenv runs the CLI in-process with getenv as its environment and returns its exit code,
// stdout and stderr.
func runGetenv(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: getenv}
	code := run(e, args)
	return code, out.String(), errb.String()
}

// runTailgate runs the CLI in-process with the variables in environ (none when nil).
func runTailgate(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	return runGetenv(t, func(k string) string { return environ[k] }, args...)
}

// checkGolden compares got with testdata/name, or rewrites it under -update. The Go version
// is masked so the files survive toolchain updates.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), []byte(strings.ReplaceAll(got, runtime.Version(), "GOVERSION")))
}

func hostFixture(name string) string { return filepath.Join("..", "..", "fixtures", "hosts", name) }

// TestDoctorGolden renders each captured host as a table and as JSON.
func TestDoctorGolden(t *testing.T) {
	tests := []struct {
		tree     string
		args     []string
		wantCode int
	}{
		{"pi5-rt", []string{"--pin-kernel", "6.12.*-rt*"}, exitPass},
		{"pi5-stock", []string{"--pin-kernel", "6.12.*-rt*"}, exitIncomparable},
		{"x86-here", nil, exitPass},
	}
	for _, tt := range tests {
		for _, format := range []string{"table", "json"} {
			t.Run(tt.tree+"/"+format, func(t *testing.T) {
				args := append([]string{"doctor", "--root", hostFixture(tt.tree), "--format", format}, tt.args...)
				code, out, stderr := runTailgate(t, nil, args...)
				if code != tt.wantCode {
					t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
				}
				ext := map[string]string{"table": ".txt", "json": ".json"}[format]
				checkGolden(t, filepath.Join("doctor", tt.tree+ext), out)
				if format == "json" {
					var rep struct {
						Checks []doctor.Check `json:"checks"`
					}
					if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Checks) < 15 {
						t.Errorf("JSON output: %d checks, %v", len(rep.Checks), err)
					}
				}
			})
		}
	}
}

func TestDoctorExitCodes(t *testing.T) {
	rt, stock := hostFixture("pi5-rt"), hostFixture("pi5-stock")
	tests := []struct {
		name      string
		args      []string
		want      int
		stderrHas string
		stdoutHas string
	}{
		{"a cool stock Pi still fails on its governor", []string{"--root", stock, "--temp-warn", "90", "--temp-fail", "95"}, exitError, "1 check(s) failed", "FAIL governor"},
		{"host fail is 2", []string{"--root", stock}, exitError, "check(s) failed", "FAIL governor"},
		{"pin fail is 3", []string{"--root", rt, "--pin-kernel", "6.6.*"}, exitIncomparable, "pins among them", "pins FAILED"},
		{"hot board fails", []string{"--root", rt, "--temp-warn", "40", "--temp-fail", "50"}, exitError, "1 check(s) failed", "FAIL temperature"},
		{"other CPU warns", []string{"--root", rt, "--cpus", "2"}, exitPass, "", "measured 2"},
		{"bad cpus", []string{"--root", rt, "--cpus", "3-1"}, exitError, "--cpus", ""},
		{"bad format and temps together", []string{"--root", rt, "--format", "xml", "--temp-warn", "90", "--temp-fail", "80"}, exitError, "--temp-fail 80 is below --temp-warn 90", ""},
		{"bad pin-model", []string{"--root", rt, "--pin-model", "novalue"}, exitError, `--pin-model "novalue": want NAME=VALUE`, ""},
		{"stray argument", []string{"--root", rt, "extra"}, exitError, `unexpected argument "extra"`, ""},
		{"missing config", []string{"--root", rt, "--config", "/nonexistent/tailgate.yaml"}, exitError, "--config", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runTailgate(t, nil, append([]string{"doctor"}, tt.args...)...)
			if code != tt.want || !strings.Contains(stderr, tt.stderrHas) || !strings.Contains(out, tt.stdoutHas) {
				t.Errorf("exit %d (want %d)\nstderr: %s\nstdout: %s", code, tt.want, stderr, out)
			}
		})
	}
}

// TestDoctorConfigPins wires tailgate.yaml pins: the kernel glob, the ONNX Runtime version with
// its shipped hash (checked against the real library) and a model's SHA-256.
func TestDoctorConfigPins(t *testing.T) {
	lib := ortlibtest.Load(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(model, []byte("model bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := ortlib.FileSHA256(model)
	if err != nil {
		t.Fatal(err)
	}
	writeConfig := func(modelSum string) string {
		p := filepath.Join(dir, "tailgate.yaml")
		y := "version: 1\nsuites:\n  m:\n    model: " + model + "\n    threads: 2\n    cpus: [2, 3]\n    duration: 1s\n" +
			"pins:\n  kernel: \"6.12.*-rt*\"\n  onnxruntime: \"" + ortlib.PinnedVersion + "\"\n  model_sha256: { m: \"" + modelSum + "\" }\n"
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	environ := map[string]string{ortlib.EnvVar: lib.Path}

	code, out, stderr := runTailgate(t, environ, "doctor", "--root", hostFixture("pi5-rt"), "--config", writeConfig(sum), "--format", "json")
	var rep struct {
		CPUs   []int          `json:"cpus"`
		Checks []doctor.Check `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
	got := map[string]doctor.Status{}
	for _, c := range rep.Checks {
		got[c.ID] = c.Status
	}
	for _, id := range []string{"pin.kernel", "pin.onnxruntime", "pin.onnxruntime_sha256", "pin.model.m"} {
		if got[id] != doctor.Pass {
			t.Errorf("%s = %s, want PASS", id, got[id])
		}
	}
	// The suite measures CPUs 2 and 3; the hardened Pi isolates only 3.
	if len(rep.CPUs) != 2 || got["isolcpus"] != doctor.Warn || code != exitPass {
		t.Errorf("cpus %v isolcpus %s exit %d (stderr %s)", rep.CPUs, got["isolcpus"], code, stderr)
	}

	code, out, _ = runTailgate(t, environ, "doctor", "--root", hostFixture("pi5-rt"), "--config", writeConfig(strings.Repeat("a", 64)))
	if code != exitIncomparable || !strings.Contains(out, "FAIL pin.model.m") {
		t.Errorf("changed model: exit %d\n%s", code, out)
	}
}
