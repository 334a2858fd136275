package htmlreport

import (
	"bytes"
	"os"
	"path/filepath"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/plot"
)

// WriteFile writes the page to path atomically: a reader never sees half a page.
func WriteFile(path string, p *Page) error {
	var buf bytes.Buffer
	if err := Write(&buf, p); err != nil {
		return err
	}
	return result.WriteFileAtomic(path, buf.Bytes(), 0o644)
}

// WritePNGs writes each figure as dir/<figure>.png at dpi, each atomically, creating dir.
func WritePNGs(dir string, figs []*plot.Figure, dpi int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, fig := range figs {
		b, err := fig.PNG(dpi)
		if err != nil {
			return err
		}
		if err := result.WriteFileAtomic(filepath.Join(dir, fig.Name+".png"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
