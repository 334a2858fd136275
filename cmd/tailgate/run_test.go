package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
)

// runForTest runs `tailgate run ARGS` in-process and returns its exit code and output.
func runForTest(t *testing.T, getenv func(string) string, args ...string) (int, string, string) {
	t.Helper()
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return runGetenv(t, getenv, append([]string{"run"}, args...)...)
}

// runAndRead runs `tailgate run` with args, requires exit 0 and reads the result it wrote to dir.
func runAndRead(t *testing.T, dir string, getenv func(string) string, args ...string) *result.Result {
	t.Helper()
	code, stdout, stderr := runForTest(t, getenv, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	r, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunSyntheticWritesACompleteResult(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	r := runAndRead(t, dir, func(k string) string {
		return map[string]string{"GITHUB_REF": "refs/pull/42/merge", "GITHUB_SHA": "abc"}[k]
	}, "--backend", "synthetic", "--synthetic", "lognormal:median=20us,sigma=0.2;ring:n=4096",
		"--iterations", "5000", "--warmup", "100", "--interval", "20ms", "--out", dir, "--tag", "board=ci", "--seed", "7")
	m := r.Meta
	if m.Counts.Samples != 5000 || m.Counts.Warmup != 100 || m.Summary.Count != 5000 || m.Counts.Intervals != len(r.Log.Intervals) {
		t.Errorf("counts %+v summary count %d, %d log intervals", m.Counts, m.Summary.Count, len(r.Log.Intervals))
	}
	// The synthetic body is known: the median spin is 20µs, and the loop adds well under 20µs.
	if m.Summary.P50 < 20_000 || m.Summary.P50 > 40_000 {
		t.Errorf("p50 %dns, want about 20µs", m.Summary.P50)
	}
	if m.Suite != "synthetic" || m.Workload.Seed != 7 || m.Tags["board"] != "ci" || m.Env.Backend != "synthetic" || m.Env.KernelRelease == "" {
		t.Errorf("meta: suite %q workload %+v tags %v env %+v", m.Suite, m.Workload, m.Tags, m.Env)
	}
	if m.Git.PR != 42 || m.Git.Commit == "" {
		t.Errorf("git %+v: want PR 42 from GITHUB_REF and a commit", m.Git)
	}
	if c := m.Calibration; c.ClockReadNs <= 0 || c.LoopRecordNs <= 0 || c.TimerResolveNs <= 0 {
		t.Errorf("calibration %+v", c)
	}
	if !m.Health.Healthy {
		t.Errorf("unhealthy: %v", m.Health.Reasons)
	}
	tel, err := result.ReadTelemetry(dir)
	if err != nil || len(tel) != m.Counts.Intervals {
		t.Fatalf("telemetry: %d lines for %d intervals, %v", len(tel), m.Counts.Intervals, err)
	}
	for _, l := range tel {
		if l.GCCycles != 0 || l.RSSBytes <= 0 {
			t.Errorf("telemetry line %+v", l)
		}
	}
	// A second run into the same --out is refused: a result is never overwritten.
	code, _, stderr := runForTest(t, nil, "--backend", "synthetic", "--iterations", "10", "--out", dir)
	if code != exitError || !strings.Contains(stderr, "not empty") {
		t.Errorf("writing into a non-empty --out: exit %d, %s", code, stderr)
	}
}

func TestRunRejectsBadFlagsAllAtOnce(t *testing.T) {
	code, _, stderr := runForTest(t, nil, "--backend", "ort", "--sched", "fifo:0", "--warmup", "soon",
		"--cpus", "x", "--tag", "novalue", "--input", "=1x2", "--profile", "weekly", "--out", t.TempDir())
	if code != exitError {
		t.Fatalf("exit %d, want %d", code, exitError)
	}
	// The input and sched parsers quote the value and leave the flag's name to resolvePlan,
	// which does not add it yet for these two: the values stand in for it here.
	for _, want := range []string{"--model: required", "--sched: \"fifo:0\": fifo priority", "--warmup", "--cpus", "--tag \"novalue\"", "--input: \"=1x2\": empty input name", "--profile \"weekly\""} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error output does not mention %q:\n%s", want, stderr)
		}
	}
}

func TestRunFromConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tailgate.yaml")
	os.WriteFile(cfg, []byte(`version: 1
suites:
  synth:
    backend: synthetic
    synthetic: "const:d=10us;ring:n=16"
    warmup: "10"
    duration: { pr: 100ms, nightly: 6h }
    interval: 50ms
    seed: 3
    tags: { kind: smoke }
`), 0o644)
	out := filepath.Join(dir, "r")
	code, _, stderr := runForTest(t, nil, "--config", cfg, "--suite", "synth", "--out", out, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r, err := result.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Meta
	if m.Suite != "synth" || len(m.ConfigDigest) != 64 || m.Workload.Seed != 3 || m.Counts.Warmup != 10 || m.Tags["kind"] != "smoke" || m.Workload.Interval != 50*time.Millisecond {
		t.Errorf("meta from config: suite %q digest %q workload %+v counts %+v tags %v", m.Suite, m.ConfigDigest, m.Workload, m.Counts, m.Tags)
	}
	if stderr != "" {
		t.Errorf("--quiet printed %q", stderr)
	}
}

func TestRunORTModels(t *testing.T) {
	lib := ortlibtest.Path(t)
	root := ortlibtest.RepoRoot(t)
	getenv := func(k string) string {
		if k == "ONNXRUNTIME_LIB" {
			return lib
		}
		return ""
	}
	for _, tc := range []struct {
		model  string
		inputs []string
		types  map[string]string
	}{
		{"vision-int8.onnx", []string{"x=1x3x96x96"}, nil},
		{"tinylm.onnx", nil, nil},
		{"dynamic.onnx", []string{"x=4x16", "k=scalar:const=3"}, map[string]string{"k": "int64"}},
		{"vision-fp32.onnx", []string{"x=1x3x96x96:adversarial"}, nil},
	} {
		t.Run(tc.model, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			args := []string{"--model", filepath.Join(root, "fixtures/models", tc.model), "--iterations", "50", "--warmup", "5", "--out", out, "--quiet"}
			for _, in := range tc.inputs {
				args = append(args, "--input", in)
			}
			r := runAndRead(t, out, getenv, args...)
			m := r.Meta
			if m.Counts.Samples != 50 || m.Env.ORTVersion != "1.30.0" || len(m.Env.ORTSHA256) != 64 || len(m.Env.ModelSHA256) != 64 || len(m.Workload.Inputs) == 0 {
				t.Errorf("counts %+v env %+v inputs %+v", m.Counts, m.Env, m.Workload.Inputs)
			}
			if strings.Contains(strings.Join(tc.inputs, " "), "adversarial") {
				// Every class is timed on its own: a summary per class and a tag per log line.
				if len(m.Classes) < 3 || len(r.Tags()) != len(m.Classes) {
					t.Errorf("adversarial run: classes %v, log tags %v", m.Classes, r.Tags())
				}
				var sum int64
				for _, c := range m.Classes {
					sum += c.Count
				}
				if sum != m.Counts.Samples {
					t.Errorf("class counts add up to %d, not %d", sum, m.Counts.Samples)
				}
			}
			for _, in := range m.Workload.Inputs {
				if want, ok := tc.types[in.Name]; ok && in.Type != want {
					t.Errorf("input %s recorded as %s, want %s", in.Name, in.Type, want)
				}
			}
		})
	}
}

// buildTailgate builds the binary once per test that needs a real process.
func buildTailgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tailgate")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func TestRunSignalEndsCleanly(t *testing.T) {
	bin := buildTailgate(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			cmd := exec.Command(bin, "run", "--backend", "synthetic", "--synthetic", "const:d=50us;ring:n=8",
				"--duration", "1h", "--interval", "50ms", "--warmup", "0", "--out", out)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the second interval so the signal lands mid-interval of a running loop.
			sc := bufio.NewScanner(stderr)
			for seen := 0; seen < 2 && sc.Scan(); {
				if strings.HasPrefix(sc.Text(), "interval ") {
					seen++
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stderr)
			err = cmd.Wait()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInconclusive {
				t.Fatalf("exit: %v, want code %d\n%s", err, exitInconclusive, rest)
			}
			r, err := result.Read(out)
			if err != nil {
				t.Fatalf("the interrupted run left no valid result: %v", err)
			}
			if r.Meta.Counts.Samples == 0 || r.Meta.Health.Healthy || !strings.Contains(strings.Join(r.Meta.Health.Reasons, ";"), "interrupted by") {
				t.Fatalf("counts %+v health %+v", r.Meta.Counts, r.Meta.Health)
			}
		})
	}
}

// TestRunLogInteropWithJava checks latency.hlog against HdrHistogram's own Java
// HistogramLogProcessor (Debian libhdrhistogram-java): same p50/p99/p99.9/max as meta.json
// within one histogram bucket.
func TestRunLogInteropWithJava(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	r := runAndRead(t, out, nil, "--backend", "synthetic",
		"--synthetic", "lognormal:median=30us,sigma=0.5;spike:p=0.01,x=20;ring:n=65536",
		"--iterations", "20000", "--warmup", "0", "--interval", "50ms", "--out", out, "--quiet")
	java := hlpTotals(t, filepath.Join(out, result.LatencyFile), "")
	s := r.Meta.Summary
	if n := int64(java["Total_Count"]); n != s.Count {
		t.Fatalf("java counts %d samples, meta %d", n, s.Count)
	}
	merged := r.Merged()
	for _, c := range []struct {
		name string
		meta int64
	}{{"Total_50%", s.P50}, {"Total_99%", s.P99}, {"Total_99.9%", s.P999}, {"Total_Max", s.Max}} {
		j := int64(math.Round(java[c.name]))
		// One bucket at 3 significant digits is at most 1/1024 of the value; adjacent buckets
		// (a quantile falling on a bucket edge) differ by at most twice that.
		if d := math.Abs(float64(j - c.meta)); d > float64(max(j, c.meta))/512+1 && !merged.ValuesAreEquivalent(j, c.meta) {
			t.Errorf("%s: java %d, meta.json %d (more than one bucket apart)", c.name, j, c.meta)
		}
	}
}

func TestRunOpenLoopCountsDropsAndMisses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	// 2ms of work per arrival at 1000 arrivals/s cannot keep up: with drop, about every other
	// arrival is lost (more on a slower machine).
	r := runAndRead(t, out, nil, "--backend", "synthetic", "--synthetic", "const:d=2ms;ring:n=16",
		"--rate", "1000/s", "--deadline", "1ms", "--overrun", "drop", "--iterations", "50", "--warmup", "0", "--out", out, "--quiet")
	m := r.Meta
	if m.Workload.Mode != "open" || m.Workload.Rate != 1000 || m.Workload.Overrun != "drop" || m.Workload.Deadline != time.Millisecond {
		t.Errorf("workload %+v", m.Workload)
	}
	if m.Counts.Dropped < 45 || m.Counts.Missed != 50 {
		t.Errorf("counts %+v: want ≥45 dropped and all 50 samples over the 1ms deadline", m.Counts)
	}
	code, _, stderr := runForTest(t, nil, "--backend", "synthetic", "--overrun", "skip", "--out", t.TempDir())
	if code != exitError || !strings.Contains(stderr, "--rate: required") {
		t.Errorf("--overrun without --rate: exit %d %s", code, stderr)
	}
}

// TestRunWriteErrorWins: when the disk refuses a write (here a file size limit, as a full disk
// would), the run fails with the write error, exit 2, not with the parse error of the torn log
// it leaves.
func TestRunWriteErrorWins(t *testing.T) {
	bin := buildTailgate(t)
	for _, tc := range []struct {
		name   string
		args   []string
		ulimit string
		says   string
	}{
		// 24 KiB holds the log's header and a few intervals, then writes fail with EFBIG.
		{"file size limit", []string{"--iterations", "200000", "--interval", "10ms"}, "24", "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			args := append([]string{"-c", `ulimit -f ` + tc.ulimit + `; exec "$0" "$@"`, bin, "run", "--backend", "synthetic",
				"--synthetic", "const:d=10us", "--quiet", "--out", out}, tc.args...)
			cmd := exec.Command("sh", args...)
			b, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitError {
				t.Fatalf("exit %v, want %d\n%s", err, exitError, b)
			}
			if tc.says != "" && !strings.Contains(string(b), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, b)
			}
			if strings.Contains(string(b), "buffer is smaller") || strings.Contains(string(b), "token too long") {
				t.Errorf("a parse error hides the cause:\n%s", b)
			}
			if _, err := os.Stat(filepath.Join(out, result.MetaFile)); err == nil {
				t.Errorf("a failed run wrote %s", result.MetaFile)
			}
		})
	}
}

// TestRunInterruptedWarmupIsAnError: a run stopped during its warm-up measured nothing; that is
// an error (exit 2) and no result, never an empty result that a gate could read as a pass.
func TestRunInterruptedWarmupIsAnError(t *testing.T) {
	bin := buildTailgate(t)
	out := filepath.Join(t.TempDir(), "r")
	cmd := exec.Command(bin, "run", "--backend", "synthetic", "--synthetic", "const:d=100us", "--warmup", "1h", "--quiet", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The warm-up lasts an hour: any moment after the start is inside it.
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("exit %v, want %d\n%s", err, exitError, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no samples were measured") {
		t.Errorf("stderr does not say nothing was measured:\n%s", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, result.MetaFile)); err == nil {
		t.Errorf("an empty run wrote %s", result.MetaFile)
	}
}

// TestRunRefusesOfflineCPUBeforeCreatingOut: --cpus naming a CPU this host does not have fails
// before --out exists, so a rerun with a fixed flag is not blocked by a half-made folder.
func TestRunRefusesOfflineCPUBeforeCreatingOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	code, _, stderr := runForTest(t, nil, "--backend", "synthetic", "--cpus", "4095", "--out", out, "--quiet")
	if code != exitError || !strings.Contains(stderr, "--cpus: CPU 4095 is not online") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out was created: %v", err)
	}
}
