// Package ortlibtest loads the real ONNX Runtime library for tests. A missing library fails the
// test with the command that installs it: tests never skip because the runtime is absent.
package ortlibtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tailgate-ci/tailgate/harness/ortlib"
)

// RepoRoot returns the folder holding go.mod, searching upward from the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("ortlibtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the library path tests use: $ONNXRUNTIME_LIB, else the repository's cache.
func Path(t testing.TB) string {
	t.Helper()
	p, err := ortlib.Locate(ortlib.Search{
		Env:       os.Getenv(ortlib.EnvVar),
		CacheDirs: []string{filepath.Join(RepoRoot(t), ".cache")},
	})
	if err != nil {
		t.Fatalf("ONNX Runtime is required by this test (run 'make ort'): %v", err)
	}
	return p
}

// Load initialises ONNX Runtime for the test process and returns what was loaded.
func Load(t testing.TB) ortlib.Library {
	t.Helper()
	lib, err := ortlib.Load(Path(t))
	if err != nil {
		t.Fatalf("loading ONNX Runtime: %v", err)
	}
	return lib
}
