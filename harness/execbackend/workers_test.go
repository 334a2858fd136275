package execbackend_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
)

// The shipped workers, each driven through the real protocol on the fixture model: they are
// what `make test` can run here (the HailoRT worker against a stand-in hailo_platform).

const model = "../../fixtures/models/vision-fp32.onnx"

// drive opens the worker, checks its handshake and runs a few requests.
func drive(t *testing.T, o execbackend.Options, runtime, version string) *execbackend.Backend {
	t.Helper()
	b, err := execbackend.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if r := b.Ready(); r.Runtime != runtime || r.Version != version {
		t.Fatalf("ready %+v, want runtime %s %s", r, runtime, version)
	}
	for i := 0; i < 20; i++ {
		if err := b.Run(0); err != nil {
			t.Fatal(err)
		}
		if b.DeviceNs() <= 0 {
			t.Fatalf("request %d: no device time", i+1)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNodeWorker(t *testing.T) {
	modules := nodeModules()
	if _, err := os.Stat(filepath.Join(modules, "onnxruntime-node")); err != nil {
		t.Fatalf("onnxruntime-node is not installed (%v): run make node-worker, or set TAILGATE_NODE_PATH", err)
	}
	abs, _ := filepath.Abs(modules)
	drive(t, execbackend.Options{Command: []string{"node", "workers/ort_worker.js", model}, Env: []string{"NODE_PATH=" + abs, "PATH=" + os.Getenv("PATH")}},
		"onnxruntime-node", "1.30.0")
}

func TestCWorker(t *testing.T) {
	lib := os.Getenv("ONNXRUNTIME_LIB")
	if lib == "" {
		t.Fatal("ONNXRUNTIME_LIB is not set (make test sets it; see the Makefile's ORT_LIB)")
	}
	bin := filepath.Join(t.TempDir(), "ort_worker")
	if err := buildCWorker(bin); err != nil {
		t.Fatal(err)
	}
	drive(t, execbackend.Options{Command: []string{bin, lib, model}}, "onnxruntime-c", "1.30.0")
}

// buildCWorker compiles workers/ort_worker.c with gcc against the ONNX Runtime C API header the
// onnxruntime_go module ships.
func buildCWorker(out string) error {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/yalue/onnxruntime_go").Output()
	if err != nil {
		return err
	}
	cmd := exec.Command("gcc", "-O2", "-Wall", "-I"+strings.TrimSpace(string(dir)), "-I../internal/cref",
		"workers/ort_worker.c", "../internal/cref/cref.c", "-ldl", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gcc: %w\n%s", err, b)
	}
	return nil
}

// TestHailoWorker runs docs/workers/hailo_worker.py on a stand-in hailo_platform (and the bit
// of numpy it uses): no Hailo NPU is here. It checks the worker's protocol, not HailoRT.
func TestHailoWorker(t *testing.T) {
	fake, _ := filepath.Abs("testdata/fakehailo")
	o := func(fail string) execbackend.Options {
		return execbackend.Options{Command: []string{"python3", "../../docs/workers/hailo_worker.py", model},
			Env: []string{"PYTHONPATH=" + fake, "PATH=" + os.Getenv("PATH"), "FAKE_HAILO_FAIL=" + fail}}
	}
	b := drive(t, o(""), "hailort", "4.20.0")
	if d := b.Ready().Device; d != "HAILO10H" {
		t.Errorf("device %q", d)
	}
	t.Run("no device", func(t *testing.T) {
		_, err := execbackend.Open(o("open"))
		if err == nil || !strings.Contains(err.Error(), "no Hailo device found") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("infer fails", func(t *testing.T) {
		b, err := execbackend.Open(o("infer"))
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for i := 0; i < 3 && err == nil; i++ {
			err = b.Run(0)
		}
		if err == nil || !strings.Contains(err.Error(), "the worker failed request 3: HAILO_TIMEOUT") {
			t.Fatalf("error %v", err)
		}
	})
}
