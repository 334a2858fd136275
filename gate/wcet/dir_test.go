package wcet_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// TestAnalyzeDir: a directory is analysed as its streamed run is, the merged histogram is kept
// (the extremal index needs it for every method), and the SVG figure renders.
func TestAnalyzeDir(t *testing.T) {
	d := t.TempDir()
	gatetest.Write(t, d, gatetest.Spec{Suite: "synth", Intervals: 60, PerIv: 800, Seed: 9,
		Process: gatetest.Tail(gatetest.Lognormal(2e6, 0.1), 0.01, gatetest.Lognormal(4e6, 0.2))})
	for _, tc := range []struct {
		name   string
		method wcet.Method
	}{
		{"gev", wcet.GEV},
		{"gpd", wcet.GPD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, blocks, a, err := wcet.AnalyzeDir(d, wcet.AllTags, wcet.Options{Method: tc.method, Bootstrap: 20})
			if err != nil {
				t.Fatal(err)
			}
			if run.Meta.Suite != "synth" || len(blocks.Max) != 60 || a.Blocks != 60 || blocks.Merged == nil {
				t.Errorf("suite %q, %d blocks, analysed %d, merged %v", run.Meta.Suite, len(blocks.Max), a.Blocks, blocks.Merged != nil)
			}
			svg, err := a.ExceedanceSVG("pWCET exceedance: synth", blocks.Merged, wcet.DefaultProbs)
			if err != nil || !bytes.Contains(svg, []byte("<svg")) {
				t.Errorf("SVG %.40q, %v", svg, err)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing")
		if _, _, _, err := wcet.AnalyzeDir(missing, wcet.AllTags, wcet.Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("missing result: %v", err)
		}
		if _, _, _, err := wcet.AnalyzeDir(d, "nosuch", wcet.Options{}); err == nil || !strings.Contains(err.Error(), `"nosuch"`) {
			t.Errorf("unknown tag: %v", err)
		}
	})
}

func TestFormatProbs(t *testing.T) {
	for _, tc := range []struct {
		probs []float64
		want  string
	}{{wcet.DefaultProbs, "1e-06,1e-09,1e-12"}, {[]float64{0.001}, "0.001"}, {nil, ""}} {
		t.Run(tc.want, func(t *testing.T) {
			got := wcet.FormatProbs(tc.probs)
			if got != tc.want {
				t.Errorf("FormatProbs(%v) = %q, want %q", tc.probs, got, tc.want)
			}
			if back, err := wcet.ParseProbs(got); len(tc.probs) > 0 && (err != nil || !slices.Equal(back, tc.probs)) {
				t.Errorf("ParseProbs(%q) = %v, %v", got, back, err)
			}
		})
	}
}
