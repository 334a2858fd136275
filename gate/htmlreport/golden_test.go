package htmlreport

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// writeLognormal writes a seeded log-normal result with telemetry (CPU temperature) into
// dir/name.
func writeLognormal(t *testing.T, dir, name string, seed uint64, median float64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	s := resulttest.Synthetic{Suite: "vision", Env: gatetest.Env(), Seed: seed, MedianNs: median, Sigma: 0.1, Intervals: 60, PerInterval: 400}
	if _, err := resulttest.Lognormal(p, s); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeTaggedSlots writes a result whose one-second slots each hold an interval of two tags
// (written one after the other, as the harness writes its classes), the second tag slower and
// missing from a fifth of the slots at random, and one telemetry line per slot.
func writeTaggedSlots(t *testing.T, dir string, seed uint64, slots int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x7a66))
	start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	w, err := resulttest.Create(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	var samples int64
	for i := range slots {
		s := start.Add(time.Duration(i) * time.Second)
		for k, tag := range []string{"zeros", "subnormal"} {
			if k == 1 && rng.IntN(5) == 0 {
				continue
			}
			h := result.NewHistogram()
			for range 300 + rng.IntN(200) {
				if err := h.RecordValue(int64((1 + 0.5*float64(k)) * (1e6 + 5e4*rng.ExpFloat64()))); err != nil {
					t.Fatal(err)
				}
			}
			samples += h.TotalCount()
			if err := w.Write(result.Interval{Tag: tag, Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
				t.Fatal(err)
			}
		}
		temp := 60 + 10*float64(i)/float64(slots) + rng.Float64()
		if err := w.Telemetry(result.Telemetry{Time: s.Add(time.Second).Format(time.RFC3339), Interval: i, TempC: &temp}); err != nil {
			t.Fatal(err)
		}
	}
	m := &result.Meta{
		Suite: "tagged", Env: gatetest.Env(), Start: start, End: start.Add(time.Duration(slots) * time.Second),
		Workload: result.Workload{Interval: time.Second}, Health: result.Health{Healthy: true},
		Tool: result.Tool{Name: "tailgate", Version: "synthetic"},
	}
	if err := w.Finish(m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBuildGolden pins whole pages (figures, their data and the pWCET tables) for a comparison
// with telemetry and for a result of two tags, so a change of how the page is computed (from
// streamed summaries rather than whole logs) is seen to change nothing on small runs.
func TestBuildGolden(t *testing.T) {
	dir := t.TempDir()
	base := writeLognormal(t, dir, "base", 1, 1e6)
	cand := writeLognormal(t, dir, "cand", 2, 1.2e6)
	tagged := writeTaggedSlots(t, filepath.Join(dir, "tagged"), 3, 120)
	rules, err := gate.ParseRules(gate.DefaultRuleSources())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		base, cand string
		method     wcet.Method
	}{
		{"comparison", base, cand, wcet.GEV},
		{"tagged", "", tagged, wcet.GPD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := goldenInput(t, tc.base, tc.cand, rules)
			in.WCETMethod = tc.method
			page, _, err := Build(in)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, page); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", tc.name+".golden.html"), []byte(strings.ReplaceAll(buf.String(), dir, "DIR")))
		})
	}
}

// TestFromResultSameAsLoad checks a result read into memory gives the timeline a streamed one
// gives, slot for slot.
func TestFromResultSameAsLoad(t *testing.T) {
	dir := writeTaggedSlots(t, filepath.Join(t.TempDir(), "tagged"), 4, 50)
	streamed, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := FromResult(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(streamed.Slots) != 50 || !slices.Equal(streamed.Slots, whole.Slots) || !slices.Equal(streamed.Temps, whole.Temps) {
		t.Errorf("streamed %+v\nwhole %+v", streamed.Slots, whole.Slots)
	}
	if len(streamed.Temps) != 50 {
		t.Errorf("%d temperatures, want 50", len(streamed.Temps))
	}
}
