package changepoint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// The calibration of Detect on stable and stepped nightly histories with autocorrelated noise:
// 60 nights whose log values follow a stationary AR(1) with coefficient phi and a marginal
// standard deviation of 2 % (so the innovations have sd 0.02·sqrt(1−phi²)), around a level of
// 10 ms; the stepped histories add +8 % (log 1.08) from night calStepAt on.
//
// By default 40 histories a cell run as a quick seeded check of the targets; with
// TAILGATE_CALIBRATE=1 (`make calibrate`) 400 a cell, or TAILGATE_CALIBRATE=N for N.
const (
	calNights = 60
	calSD     = 0.02
	calStep   = 1.08
	calStepAt = 40
)

// arNights returns n nights of 10 ms · exp(u_t) · factor(t), u a stationary AR(1) with
// coefficient phi and marginal sd sd, its innovations drawn by noise.
func arNights(rng *rand.Rand, n int, phi, sd float64, noise calNoise, factor func(int) float64) []float64 {
	xs := make([]float64, n)
	u := sd * noise(rng)
	inn := sd * math.Sqrt(1-phi*phi)
	for i := range xs {
		if i > 0 {
			u = phi*u + inn*noise(rng)
		}
		xs[i] = 10e6 * math.Exp(u) * factor(i)
	}
	return xs
}

// calCell is one row of the calibration: the share of stable histories with any change point
// (and with any creep), and the share of stepped histories with exactly one change, at the
// step's night (or within one night).
type calCell struct {
	phi                   float64
	spurious, creep       int
	exact, near1, stepped int
	histories             int
}

// calNoise makes the innovations of a cell: Gaussian, or Student t with 3 degrees of freedom
// scaled to the same sd.
type calNoise func(rng *rand.Rand) float64

func gaussian(rng *rand.Rand) float64 { return rng.NormFloat64() }

func studentT3(rng *rand.Rand) float64 {
	chi := 0.0
	for range 3 {
		v := rng.NormFloat64()
		chi += v * v
	}
	return rng.NormFloat64() / math.Sqrt(chi/3) / math.Sqrt(3)
}

// calibrate runs one cell: histories stable histories, and as many with a +8 % step at night
// stepAt, or (stepAt < 0) at a night drawn uniformly from [10, 50].
func calibrate(t testing.TB, phi float64, noise calNoise, stepAt, histories int, seed uint64) calCell {
	rng := rand.New(rand.NewPCG(seed, uint64(phi*1000)))
	c := calCell{phi: phi, histories: histories}
	for h := 0; h < histories; h++ {
		flat := arNights(rng, calNights, phi, calSD, noise, func(int) float64 { return 1 })
		cps, err := Detect(flat, Options{Seed: uint64(h)})
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) > 0 {
			c.spurious++
		}
		if tr, err := Trends(flat, cps, Options{Seed: uint64(h)}); err != nil {
			t.Fatal(err)
		} else if len(tr) > 0 {
			c.creep++
		}
		at := stepAt
		if at < 0 {
			at = 10 + rng.IntN(41)
		}
		stepped := arNights(rng, calNights, phi, calSD, noise, func(i int) float64 { return step(i, at, calStep) })
		cps, err = Detect(stepped, Options{Seed: uint64(h)})
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) == 1 && cps[0].Index == at {
			c.exact++
		}
		if len(cps) == 1 && cps[0].Index >= at-1 && cps[0].Index <= at+1 {
			c.near1++
		}
	}
	return c
}

func share(k, n int) float64 { return float64(k) / float64(n) }

// TestCalibrateAutocorrelated checks the targets: over 60 stable nights with AR(1) phi = 0.8
// noise, a spurious change point in at most 5 % of histories; a +8 % step found, alone and at
// its night, in at least 95 %. phi = 0 and 0.5, a step at a random night and heavy-tailed
// (t3) innovations are reported beside it, with the share of stable histories reported as
// creeping.
//
// By default (`go test`) it runs 12 histories of the phi = 0.8 cells as a smoke test with loose
// statistical bounds; TAILGATE_CALIBRATE=1 (`make calibrate`) runs every cell with 400
// histories (TAILGATE_CALIBRATE=N: N) and checks the targets as stated.
func TestCalibrateAutocorrelated(t *testing.T) {
	histories, full := 12, false
	if v := os.Getenv("TAILGATE_CALIBRATE"); v != "" {
		histories, full = 400, true
		if n, err := strconv.Atoi(v); err == nil && n > 1 {
			histories = n
		}
	} else if testing.Short() {
		t.Skip("calibration")
	}
	t.Logf("%d nights, AR(1) log noise with marginal sd %.0f%%, step %+.0f%%, %d histories a cell (seeded)",
		calNights, 100*calSD, 100*(calStep-1), histories)
	t.Logf("%-5s %-9s %-12s %-10s %-10s %-10s %-10s", "phi", "noise", "step at", "spurious", "creep", "exact", "±1")
	type cellSpec struct {
		phi    float64
		noise  string
		stepAt int
	}
	cells := []cellSpec{{0.8, "normal", calStepAt}, {0.8, "t3", calStepAt}}
	if full {
		cells = nil
		for _, phi := range []float64{0, 0.5, 0.8} {
			cells = append(cells, cellSpec{phi, "normal", calStepAt}, cellSpec{phi, "normal", -1})
		}
		cells = append(cells, cellSpec{0.8, "t3", calStepAt}, cellSpec{0.8, "t3", -1})
	}
	for _, cs := range cells {
		noise := calNoise(gaussian)
		if cs.noise == "t3" {
			noise = studentT3
		}
		at := fmt.Sprint(cs.stepAt)
		if cs.stepAt < 0 {
			at = "U[10,50]"
		}
		c := calibrate(t, cs.phi, noise, cs.stepAt, histories, 2024)
		t.Logf("%-5.1f %-9s %-12s %-10s %-10s %-10s %-10s", cs.phi, cs.noise, at,
			pct(c.spurious, c.histories), pct(c.creep, c.histories), pct(c.exact, c.histories), pct(c.near1, c.histories))
		// The quick run's 12 histories only catch a method that is badly off: 3 or more spurious
		// changes have probability under 2 % at a 5 % rate; fewer than 8 of 12 steps found
		// exactly, under 1 % at the t3 cell's rate of about 70 %.
		maxSpurious, minExact := 0.05, 0.95
		if !full {
			maxSpurious, minExact = 2.5/12, 8.0/12
		} else if cs.phi != 0.8 || cs.noise != "normal" || cs.stepAt < 0 {
			// The targets are stated for phi = 0.8, Gaussian noise and a step at night 40; the
			// other cells are reported, and checked only against gross failure (at phi = 0 a
			// step of 4 sd lands a night off in about 5 % of histories whatever the method).
			maxSpurious, minExact = 0.10, 0.80
		}
		if s := share(c.spurious, c.histories); s > maxSpurious {
			t.Errorf("phi %.1f %s: spurious change points in %.1f%% of stable histories, want <= %.0f%%", cs.phi, cs.noise, 100*s, 100*maxSpurious)
		}
		if s := share(c.creep, c.histories); s > maxSpurious {
			t.Errorf("phi %.1f %s: spurious creep in %.1f%% of stable histories, want <= %.0f%%", cs.phi, cs.noise, 100*s, 100*maxSpurious)
		}
		if s := share(c.exact, c.histories); s < minExact {
			t.Errorf("phi %.1f %s: +8%% step found at its night in %.1f%% of histories, want >= %.0f%%", cs.phi, cs.noise, 100*s, 100*minExact)
		}
	}
}

func pct(k, n int) string { return fmt.Sprintf("%.1f%%", 100*share(k, n)) }
