package stats_test

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/stats"
)

// abSamples draws spec's rounds into one Sample per arm, interval k holding round k.
func abSamples(t *testing.T, spec gatetest.ABSpec) (a, b *stats.Sample) {
	t.Helper()
	hs := [2][]*hdrhistogram.Histogram{make([]*hdrhistogram.Histogram, spec.Rounds), make([]*hdrhistogram.Histogram, spec.Rounds)}
	gatetest.ABProcesses(spec, func(k, arm int, v float64) {
		if hs[arm][k] == nil {
			hs[arm][k] = result.NewHistogram()
		}
		_ = hs[arm][k].RecordValue(int64(v))
	})
	var err error
	if a, err = stats.NewSample(hs[0]...); err != nil {
		t.Fatal(err)
	}
	if b, err = stats.NewSample(hs[1]...); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestComparePaired: drift the two arms share is cancelled by the pairing (the paired interval
// is narrower than the independent one, and still covers the truth), the batching rules apply,
// and the interval and the p-values agree.
func TestComparePaired(t *testing.T) {
	lognormal := gatetest.Lognormal(1e6, 0.1)
	cases := []struct {
		name      string
		spec      gatetest.ABSpec
		st        stats.Stat
		truth     float64
		tooShort  bool
		minTail   int
		narrowerX float64 // the paired width is at most this share of the independent one
	}{
		{"p50 under shared drift", gatetest.ABSpec{Rounds: 40, PerRound: 1000, A: lognormal, B: gatetest.Scale(lognormal, 1.05),
			RoundSD: 0.1, RoundRho: 0.5, ArmSD: 0.002, Seed: 1}, stats.P(50), 1.05, false, 1, 0.5},
		{"mean under shared drift", gatetest.ABSpec{Rounds: 40, PerRound: 1000, A: lognormal, B: lognormal,
			RoundSD: 0.1, RoundRho: 0.5, ArmSD: 0.002, Seed: 2}, stats.Stat{Kind: stats.Mean}, 1, false, 1, 0.5},
		{"p99 batched for exceedances", gatetest.ABSpec{Rounds: 40, PerRound: 400, A: lognormal, B: lognormal,
			RoundSD: 0.05, Seed: 3}, stats.P(99), 1, false, 3, 1},
		{"p99.9 too short", gatetest.ABSpec{Rounds: 40, PerRound: 400, A: lognormal, B: lognormal, Seed: 4}, stats.P(99.9), 1, true, 25, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := abSamples(t, c.spec)
			r, p := stats.ComparePaired(a, b, c.st, 0.99, stats.Options{})
			if p.TooShort() != c.tooShort || p.TailLen != c.minTail || p.Rounds != c.spec.Rounds {
				t.Fatalf("pairing %+v: want too short %v, tail length %d", p, c.tooShort, c.minTail)
			}
			if c.tooShort {
				return
			}
			if !(r.Lo < c.truth && c.truth < r.Hi) {
				t.Errorf("paired interval [%.4f, %.4f] misses the true ratio %g", r.Lo, r.Hi, c.truth)
			}
			if (r.Lo > 1) != (r.PSlower < 0.005) || (r.Hi < 1) != (r.PFaster < 0.005) {
				t.Errorf("interval [%.4f, %.4f] and p-values (%.3g, %.3g) disagree", r.Lo, r.Hi, r.PSlower, r.PFaster)
			}
			ind := stats.Compare(a, b, c.st, 0.99, stats.Options{})
			if pw, iw := math.Log(r.Hi/r.Lo), math.Log(ind.Hi/ind.Lo); pw > c.narrowerX*iw {
				t.Errorf("paired width %.4f is more than %g of the independent %.4f", pw, c.narrowerX, iw)
			}
		})
	}
}

// TestComparePairedUnpaired: arms with different round counts cannot be paired.
func TestComparePairedUnpaired(t *testing.T) {
	a, _ := abSamples(t, gatetest.ABSpec{Rounds: 10, PerRound: 100, A: gatetest.Lognormal(1e6, 0.1), B: gatetest.Lognormal(1e6, 0.1), Seed: 1})
	b, _ := abSamples(t, gatetest.ABSpec{Rounds: 12, PerRound: 100, A: gatetest.Lognormal(1e6, 0.1), B: gatetest.Lognormal(1e6, 0.1), Seed: 1})
	if r, _ := stats.ComparePaired(a, b, stats.P(50), 0.99, stats.Options{}); !math.IsNaN(r.Point) {
		t.Fatalf("ratio %g of unpaired arms, want NaN", r.Point)
	}
}

// TestComparePairedSessions: with SessionLen the units are the sessions, so an offset each
// session's fresh processes give arm B (which no round within a session sees) widens the
// interval, on sessions−1 degrees of freedom; fewer than MinSessions sessions are too short.
func TestComparePairedSessions(t *testing.T) {
	lognormal := gatetest.Lognormal(1e6, 0.1)
	offsets := []float64{1.04, 0.97, 1.02, 0.95, 1.03, 0.99}
	const rounds = 10
	var hs [2][]*hdrhistogram.Histogram
	for s, f := range offsets {
		spec := gatetest.ABSpec{Rounds: rounds, PerRound: 500, A: lognormal, B: gatetest.Scale(lognormal, f), RoundSD: 0.05, Seed: uint64(s + 1)}
		part := [2][]*hdrhistogram.Histogram{make([]*hdrhistogram.Histogram, rounds), make([]*hdrhistogram.Histogram, rounds)}
		gatetest.ABProcesses(spec, func(k, arm int, v float64) {
			if part[arm][k] == nil {
				part[arm][k] = result.NewHistogram()
			}
			_ = part[arm][k].RecordValue(int64(v))
		})
		hs[0], hs[1] = append(hs[0], part[0]...), append(hs[1], part[1]...)
	}
	for _, c := range []struct {
		name     string
		sessions int
		tooShort bool
	}{{"6 sessions", 6, false}, {"3 sessions", 3, true}} {
		t.Run(c.name, func(t *testing.T) {
			n := c.sessions * rounds
			a, err := stats.NewSample(hs[0][:n]...)
			if err != nil {
				t.Fatal(err)
			}
			b, err := stats.NewSample(hs[1][:n]...)
			if err != nil {
				t.Fatal(err)
			}
			r, p := stats.ComparePaired(a, b, stats.P(50), 0.99, stats.Options{SessionLen: rounds})
			if !p.Sessions || p.Units != c.sessions || p.Len != rounds || p.TooShort() != c.tooShort {
				t.Fatalf("pairing %+v: want %d units of one session each, too short %v", p, c.sessions, c.tooShort)
			}
			if c.tooShort {
				return
			}
			perRound, _ := stats.ComparePaired(a, b, stats.P(50), 0.99, stats.Options{})
			if math.Log(r.Hi/r.Lo) <= math.Log(perRound.Hi/perRound.Lo) {
				t.Errorf("session interval [%.4f, %.4f] is not wider than the per-round [%.4f, %.4f]", r.Lo, r.Hi, perRound.Lo, perRound.Hi)
			}
			if !(r.Lo < 1 && 1 < r.Hi) {
				t.Errorf("session interval [%.4f, %.4f] misses the mean offset, about 1", r.Lo, r.Hi)
			}
		})
	}
}

// TestComparePairedAcrossAGap: a machine that flips between a fast and a slow state puts the
// pooled median of an A/A pair in the gap between them, and two rounds in which arm B alone
// caught the slow state move B's median across it. The linearisation's slope across the gap
// understates how far the median moves; the paired bootstrap sees it, so the interval reaches
// no change instead of calling the +20 % a certain slowdown.
func TestComparePairedAcrossAGap(t *testing.T) {
	const rounds, per = 40, 500
	fast, slow := gatetest.Lognormal(690e3, 0.01), gatetest.Lognormal(850e3, 0.01)
	rng := rand.New(rand.NewPCG(5, 6))
	hs := [2][]*hdrhistogram.Histogram{}
	for k := range rounds {
		for arm := range 2 {
			d := fast
			if k < rounds/2 || (arm == 1 && (k == 25 || k == 26)) {
				d = slow
			}
			h := result.NewHistogram()
			for range per {
				_ = h.RecordValue(int64(d(rng, nil)))
			}
			hs[arm] = append(hs[arm], h)
		}
	}
	a, err := stats.NewSample(hs[0]...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := stats.NewSample(hs[1]...)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := stats.ComparePaired(a, b, stats.P(50), 0.99, stats.Options{})
	if r.Point < 1.15 || r.Lo > 1 {
		t.Errorf("p50 B/A %.3f [%.3f, %.3f]: want the median across the gap (≥ +15 %%) with an interval that reaches no change", r.Point, r.Lo, r.Hi)
	}
}
