package result_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// TestReadersRefuseNonRegularFiles: a FIFO named latency.hlog or meta.json would block a reader
// forever, and a symlink to /dev/zero never ends; both are refused by name at once.
func TestReadersRefuseNonRegularFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"symlink to /dev/zero", func(t *testing.T, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{result.MetaFile, result.LatencyFile, result.TelemetryFile} {
				tc.make(t, filepath.Join(dir, name))
			}
			readers := map[string]func() error{
				"ReadMeta":      func() error { _, err := result.ReadMeta(dir); return err },
				"ReadLog":       func() error { _, err := result.ReadLog(filepath.Join(dir, result.LatencyFile)); return err },
				"ReadTelemetry": func() error { _, err := result.ReadTelemetry(dir); return err },
			}
			for name, read := range readers {
				err := read()
				if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), dir) {
					t.Errorf("%s: %v, want a 'not a regular file' error naming the file", name, err)
				}
			}
		})
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	r1 := filepath.Join(dir, "r1")
	if err := os.Mkdir(r1, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(r1, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out string
		bad bool
	}{
		{filepath.Join(r1, result.MetaFile), true},
		{r1, true},
		{filepath.Join(link, "new", "x.json"), true},
		{filepath.Join(dir, "r1.json"), false},
		{filepath.Join(dir, "elsewhere", "out.html"), false},
	} {
		err := result.CheckOutput(tc.out, "", r1)
		if (err != nil) != tc.bad {
			t.Errorf("CheckOutput(%s): %v, want refused %v", tc.out, err, tc.bad)
		}
	}
}
