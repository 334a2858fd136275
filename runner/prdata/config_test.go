package prdata

import (
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/runner/config"
)

const prConfig = `version: 1
suites:
  det:
    model: ./models/det.onnx
    inputs:
      x: { shape: [1, 4], fill: "file=inputs/x.bin" }
  abs:
    model: /opt/models/fixed.onnx
  syn:
    backend: synthetic
ci:
  pr_data: [inputs/x.bin, models/det.onnx.data]
  pr_data_max_mib: 64
`

func TestPlanAndApply(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(prConfig))
	if err != nil {
		t.Fatal(err)
	}
	names := cfg.SuiteNames()
	paths, notes := Plan(cfg, names)
	if got := strings.Join(paths, ","); got != "./models/det.onnx,inputs/x.bin,models/det.onnx.data" {
		t.Fatalf("paths %s", got)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "/opt/models/fixed.onnx") {
		t.Fatalf("notes %q", notes)
	}
	Apply(cfg, names, map[string]string{"./models/det.onnx": "/w/pr-data/models/det.onnx", "inputs/x.bin": "/w/pr-data/inputs/x.bin"})
	if m := cfg.Suites["det"].Model; m != "/w/pr-data/models/det.onnx" {
		t.Errorf("det model %s", m)
	}
	if f := cfg.Suites["det"].Inputs["x"].Fill; f != "file=/w/pr-data/inputs/x.bin" {
		t.Errorf("input fill %s", f)
	}
	if m := cfg.Suites["abs"].Model; m != "/opt/models/fixed.onnx" {
		t.Errorf("abs model %s", m)
	}
	if cfg.CI.PRDataMaxMiB != 64 {
		t.Errorf("max %d", cfg.CI.PRDataMaxMiB)
	}
}

func TestConfigRefusesEscapingPRData(t *testing.T) {
	for _, p := range []string{"../secret", "/etc/passwd", "a/../../b", ".git/config"} {
		_, err := config.Parse("t.yaml", []byte("version: 1\nsuites:\n  s:\n    backend: synthetic\nci:\n  pr_data: [\""+p+"\"]\n"))
		if err == nil || !strings.Contains(err.Error(), "ci.pr_data") {
			t.Errorf("%s: %v", p, err)
		}
	}
}
