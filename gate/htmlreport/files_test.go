package htmlreport

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestWriteFiles writes a built page and its figures to files; a page Write refuses and a
// folder that cannot be made are errors.
func TestWriteFiles(t *testing.T) {
	cand, err := Load(gatetest.Write(t, t.TempDir(), gatetest.Spec{Suite: "vision", Intervals: 40, PerIv: 500, Seed: 1, Process: gatetest.Lognormal(1e6, 0.1)}).Dir)
	if err != nil {
		t.Fatal(err)
	}
	page, figs, err := Build(Input{Cand: cand})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Run("html", func(t *testing.T) {
		path := filepath.Join(dir, "report.html")
		if err := WriteFile(path, page); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := Write(&want, page); err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("file differs from Write's page (%v)", err)
		}
		if err := WriteFile(filepath.Join(dir, "empty.html"), &Page{}); err == nil || !strings.Contains(err.Error(), "title is empty") {
			t.Errorf("empty page: %v", err)
		}
	})
	t.Run("png", func(t *testing.T) {
		pngDir := filepath.Join(dir, "figs", "nested")
		if err := WritePNGs(pngDir, figs, 0); err != nil {
			t.Fatal(err)
		}
		for _, fig := range figs {
			b, err := os.ReadFile(filepath.Join(pngDir, fig.Name+".png"))
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("%s.png: %v", fig.Name, err)
			}
		}
		blocker := filepath.Join(dir, "file")
		if err := os.WriteFile(blocker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := WritePNGs(filepath.Join(blocker, "sub"), figs, 0); err == nil {
			t.Error("folder below a file: no error")
		}
	})
}
