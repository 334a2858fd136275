package wcet

import (
	"math"
	"math/rand/v2"
)

// gumbelXi is how close to zero the shape must be to be treated as the Gumbel (ξ = 0) limit.
// The general formulas are evaluated through log1p/expm1, so they are accurate down to about
// this size and the switch is continuous.
const gumbelXi = 1e-9

// gev is a generalised extreme value distribution with location Mu, scale Sigma > 0 and shape
// Xi (ξ > 0 heavy, Fréchet; ξ = 0 Gumbel; ξ < 0 bounded above, reversed Weibull). gonum's
// distuv has Gumbel but no GEV, so the three functions the fit needs are written here.
type gev struct{ Mu, Sigma, Xi float64 }

// t is the GEV's "t(x)": G(x) = exp(−t(x)). It returns +Inf below the support and 0 above it.
func (d gev) t(x float64) float64 {
	z := (x - d.Mu) / d.Sigma
	if math.Abs(d.Xi) < gumbelXi {
		return math.Exp(-z)
	}
	s := d.Xi * z
	if s <= -1 {
		if d.Xi > 0 {
			return math.Inf(1)
		}
		return 0
	}
	return math.Exp(-math.Log1p(s) / d.Xi)
}

// CDF is G(x).
func (d gev) CDF(x float64) float64 { return math.Exp(-d.t(x)) }

// logPDFPow is the log density of G^w, the distribution of the maximum of a block w times the
// reference block: log w − log σ − (1+ξ) log(1+ξz)/ξ − w·t(x). w = 1 is the plain GEV.
func (d gev) logPDFPow(x, w float64) float64 {
	z := (x - d.Mu) / d.Sigma
	if math.Abs(d.Xi) < gumbelXi {
		return math.Log(w) - math.Log(d.Sigma) - z - w*math.Exp(-z)
	}
	s := d.Xi * z
	if s <= -1 {
		return math.Inf(-1)
	}
	l := math.Log1p(s)
	return math.Log(w) - math.Log(d.Sigma) - (1+1/d.Xi)*l - w*math.Exp(-l/d.Xi)
}

// negLogLikPow is −Σ logPDFPow(z[i], w[i]), with lw[i] = log w[i] given: the likelihood the fits
// evaluate a few hundred times per refit, so the logarithms that do not depend on the
// parameters are taken once. Each term is computed exactly as logPDFPow computes it, so the sum
// is the same to the last bit; a point outside the support makes it +Inf.
func (d gev) negLogLikPow(z, w, lw []float64) float64 {
	ls := math.Log(d.Sigma)
	var s float64
	if math.Abs(d.Xi) < gumbelXi {
		for i, x := range z {
			z := (x - d.Mu) / d.Sigma
			s -= lw[i] - ls - z - w[i]*math.Exp(-z)
		}
		return s
	}
	a := 1 + 1/d.Xi
	for i, x := range z {
		v := d.Xi * ((x - d.Mu) / d.Sigma)
		if v <= -1 {
			return math.Inf(1)
		}
		l := math.Log1p(v)
		s -= lw[i] - ls - a*l - w[i]*math.Exp(-l/d.Xi)
	}
	return s
}

// quantileT is the x with t(x) = y, that is G(x) = exp(−y). Taking y rather than a probability
// keeps tiny exceedance probabilities exact: y = −log(1−q) is computed by the caller as
// −n·log1p(−p) without ever forming 1−p.
func (d gev) quantileT(y float64) float64 {
	ly := math.Log(y)
	if math.Abs(d.Xi) < gumbelXi {
		return d.Mu - d.Sigma*ly
	}
	return d.Mu + d.Sigma*math.Expm1(-d.Xi*ly)/d.Xi
}

// draw fills x with maxima of blocks w[i] times the reference block (distribution G^w[i]).
func (d gev) draw(x, w []float64, rng *rand.Rand) {
	for i := range x {
		x[i] = d.quantileT(-math.Log(1-rng.Float64()) / w[i])
	}
}

// upperEnd is the upper end of the support: +Inf unless ξ < 0.
func (d gev) upperEnd() float64 {
	if d.Xi >= -gumbelXi {
		return math.Inf(1)
	}
	return d.Mu - d.Sigma/d.Xi
}

// gpd is a generalised Pareto distribution of exceedances y ≥ 0 over a threshold, with scale
// Sigma > 0 and shape Xi (ξ = 0 is the exponential).
type gpd struct{ Sigma, Xi float64 }

// Survival is P(Y > y).
func (d gpd) Survival(y float64) float64 {
	if y <= 0 {
		return 1
	}
	if math.Abs(d.Xi) < gumbelXi {
		return math.Exp(-y / d.Sigma)
	}
	s := d.Xi * y / d.Sigma
	if s <= -1 {
		return 0
	}
	return math.Exp(-math.Log1p(s) / d.Xi)
}

// logPDF is the log density at y ≥ 0.
func (d gpd) logPDF(y float64) float64 {
	if y < 0 {
		return math.Inf(-1)
	}
	if math.Abs(d.Xi) < gumbelXi {
		return -math.Log(d.Sigma) - y/d.Sigma
	}
	s := d.Xi * y / d.Sigma
	if s <= -1 {
		return math.Inf(-1)
	}
	return -math.Log(d.Sigma) - (1+1/d.Xi)*math.Log1p(s)
}

// quantileSurvival is the y with Survival(y) = s, 0 < s ≤ 1.
func (d gpd) quantileSurvival(s float64) float64 {
	ls := math.Log(s)
	if math.Abs(d.Xi) < gumbelXi {
		return -d.Sigma * ls
	}
	return d.Sigma * math.Expm1(-d.Xi*ls) / d.Xi
}
