package htmlreport

import (
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
)

// goldenInput reads the results and compares them as `tailgate report` does.
func goldenInput(t *testing.T, baseDir, candDir string, rules []gate.Rule) Input {
	t.Helper()
	base, cand, err := gate.ReadPair(baseDir, candDir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gate.CompareResults(base, cand, rules, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Cand: cand, Report: rep, Decided: base != nil, Generator: "tailgate test"}
	if base != nil {
		in.Base = base
	}
	return in
}

