package htmlreport

import (
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
)

// goldenInput loads the results and compares them as `tailgate report` does.
func goldenInput(t *testing.T, baseDir, candDir string, rules []gate.Rule) Input {
	t.Helper()
	base, cand, err := LoadPair(baseDir, candDir)
	if err != nil {
		t.Fatal(err)
	}
	var baseRun *gate.Run
	if base != nil {
		baseRun = base.Run
	}
	rep, err := gate.Compare(baseRun, cand.Run, rules, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Input{Base: base, Cand: cand, Report: rep, Decided: base != nil, Generator: "tailgate test"}
}
