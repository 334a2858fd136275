package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// expProcess is 1 ms plus an exponential tail of mean 50 µs: per-inference quantile at p is
// 1 ms − 50 µs·ln p (1.69 ms at 1e-6).
func expProcess(rng *rand.Rand, _ *float64) float64 { return 1e6 + 5e4*rng.ExpFloat64() }

func writeWCETResult(t *testing.T, name string, spec gatetest.Spec) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	gatetest.Write(t, p, spec)
	return p
}

func TestWCETCommand(t *testing.T) {
	good := writeWCETResult(t, "good", gatetest.Spec{Suite: "synth", Intervals: 60, PerIv: 1000, Seed: 3, Process: expProcess})
	trend := writeWCETResult(t, "trend", gatetest.Spec{Suite: "synth", Intervals: 60, PerIv: 1000, Seed: 4,
		Process: func(rng *rand.Rand, st *float64) float64 {
			*st += 1.0 / 1000
			return (1 + 0.003**st) * expProcess(rng, st)
		}})
	short := writeWCETResult(t, "short", gatetest.Spec{Suite: "synth", Intervals: 12, PerIv: 1000, Seed: 5, Process: expProcess})

	t.Run("table golden", func(t *testing.T) {
		code, out, errs := runCLI(t, "wcet", good, "--bootstrap", "99")
		if code != exitPass {
			t.Fatalf("exit %d: %s%s", code, out, errs)
		}
		golden.Check(t, filepath.Join("testdata", "wcet", "good.txt"), []byte(strings.ReplaceAll(out, good, "RESULT")))
	})
	t.Run("json and svg", func(t *testing.T) {
		svg := filepath.Join(t.TempDir(), "x.svg")
		code, out, errs := runCLI(t, "wcet", good, "--format", "json", "--prob", "1e-6", "--method", "gpd", "--bootstrap", "49", "--svg", svg)
		if code != exitPass {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var rep wcet.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Bounds) != 1 || !rep.Bounds[0].OK || rep.Analysis.Method != wcet.GPD || rep.Analysis.Blocks != 60 {
			t.Fatalf("report %+v", rep)
		}
		if v := rep.Bounds[0].EstimateNs; v < 1.52e6 || v > 1.86e6 {
			t.Errorf("pWCET(1e-6) %.0f ns, truth 1.69e6 ± 10 %%", v)
		}
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		checkSVG(t, b)
	})
	t.Run("trend refused", func(t *testing.T) {
		code, out, errs := runCLI(t, "wcet", trend, "--bootstrap", "49")
		if code != exitInconclusive || !strings.Contains(out, "Mann-Kendall") || !strings.Contains(errs, "Mann-Kendall (stationarity): Z = ") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		if strings.Contains(out, "upper") {
			t.Errorf("a bound was printed for a refused analysis:\n%s", out)
		}
	})
	t.Run("too few intervals", func(t *testing.T) {
		code, out, _ := runCLI(t, "wcet", short)
		if code != exitInconclusive || !strings.Contains(out, "need at least 30 block maxima (intervals), have 12") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("bad flags all at once", func(t *testing.T) {
		code, _, errs := runCLI(t, "wcet", good, "--prob", "2,x,1e-9", "--method", "weibull", "--format", "xml", "--alpha", "0.9")
		if code != exitError {
			t.Fatalf("exit %d", code)
		}
		for _, want := range []string{`--prob: "2", "x"`, `method "weibull"`, `--format "xml"`, "alpha 0.9"} {
			if !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs)
			}
		}
	})
	t.Run("unknown tag", func(t *testing.T) {
		code, _, errs := runCLI(t, "wcet", good, "--tag", "subnormal")
		if code != exitError || !strings.Contains(errs, `no intervals tagged "subnormal"`) {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Run("missing result", func(t *testing.T) {
		code, _, errs := runCLI(t, "wcet", filepath.Join(t.TempDir(), "nope"))
		if code != exitError || !strings.Contains(errs, "meta.json") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
}

// checkSVG parses the document as XML and checks it draws a plot.
func checkSVG(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	elems := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			elems++
		}
	}
	if elems < 60 || !strings.HasPrefix(strings.TrimSpace(string(b)), "<?xml") {
		t.Errorf("SVG has %d elements", elems)
	}
}
