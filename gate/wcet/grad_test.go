package wcet

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNegLogLikGrad checks the analytic gradient against central differences of the value, and
// the value against negLogLikPow, on shapes from the bounded to the heavy side and through the
// series region around ξ = 0.
func TestNegLogLikGrad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	truth := gev{Mu: 0, Sigma: 1, Xi: 0.1}
	z, w, lw := make([]float64, 200), make([]float64, 200), make([]float64, 200)
	for i := range w {
		w[i] = 0.8 + 0.4*r.Float64()
		lw[i] = math.Log(w[i])
	}
	truth.draw(z, w, r)
	for _, xi := range []float64{-0.3, -0.05, -1e-4, -1e-7, 0, 1e-12, 1e-7, 2e-4, 0.05, 0.4} {
		p := []float64{0.1, math.Log(1.1), xi}
		o := &gevObjective{z: z, w: w, lw: lw}
		f := o.Func(p)
		want := gev{Mu: p[0], Sigma: math.Exp(p[1]), Xi: xi}.negLogLikPow(z, w, lw)
		if f != want {
			t.Errorf("ξ = %g: value %v, negLogLikPow %v", xi, f, want)
		}
		g := make([]float64, 3)
		o.Grad(g, p)
		for j := range p {
			h := 1e-6
			up, dn := append([]float64(nil), p...), append([]float64(nil), p...)
			up[j] += h
			dn[j] -= h
			num := (o.Func(up) - o.Func(dn)) / (2 * h)
			if math.Abs(num-g[j]) > 1e-4*math.Max(1, math.Abs(num)) {
				t.Errorf("ξ = %g: ∂/∂p%d = %v, central difference %v", xi, j, g[j], num)
			}
		}
	}
}
