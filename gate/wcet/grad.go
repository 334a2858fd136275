package wcet

import (
	"math"
	"slices"
)

// gevObjective is the GEV negative log-likelihood of the scaled maxima z (block i counting w[i]
// reference blocks) as a function of p = (μ, log σ, ξ), with its analytic gradient, for the
// quasi-Newton fit. gonum asks for the value and the gradient at the same point one after the
// other, so both are computed in one pass over the data and the last point is remembered.
type gevObjective struct {
	z, w, lw []float64
	gumbel   bool
	last     []float64
	f        float64
	g        [3]float64
}

func (o *gevObjective) Func(p []float64) float64 {
	o.eval(p)
	return o.f
}

func (o *gevObjective) Grad(grad, p []float64) {
	o.eval(p)
	copy(grad, o.g[:len(grad)])
}

func (o *gevObjective) eval(p []float64) {
	if o.last != nil && slices.Equal(o.last, p) {
		return
	}
	o.last = append(o.last[:0], p...)
	d := gev{Mu: p[0], Sigma: math.Exp(p[1])}
	if !o.gumbel {
		d.Xi = p[2]
	}
	o.f, o.g = d.negLogLikGrad(o.z, o.w, o.lw)
	if !o.gumbel && (d.Xi < minXi || d.Xi > maxXi) {
		o.f = math.Inf(1)
	}
	if math.IsNaN(o.f) {
		o.f = math.Inf(1)
	}
}

// negLogLikGrad is negLogLikPow (summed the same way, so the value is the same to the last bit)
// with its gradient in (μ, log σ, ξ). With y = (x−μ)/σ, v = ξy and t = (1+v)^(−1/ξ), a term is
// −log w + log σ + (1+1/ξ)·log(1+v) + w·t, whose partial derivatives are
// ∂/∂μ = −g/σ and ∂/∂log σ = 1 − y·g with g = ((1+ξ) − w·t)/(1+v), and
// ∂/∂ξ = y/(1+v) + (w·t − 1)·D with D = (log(1+v) − v/(1+v))/ξ², which cancels badly for small
// v and is taken from its series there (D → y²/2 at ξ = 0, the Gumbel limit).
func (d gev) negLogLikGrad(z, w, lw []float64) (f float64, g [3]float64) {
	ls := math.Log(d.Sigma)
	inv := 1 / d.Sigma
	if math.Abs(d.Xi) < gumbelXi {
		for i, x := range z {
			y := (x - d.Mu) / d.Sigma
			t := math.Exp(-y)
			f -= lw[i] - ls - y - w[i]*t
			gy := 1 - w[i]*t
			g[0] -= gy * inv
			g[1] += 1 - y*gy
			g[2] += y + (w[i]*t-1)*y*y/2
		}
		return f, g
	}
	a := 1 + 1/d.Xi
	for i, x := range z {
		y := (x - d.Mu) / d.Sigma
		v := d.Xi * y
		if v <= -1 {
			return math.Inf(1), g
		}
		l := math.Log1p(v)
		t := math.Exp(-l / d.Xi)
		f -= lw[i] - ls - a*l - w[i]*t
		c := 1 / (1 + v)
		gy := ((1 + d.Xi) - w[i]*t) * c
		g[0] -= gy * inv
		g[1] += 1 - y*gy
		var dd float64
		if math.Abs(v) < 1e-3 {
			// Σ (−1)^k (k+1)/(k+2) v^k to k = 5: the error is below 1e-18.
			dd = y * y * (1.0/2 + v*(-2.0/3+v*(3.0/4+v*(-4.0/5+v*(5.0/6-v*6.0/7)))))
		} else {
			dd = (l - v*c) / (d.Xi * d.Xi)
		}
		g[2] += y*c + (w[i]*t-1)*dd
	}
	return f, g
}
