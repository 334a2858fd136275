package wcet_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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

// writeTagged writes a seeded result whose time slots hold intervals of several tags with unequal
// sample counts, one slot whose intervals are all empty, one tag missing from some slots and a
// cut-short last slot: everything BlocksOf merges or drops.
func writeTagged(t *testing.T, dir string, seed uint64, slots int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x7a66))
	start := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	w, err := resulttest.Create(dir, start)
	if err != nil {
		t.Fatal(err)
	}
	for i := range slots {
		s := start.Add(time.Duration(i) * time.Second)
		for k, tag := range []string{"small", "large", "odd"} {
			if tag == "odd" && i%3 != 0 {
				continue
			}
			n := 200 + rng.IntN(400)
			switch {
			case i == 7:
				n = 0
			case i == slots-1:
				n = 3 + k
			}
			h := result.NewHistogram()
			for range n {
				v := (1 + float64(k)) * (1e6 + 4e4*rng.ExpFloat64())
				if err := h.RecordValue(int64(v)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Write(result.Interval{Tag: tag, Start: s, End: s.Add(time.Second), Hist: h}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := &result.Meta{
		Suite: "tagged", Env: gatetest.Env(), Start: start, End: start.Add(time.Duration(slots) * time.Second),
		Health: result.Health{Healthy: true},
	}
	if err := w.Finish(m); err != nil {
		t.Fatal(err)
	}
}

// streamCases are the seeded results both paths analyse, by name.
func streamCases(t *testing.T) map[string]string {
	t.Helper()
	dirs := map[string]string{}
	for _, seed := range []uint64{3, 4} {
		d := t.TempDir()
		writeTagged(t, d, seed, 70)
		dirs[fmt.Sprintf("tagged-%d", seed)] = d
	}
	d := t.TempDir()
	gatetest.Write(t, d, gatetest.Spec{Suite: "synth", Intervals: 60, PerIv: 800, Seed: 9,
		Process: gatetest.Tail(gatetest.Lognormal(2e6, 0.1), 0.01, gatetest.Lognormal(4e6, 0.2))})
	dirs["gatetest-tail"] = d
	d = t.TempDir()
	gatetest.Write(t, d, gatetest.Spec{Suite: "synth", Intervals: 45, PerIv: 1500, Seed: 11,
		Process: gatetest.Drift(gatetest.Lognormal(1e6, 0.05), 0.5, 0.02)})
	dirs["gatetest-drift"] = d
	return dirs
}

// streamTags are the tag selections analysed per result: every tag merged per slot, and one tag.
var streamTags = map[string][]string{
	"tagged-3": {wcet.AllTags, "large"}, "tagged-4": {wcet.AllTags, "odd"},
	"gatetest-tail": {wcet.AllTags}, "gatetest-drift": {wcet.AllTags},
}

// outcome is everything an analysis reports, for comparison as JSON (shortest round-trip floats,
// so equal JSON is bit-identical numbers).
type outcome struct {
	Analysis *wcet.Analysis
	Bounds   []wcet.Bound
	Upper90  []float64
}

func outcomeOf(a *wcet.Analysis) outcome {
	// 0.3 is above any GPD tail share: the merged histogram answers it.
	probs := []float64{0.3, 1e-3, 1e-6, 1e-9, 1e-12}
	o := outcome{Analysis: a, Bounds: a.Bounds(probs)}
	for _, p := range probs {
		v, _, _ := a.Upper(p, 0.9)
		o.Upper90 = append(o.Upper90, v)
	}
	return o
}

// histogramOutcomes analyses each case the way results read into memory are: result.Read,
// BlocksOf, Analyze.
func histogramOutcomes(t *testing.T, dirs map[string]string) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for name, dir := range dirs {
		r, err := result.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range streamTags[name] {
			ivs, err := wcet.BlocksOf(r, tag)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []wcet.Method{wcet.GEV, wcet.Gumbel, wcet.GPD} {
				a, err := wcet.Analyze(ivs, wcet.Options{Method: m, Bootstrap: 39, MinBlocks: 20, TailSize: 300})
				if err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s/%q/%s", name, tag, m)] = outcomeOf(a)
			}
		}
	}
	return out
}

// runOutcomes analyses each case from a gate.Run: streamed by gate.LoadRun when stream is set,
// else read with result.Read and added with gate.NewRun.
func runOutcomes(t *testing.T, dirs map[string]string, stream bool) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for name, dir := range dirs {
		var run *gate.Run
		var err error
		if stream {
			run, err = gate.LoadRun(dir)
		} else {
			var r *result.Result
			if r, err = result.Read(dir); err == nil {
				run, err = gate.NewRun(r)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range streamTags[name] {
			for _, m := range []wcet.Method{wcet.GEV, wcet.Gumbel, wcet.GPD} {
				b, err := wcet.BlocksOfRun(run, tag)
				if err != nil {
					t.Fatal(err)
				}
				a, err := wcet.AnalyzeBlocks(b, wcet.Options{Method: m, Bootstrap: 39, MinBlocks: 20, TailSize: 300})
				if err != nil {
					t.Fatal(err)
				}
				out[fmt.Sprintf("%s/%q/%s", name, tag, m)] = outcomeOf(a)
			}
		}
	}
	return out
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestHistogramPathGolden pins the analyses of results read into memory to the numbers recorded
// before the streamed input existed, so the refactoring under both paths changed nothing.
func TestHistogramPathGolden(t *testing.T) {
	got := marshal(t, histogramOutcomes(t, streamCases(t)))
	golden.Check(t, filepath.Join("testdata", "stream.golden.json"), got)
}

// TestStreamedSameAsHistograms runs the analysis of every case from a streamed run and from a run
// added in memory, and requires the fits, test statistics and bounds of the histogram path,
// number for number: the bootstrap consumes the same inputs in the same order.
func TestStreamedSameAsHistograms(t *testing.T) {
	dirs := streamCases(t)
	want := histogramOutcomes(t, dirs)
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			got := runOutcomes(t, dirs, stream)
			if len(got) != len(want) {
				t.Fatalf("%d analyses, want %d", len(got), len(want))
			}
			for k, w := range want {
				if g, w := marshal(t, got[k]), marshal(t, w); !bytes.Equal(g, w) {
					t.Errorf("%s: streamed analysis differs:\n%s\nwant\n%s", k, g, w)
				}
			}
		})
	}
}

// TestBlocksOfRunErrors checks the errors name the result and the tags it has.
func TestBlocksOfRunErrors(t *testing.T) {
	d := t.TempDir()
	writeTagged(t, d, 5, 12)
	run, err := gate.LoadRun(d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = wcet.BlocksOfRun(run, "missing")
	if err == nil || !strings.Contains(err.Error(), d) || !strings.Contains(err.Error(), `"large", "odd", "small"`) {
		t.Errorf("unknown tag: error %v", err)
	}
	if _, err := wcet.BlocksOfRun(&gate.Run{}, wcet.AllTags); err == nil {
		t.Error("a run without intervals: no error")
	}
	if _, err := wcet.AnalyzeBlocks(wcet.Blocks{Count: []int64{1}}, wcet.Options{}); err == nil {
		t.Error("blocks of unequal lengths: no error")
	}
	b, err := wcet.BlocksOfRun(run, wcet.AllTags)
	if err != nil {
		t.Fatal(err)
	}
	if b.Merged == nil {
		t.Error("BlocksOfRun did not merge the run's tails")
	}
	b.Merged = nil
	if _, err := wcet.AnalyzeBlocks(b, wcet.Options{Method: wcet.GPD}); err == nil || !strings.Contains(err.Error(), "merged histogram") {
		t.Errorf("gpd without the merged histogram: error %v", err)
	}
}
