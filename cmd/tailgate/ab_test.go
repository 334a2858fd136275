package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
)

// abEnv returns the fixture models' folder and a getenv that finds the real ONNX Runtime.
func abEnv(t *testing.T) (string, func(string) string) {
	lib := ortlibtest.Path(t)
	return filepath.Join(ortlibtest.RepoRoot(t), "fixtures", "models"), func(k string) string {
		if k == "ONNXRUNTIME_LIB" {
			return lib
		}
		return ""
	}
}

// TestABCommand runs a short interleaved A/B of the fixture models under the real runtime, reads
// it as every tool does, gates its arms, and refuses to mix it with a single run.
func TestABCommand(t *testing.T) {
	models, getenv := abEnv(t)
	dir := filepath.Join(t.TempDir(), "ab")
	code, stdout, stderr := runGetenv(t, getenv, "ab", "--model-a", filepath.Join(models, "vision-fp32.onnx"),
		"--model-b", filepath.Join(models, "vision-slow.onnx"), "--graph-opt-b", "basic", "--rounds", "8", "--round", "40ms",
		"--warmup", "40ms", "--order-seed", "9", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("ab: exit %d\n%s%s", code, stdout, stderr)
	}
	r, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	ab := r.Meta.AB
	if ab == nil || ab.Rounds != 8 || ab.Seed != 9 || len(ab.Order) != 8 || ab.Arms[1].Session["graph_optimization"] != "basic" ||
		ab.Arms[0].ModelSHA256 == ab.Arms[1].ModelSHA256 || len(r.Log.Intervals) != 16 || strings.Join(r.Tags(), ",") != "A,B" {
		t.Fatalf("meta.ab %+v, %d intervals tagged %v: want 8 rounds of A and B with the arms recorded", ab, len(r.Log.Intervals), r.Tags())
	}
	code, stdout, _ = runGetenv(t, getenv, "compare", dir, "--threshold", "p50 < +5%", "--format", "json")
	if code == exitError || !strings.Contains(stdout, `"design": "interleaved, 8 rounds"`) {
		t.Errorf("compare of the arms: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runGetenv(t, getenv, "baseline", "add", dir, "--store", filepath.Join(t.TempDir(), "store"))
	if code != exitError || !strings.Contains(stderr, "interleaved A/B result") {
		t.Errorf("baseline add of an A/B result: exit %d, %s: want 2, a store keeps single runs", code, stderr)
	}
	single := filepath.Join(t.TempDir(), "one")
	runAndRead(t, single, getenv, "--model", filepath.Join(models, "vision-fp32.onnx"), "--iterations", "50", "--warmup", "5", "--out", single, "--quiet")
	for _, args := range [][]string{{single, dir}, {dir, single}, {dir, "--store", filepath.Join(t.TempDir(), "store")}} {
		code, _, stderr = runGetenv(t, getenv, append([]string{"compare"}, args...)...)
		if code != exitError || !strings.Contains(stderr, dir+" is an interleaved A/B result") {
			t.Errorf("compare %v: exit %d, %s: want 2 saying which result is an A/B", args, code, stderr)
		}
	}
}

// TestABRefuses: bad arms and schedules are exit 2, naming the arm and the fault.
func TestABRefuses(t *testing.T) {
	models, getenv := abEnv(t)
	vision := filepath.Join(models, "vision-fp32.onnx")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"arm B does not load", []string{"--model-a", vision, "--model-b", filepath.Join(models, "missing.onnx")},
			[]string{"arm B:", "missing.onnx"}},
		{"outputs differ", []string{"--model-a", vision, "--model-b", filepath.Join(models, "tinylm.onnx")},
			[]string{"arm B:", "outputs differ", "y float32", "logits float32"}},
		{"threads out of range", []string{"--model", vision, "--threads-b", "0"}, []string{"--threads-b: 0"}},
		{"schedule cannot fit", []string{"--model", vision, "--duration", "3s", "--round", "1s"},
			[]string{"--rounds:", "cannot fit", "3 rounds of 1s"}},
		{"schedule contradicts itself", []string{"--model", vision, "--duration", "3s", "--rounds", "8", "--round", "1s"},
			[]string{"--rounds:", "8 of 1s is 8s per arm, not the duration 3s"}},
		{"no model for arm A", []string{"--model-b", vision}, []string{"--model-a: required"}},
		{"automatic rounds cannot fit", []string{"--model", vision, "--duration", "1500ms"},
			[]string{"--rounds:", "1.5s per arm holds fewer than 8 rounds of at least 250ms"}},
		{"input classes differ", []string{"--model", vision, "--input-b", "x=1x3x96x96:adversarial", "--rounds", "8", "--round", "10ms"},
			[]string{"arm B:", "input classes differ", "arm A runs default", "zeros"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			abRefused(t, getenv, append([]string{"--warmup", "0s"}, c.args...), c.want)
		})
	}
}

// abRefused runs `tailgate ab --out DIR --quiet ARGS…` and wants exit 2 with every one of want
// in its stderr.
func abRefused(t *testing.T, getenv func(string) string, args, want []string) {
	t.Helper()
	code, stdout, stderr := runGetenv(t, getenv, append([]string{"ab", "--out", filepath.Join(t.TempDir(), "r"), "--quiet"}, args...)...)
	if code != exitError {
		t.Fatalf("exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not name %q", stderr, w)
		}
	}
}

// TestRunABMode: `tailgate run --ab MODEL` times a configured suite as arm B interleaved with
// MODEL as arm A, with the suite's inputs and placement, and the result gates as any A/B result;
// what an A/B run cannot do is refused, every flag at once.
func TestRunABMode(t *testing.T) {
	models, getenv := abEnv(t)
	cfg := filepath.Join(t.TempDir(), "tailgate.yaml")
	yaml := "version: 1\nsuites:\n  vision:\n    model: " + filepath.Join(models, "vision-slow.onnx") +
		"\n    threads: 1\n    duration: {pr: 800ms}\n  open:\n    model: " + filepath.Join(models, "vision-slow.onnx") + "\n    mode: open\n    rate: 10/s\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ab")
	code, stdout, stderr := runGetenv(t, getenv, "run", "--config", cfg, "--suite", "vision", "--ab", filepath.Join(models, "vision-fp32.onnx"),
		"--ab-threads", "2", "--round", "100ms", "--order-seed", "3", "--out", dir, "--quiet")
	if code != 0 || !strings.Contains(stdout, "interleaved, 8 rounds of 100ms per arm") {
		t.Fatalf("run --ab: exit %d\n%s%s", code, stdout, stderr)
	}
	r, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	ab := r.Meta.AB
	if ab == nil || r.Meta.Suite != "vision" || ab.Rounds != 8 || ab.Seed != 3 || ab.Arms[0].Threads != 2 || ab.Arms[1].Threads != 1 ||
		!strings.HasSuffix(ab.Arms[0].Model, "vision-fp32.onnx") || !strings.HasSuffix(ab.Arms[1].Model, "vision-slow.onnx") {
		t.Fatalf("meta %+v, ab %+v: want suite vision as arm B, vision-fp32 at 2 threads as arm A, 8 rounds seeded 3", r.Meta, ab)
	}
	if tel, err := result.ReadTelemetry(dir); err != nil || len(tel) != 8 {
		t.Errorf("telemetry: %d lines, %v; want one per round", len(tel), err)
	}
	code, stdout, _ = runGetenv(t, getenv, "compare", dir, "--threshold", "p50 < +5%", "--format", "json")
	if code == exitError || !strings.Contains(stdout, `"design": "interleaved, 8 rounds"`) {
		t.Errorf("compare of the arms: exit %d\n%s", code, stdout)
	}

	code, _, stderr = runGetenv(t, getenv, "run", "--config", cfg, "--suite", "open", "--ab", filepath.Join(models, "missing.onnx"),
		"--stress", "cpu", "--iterations", "100", "--out", filepath.Join(t.TempDir(), "r"), "--quiet")
	for _, want := range []string{"--iterations does not apply", "--stress does not apply", "suite open is open loop", "arm A's model", "missing.onnx"} {
		if code != exitError || !strings.Contains(stderr, want) {
			t.Errorf("run --ab refused: exit %d, stderr %q; want 2 naming %q", code, stderr, want)
		}
	}
}
