package gate_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// TestReadReport reads back a report as compare writes it and refuses what it does not know.
func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	base := gatetest.Write(t, t.TempDir(), spec(1, body(1)))
	cand := gatetest.Write(t, t.TempDir(), spec(2, body(1)))
	rep, err := gate.CompareResults(base, cand, rules(t, gate.DefaultRules...), gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	good, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body, errHas string
	}{
		{"as written", string(good), ""},
		{"unknown field", `{"schema":1,"verdit":"pass"}`, "not a comparison report"},
		{"future schema", `{"schema":99}`, "report schema 99 not supported"},
		{"no schema", `{}`, "report schema 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := gate.ReadReport(path)
			if tc.errHas == "" {
				if err != nil || got.Verdict != rep.Verdict || len(got.Rules) != len(rep.Rules) {
					t.Fatalf("ReadReport = %+v, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want %q naming the file", err, tc.errHas)
			}
		})
	}
	if _, err := gate.ReadReport(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}
