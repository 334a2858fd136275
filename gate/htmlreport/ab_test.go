package htmlreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
)

// writeAB writes a synthetic interleaved A/B result of the given rounds, arm B 15% slower under
// a drift both arms share, with a telemetry line per round (the temperature 50 °C plus the
// round).
func writeAB(t *testing.T, dir string, rounds int) *result.Result {
	t.Helper()
	r := gatetest.WriteAB(t, dir, gatetest.ABSpec{Rounds: rounds, PerRound: 400, A: gatetest.Lognormal(1e6, 0.05),
		B: gatetest.Scale(gatetest.Lognormal(1e6, 0.05), 1.15), RoundSD: 0.08, RoundRho: 0.9, ArmSD: 0.003, Seed: 7})
	var lines []byte
	for k := range rounds {
		temp := 50 + float64(k)
		b, err := json.Marshal(result.Telemetry{Time: r.Meta.Start.Add(time.Duration(2*k+2) * time.Second).Format(time.RFC3339), Interval: k, TempC: &temp})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, result.TelemetryFile), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLoadAB checks each arm's timeline is its rounds, in order, on the run's time axis, with
// the temperature of each round; and that a single run is refused.
func TestLoadAB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ab")
	r := writeAB(t, dir, 12)
	a, b, err := LoadAB(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want [2][]int64
	for _, iv := range r.Log.Intervals {
		arm := strings.Index("AB", iv.Tag)
		want[arm] = append(want[arm], iv.Hist.ValueAtQuantile(50))
	}
	for i, arm := range []*Result{a, b} {
		if len(arm.Slots) != 12 || len(arm.Temps) != 12 {
			t.Fatalf("arm %d: %d slots and %d temperatures, want 12 each", i, len(arm.Slots), len(arm.Temps))
		}
		for k, s := range arm.Slots {
			if s.P50 != want[i][k] {
				t.Errorf("arm %d round %d: p50 %d, want the round's %d", i, k, s.P50, want[i][k])
			}
			if tc := arm.Temps[k]; tc.At != s.End || tc.Celsius != 50+float64(k) {
				t.Errorf("arm %d round %d: temperature %+v, want %g °C at the round's end %v", i, k, tc, 50+float64(k), s.End)
			}
		}
		if arm.Run.Meta.Summary != r.Meta.Classes[result.ArmNames[i]] {
			t.Errorf("arm %d: summary %+v is not the arm's", i, arm.Run.Meta.Summary)
		}
	}
	if first := min(a.Slots[0].Start, b.Slots[0].Start); first != 0 || a.Slots[0].Start == b.Slots[0].Start {
		t.Errorf("arms start at %v and %v: want one time axis from the run's first round", a.Slots[0].Start, b.Slots[0].Start)
	}
	single := writeLognormal(t, t.TempDir(), "single", 1, 1e6)
	if _, _, err := LoadAB(single); !errors.Is(err, gate.ErrDesign) {
		t.Errorf("a single run as an A/B: %v, want ErrDesign", err)
	}
}

// TestBuildAB builds the page of an A/B result as `tailgate report AB_RESULT` does: the arms
// named, the design said, the pairing figure first with the gate's p50 estimate; the whole page
// is pinned by testdata/ab.golden.html.
func TestBuildAB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ab")
	writeAB(t, dir, 16)
	a, b, err := LoadAB(dir)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := gate.ParseRules(gate.FlagRules([]string{"p50 < +5%", "p99 < 5ms"}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := gate.CompareAB(a.Run, b.Run, rules, gate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	page, figs, err := Build(Input{Base: a, Cand: b, Report: rep, Decided: true, Generator: "tailgate test"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range page.Figures {
		ids = append(ids, f.ID)
	}
	if got, want := strings.Join(ids, " "), "paired percentiles timeline-baseline timeline-candidate"; got != want {
		t.Errorf("figures %q, want %q", got, want)
	}
	if s := figs[0].Series; len(s) != 3 || s[0].Points != 16 || s[1].Points != 16 || s[2].Points != 16 {
		t.Errorf("pairing series %+v, want 16 rounds each", s)
	}
	if !strings.Contains(figs[0].Caption, "99% interval") {
		t.Errorf("pairing caption %q does not draw the gate's p50 interval", figs[0].Caption)
	}
	if !strings.Contains(page.Title, "interleaved A/B, 16 rounds") || !strings.Contains(page.Subtitle, "arm B (b.onnx") || !strings.Contains(page.Subtitle, "arm A (a.onnx") {
		t.Errorf("title %q, subtitle %q: want the design and both arms", page.Title, page.Subtitle)
	}
	if len(page.Sides) != 2 || page.Sides[0].Name != "arm A (baseline)" || page.Sides[1].Name != "arm B (candidate)" ||
		!strings.HasPrefix(page.Sides[0].Arm, "a.onnx") || !strings.HasPrefix(page.Sides[1].Arm, "b.onnx") {
		t.Errorf("sides %+v", page.Sides)
	}
	var buf bytes.Buffer
	if err := Write(&buf, page); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "ab.golden.html"), []byte(strings.ReplaceAll(buf.String(), dir, "DIR")))
}

// TestArmNames: arms are named in figures by their models' file names, and by their settings
// as well when both run one model.
func TestArmNames(t *testing.T) {
	arm := func(model, opt string) result.Arm {
		return result.Arm{Model: model, Session: map[string]string{"intra_op_num_threads": "1", "graph_optimization": opt}}
	}
	for _, c := range []struct {
		name string
		arms []result.Arm
		want [2]string
	}{
		{"two models", []result.Arm{arm("/m/a.onnx", "all"), arm("/n/b.onnx", "all")}, [2]string{"a.onnx", "b.onnx"}},
		{"two settings", []result.Arm{arm("/m/a.onnx", "all"), arm("/m/a.onnx", "disable")},
			[2]string{"a.onnx, threads 1, graph optimisation all", "a.onnx, threads 1, graph optimisation disable"}},
		{"a worker", []result.Arm{arm("/m/a.onnx", "all"), {Worker: "node w.js", Runtime: "onnxruntime-node", Version: "1.30.0"}},
			[2]string{"a.onnx", "onnxruntime-node 1.30.0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := armNames(&result.AB{Arms: c.arms}); got != c.want {
				t.Errorf("%q, want %q", got, c.want)
			}
		})
	}
}
