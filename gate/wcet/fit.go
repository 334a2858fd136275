package wcet

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// Shape limits of the fits. Below ξ = −1 the GEV likelihood is unbounded (the upper end
// collapses onto the largest maximum), and the maximum-likelihood estimator is regular (its
// bootstrap and its fit test meaningful) only for ξ > −0.5 (Smith 1985): below that a few dozen
// maxima would pin a finite end point. A block maximum of latencies with ξ beyond those limits
// says the model is wrong, not that the worst case is known; the fit test judges the fit at the
// limit.
const (
	minXi = -0.5
	maxXi = 1.0
)

// errNoFit is returned when the optimiser does not find a finite likelihood.
var errNoFit = errors.New("maximum-likelihood fit did not converge")

// objective is a function to minimise, with its gradient when it has one. gradTol is the
// gradient norm at which the minimum is found: it scales with the number of data points, whose
// log-likelihood terms the gradient sums, because below that the function's own rounding hides
// any further improvement.
type objective struct {
	f       func([]float64) float64
	grad    func(g, x []float64)
	gradTol float64
}

// minimize minimises o from x0: by BFGS when o has a gradient (the GEV likelihoods, evaluated on
// thousands of maxima: a dozen evaluations per fit instead of a few hundred), else, and whenever
// BFGS stops short (a line search that runs into the support boundary or a shape limit), by
// gonum's Nelder–Mead, which needs neither a gradient nor smoothness at the boundary.
func minimize(o objective, x0 []float64) ([]float64, float64, error) {
	if v := o.f(x0); math.IsInf(v, 0) || math.IsNaN(v) {
		return nil, 0, fmt.Errorf("%w: the starting point has no likelihood", errNoFit)
	}
	if o.grad != nil {
		settings := &optimize.Settings{GradientThreshold: o.gradTol, FuncEvaluations: 2000}
		res, err := optimize.Minimize(optimize.Problem{Func: o.f, Grad: o.grad}, x0, settings, &optimize.BFGS{Linesearcher: &optimize.Backtracking{}})
		if err == nil && res.Status == optimize.GradientThreshold {
			return res.X, res.F, nil
		}
	}
	settings := &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-12, Iterations: 20},
		FuncEvaluations: 20000,
	}
	res, err := optimize.Minimize(optimize.Problem{Func: o.f}, x0, settings, &optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, 0, fmt.Errorf("%w: %w", errNoFit, err)
	}
	if math.IsInf(res.F, 0) || math.IsNaN(res.F) {
		return nil, 0, errNoFit
	}
	return res.X, res.F, nil
}

// bestStart minimises f from x0 extended by each shape start and keeps the best optimum:
// Nelder–Mead can stall on the flat side of the support boundary when ξ starts on the wrong
// side of zero.
func bestStart(o objective, x0, xiStarts []float64) ([]float64, float64, error) {
	best, bestF := []float64(nil), math.Inf(1)
	for _, xi0 := range xiStarts {
		p, v, err := minimize(o, append(slices.Clone(x0), xi0))
		if err == nil && v < bestF {
			best, bestF = p, v
		}
	}
	if best == nil {
		return nil, 0, errNoFit
	}
	return best, bestF, nil
}

// scaling maps data to z = (x − Loc)/Scale so that the optimiser works on numbers near 1
// whatever the latency unit.
type scaling struct{ Loc, Scale float64 }

func newScaling(x, weights []float64) (scaling, error) {
	m, s := stat.MeanStdDev(x, weights)
	if !(s > 0) || math.IsInf(s, 0) {
		return scaling{}, errors.New("every value is the same: there is no tail to fit")
	}
	return scaling{Loc: m, Scale: s}, nil
}

// fitGEV fits a GEV to block maxima x by maximum likelihood, block i counting as w[i] reference
// blocks (its maximum has distribution G^w[i]; see Analyze). When gumbel is set ξ is held at 0.
// A non-nil start (a bootstrap refit starting from the original fit) is the only start point.
func fitGEV(x, w []float64, gumbel bool, start *gev) (gev, float64, error) {
	sc, err := newScaling(x, nil)
	if err != nil {
		return gev{}, 0, err
	}
	z := make([]float64, len(x))
	lw := make([]float64, len(x))
	for i, v := range x {
		z[i] = (v - sc.Loc) / sc.Scale
		lw[i] = math.Log(w[i])
	}
	g := &gevObjective{z: z, w: w, lw: lw, gumbel: gumbel}
	obj := objective{f: g.Func, grad: g.Grad, gradTol: 1e-7 * float64(len(z))}
	// Start from the Gumbel method of moments (σ = s√6/π, μ = mean − γσ on the scaled data).
	sigma0 := math.Sqrt(6) / math.Pi
	x0 := []float64{-0.5772156649 * sigma0, math.Log(sigma0)}
	starts := []float64{-0.1, 0.1}
	if start != nil {
		x0 = []float64{(start.Mu - sc.Loc) / sc.Scale, math.Log(start.Sigma / sc.Scale)}
		starts = []float64{start.Xi}
	}
	if gumbel {
		p, f, err := minimize(obj, x0)
		if err != nil {
			return gev{}, 0, err
		}
		return gev{Mu: sc.Loc + sc.Scale*p[0], Sigma: sc.Scale * math.Exp(p[1])}, -f - float64(len(x))*math.Log(sc.Scale), nil
	}
	// Two starts, light and heavy; bestStart keeps the better.
	best, bestF, err := bestStart(obj, x0, starts)
	if err != nil {
		return gev{}, 0, err
	}
	d := gev{Mu: sc.Loc + sc.Scale*best[0], Sigma: sc.Scale * math.Exp(best[1]), Xi: best[2]}
	return d, -bestF - float64(len(x))*math.Log(sc.Scale), nil
}

// fitGPD fits a GPD to exceedances y (all > 0), exceedance i standing for c[i] observations
// (the bucket counts of a histogram), by maximum likelihood. A non-nil start is the only start
// point, as for fitGEV.
func fitGPD(y, c []float64, start *gpd) (gpd, float64, error) {
	var n float64
	for _, v := range c {
		n += v
	}
	m := stat.Mean(y, c)
	if !(m > 0) {
		return gpd{}, 0, errors.New("no exceedance above the threshold")
	}
	z := make([]float64, len(y))
	for i, v := range y {
		z[i] = v / m
	}
	nll := func(p []float64) float64 {
		d := gpd{Sigma: math.Exp(p[0]), Xi: p[1]}
		if d.Xi < minXi || d.Xi > maxXi {
			return math.Inf(1)
		}
		var s float64
		for i, v := range z {
			s -= c[i] * d.logPDF(v)
		}
		if math.IsNaN(s) {
			return math.Inf(1)
		}
		return s
	}
	x0, starts := []float64{0}, []float64{-0.1, 0.1}
	if start != nil {
		x0, starts = []float64{math.Log(start.Sigma / m)}, []float64{start.Xi}
	}
	best, bestF, err := bestStart(objective{f: nll}, x0, starts)
	if err != nil {
		return gpd{}, 0, err
	}
	return gpd{Sigma: m * math.Exp(best[0]), Xi: best[1]}, -bestF - n*math.Log(m), nil
}
