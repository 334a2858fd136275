package doctor

import (
	"slices"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/runner/config"
)

func TestOptionsFromConfig(t *testing.T) {
	c := &config.Config{
		Suites: map[string]*config.Suite{
			"vision": {Model: "models/vision.onnx", CPUs: []int{3, 2}},
			"audio":  {Model: "models/audio.onnx", CPUs: []int{3}},
		},
		Pins: config.Pins{Kernel: "6.12.*-rt*", ONNXRuntime: ortlib.PinnedVersion, ModelSHA256: map[string]string{"vision": "ab12", "gone": "cd34"}},
	}
	o := OptionsFromConfig(c)
	if o.Pins.Kernel != "6.12.*-rt*" || o.Pins.ORTVersion != ortlib.PinnedVersion || o.Pins.ORTSHA256 != ortlib.PinnedSHA256[ortlib.CacheArch()] {
		t.Errorf("pins %+v", o.Pins)
	}
	if o.Pins.Models["vision"] != "ab12" || o.Pins.Models["gone"] != "cd34" || len(o.ModelPaths) != 1 || o.ModelPaths["vision"] != "models/vision.onnx" {
		t.Errorf("models %v, paths %v", o.Pins.Models, o.ModelPaths)
	}
	if !slices.Equal(o.CPUs, []int{2, 3}) {
		t.Errorf("CPUs %v, want the suites' union 2,3", o.CPUs)
	}
	t.Run("other ONNX Runtime version: no library hash", func(t *testing.T) {
		c.Pins.ONNXRuntime = "0.0.1"
		if o := OptionsFromConfig(c); o.Pins.ORTSHA256 != "" {
			t.Errorf("hash %q pinned for a version without one", o.Pins.ORTSHA256)
		}
	})
}

func TestReportExit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []Check
		code   int
		errHas string
	}{
		{"warnings pass", []Check{{ID: "a", Status: Pass}, {ID: "b", Status: Warn}}, gate.ExitPass, ""},
		{"host check failed", []Check{{ID: "a", Status: Fail}, {ID: "p", Status: Pass, Pin: true}}, gate.ExitError, "1 check(s) failed"},
		{"pin failed", []Check{{ID: "a", Status: Fail}, {ID: "p", Status: Fail, Pin: true}}, gate.ExitIncomparable, "2 check(s) failed, pins among them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, err := Report{Checks: tc.checks}.Exit()
			if code != tc.code || (tc.errHas == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.errHas)) {
				t.Errorf("Exit() = %d, %v; want %d, %q", code, err, tc.code, tc.errHas)
			}
		})
	}
}
