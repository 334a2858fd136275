package plot

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// driftingRounds draws k seeded rounds whose p50s share a slow drift and a per-round factor,
// arm B slower by the factor slower.
func driftingRounds(seed uint64, k int, slower float64) []Round {
	r := rand.New(rand.NewPCG(seed, 0xab))
	out := make([]Round, k)
	for i := range out {
		shared := 2e6 * (1 + 0.3*math.Sin(float64(i)/6)) * math.Exp(0.05*r.NormFloat64())
		out[i] = Round{A: int64(shared * math.Exp(0.01*r.NormFloat64())), B: int64(shared * slower * math.Exp(0.01*r.NormFloat64()))}
	}
	return out
}

func TestPaired(t *testing.T) {
	est := &RatioEstimate{Metric: "p50", Point: 1.152, Lo: 1.139, Hi: 1.166, Confidence: 0.99, Limit: 0.05}
	empty := driftingRounds(2, 30, 1.15)
	empty[4].B, empty[9].A = 0, 0
	spike := driftingRounds(4, 30, 1.15)
	spike[5].B = spike[5].A * 24 / 10
	for _, c := range []struct {
		name   string
		in     Pairing
		points int // of each arm's line and of the ratio's
		texts  []string
		golden bool
	}{
		{"regression", Pairing{Title: "vision: interleaved A/B, 30 rounds", A: "arm A (baseline)", B: "arm B (candidate)", Rounds: driftingRounds(1, 30, 1.15), Estimate: est},
			30, []string{"round", "p50 (ms)", "p50 B/A − 1 (%)", "arm A (baseline)", "arm B (candidate)", "B/A per round", "gate: p50 +15.2% [+13.9%, +16.6%] @ 0.99", "limit +5%", "0%"}, true},
		{"no estimate, sessions", Pairing{Title: "sessions", A: "A", B: "B", Rounds: driftingRounds(3, 32, 1), SessionLen: 8},
			32, []string{"B/A per round"}, false},
		{"empty rounds", Pairing{Title: "holes", A: "A", B: "B", Rounds: empty, Estimate: est}, 29, []string{"gate: p50"}, false},
		// One round 2.4 times slower would flatten the rest to a line: it is drawn at the edge,
		// labelled with its value.
		{"off scale", Pairing{Title: "spike", A: "A", B: "B", Rounds: spike, Estimate: est}, 30, []string{"+140%"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Paired(c.in)
			if err != nil {
				t.Fatal(err)
			}
			svg := render(t, f)
			if len(f.Series) != 3 {
				t.Fatalf("series %+v, want A, B and the ratio", f.Series)
			}
			if f.Series[0].Points != c.points || f.Series[1].Points != c.points || f.Series[0].Name != "A" || f.Series[2].Name != "ratio" {
				t.Errorf("series %+v, want %d points each", f.Series, c.points)
			}
			if c.name == "empty rounds" && f.Series[2].Points != 28 {
				t.Errorf("ratio has %d points, want 28 (two rounds with an empty arm)", f.Series[2].Points)
			}
			hasAll(t, f.Name, texts(t, svg), c.texts...)
			if (c.in.Estimate != nil) != strings.Contains(f.Caption, "99% interval") {
				t.Errorf("caption %q and estimate %v", f.Caption, c.in.Estimate)
			}
			if (c.in.SessionLen > 0) != strings.Contains(f.Caption, "sessions") {
				t.Errorf("caption %q does not say where the sessions are", f.Caption)
			}
			if (c.name == "off scale") != strings.Contains(f.Caption, "far off") {
				t.Errorf("caption %q: want rounds off the scale said for the spike only", f.Caption)
			}
			if c.golden {
				goldenSVG(t, f.Name, svg)
			}
		})
	}
	if _, err := Paired(Pairing{Rounds: []Round{{A: 1e6}, {B: 1e6}}}); err == nil {
		t.Error("no error without a round of both arms")
	}
}
