package wcet

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Test is one validity test of the block maxima and its outcome. A bound is reported only when
// every test passes.
type Test struct {
	// Name is "Ljung-Box", "Mann-Kendall" or "Anderson-Darling".
	Name string `json:"name"`
	// Checks says what the test guards: independence, stationarity or fit.
	Checks    string  `json:"checks"`
	Statistic float64 `json:"statistic"`
	PValue    float64 `json:"p_value"`
	// Alpha is the level this test was run at (the family level split over the tests).
	Alpha float64 `json:"alpha"`
	Pass  bool    `json:"pass"`
	// Null says how the p-value was obtained: "chi-square(10)", "normal, tie-corrected",
	// "parametric bootstrap, 199 refits".
	Null string `json:"null"`
}

// String renders "Ljung-Box (independence): Q = 8.31, p = 0.599 (chi-square(10)) pass".
func (t Test) String() string {
	v := "FAIL"
	if t.Pass {
		v = "pass"
	}
	return fmt.Sprintf("%s (%s): %s, p = %.3g (%s) at α = %.3g: %s", t.Name, t.Checks, t.statText(), t.PValue, t.Null, t.Alpha, v)
}

func (t Test) statText() string {
	switch t.Name {
	case "Ljung-Box":
		return fmt.Sprintf("Q = %.4g", t.Statistic)
	case "Mann-Kendall":
		return fmt.Sprintf("Z = %.4g", t.Statistic)
	case "Anderson-Darling":
		return fmt.Sprintf("A² = %.4g", t.Statistic)
	}
	return fmt.Sprintf("%.4g", t.Statistic)
}

// ljungBoxLags is the number of autocorrelation lags tested: min(10, n/5), at least 1. Ten lags
// is the usual choice for short series; n/5 keeps each lag's autocorrelation estimated from
// enough pairs when there are only 30-50 blocks.
func ljungBoxLags(n int) int {
	return max(1, min(10, n/5))
}

// ljungBox tests the series for autocorrelation up to h lags:
// Q = n(n+2) Σ_k ρ_k²/(n−k), chi-square with h degrees of freedom under independence (the
// series is raw data, not model residuals, so no degrees of freedom are subtracted).
func ljungBox(x []float64, h int) (q, p float64) {
	n := len(x)
	mean := stat.Mean(x, nil)
	var den float64
	for _, v := range x {
		den += (v - mean) * (v - mean)
	}
	if den == 0 {
		return 0, 1
	}
	for k := 1; k <= h; k++ {
		var num float64
		for i := k; i < n; i++ {
			num += (x[i] - mean) * (x[i-k] - mean)
		}
		rho := num / den
		q += rho * rho / float64(n-k)
	}
	q *= float64(n) * float64(n+2)
	return q, distuv.ChiSquared{K: float64(h)}.Survival(q)
}

// mannKendall tests the series for a monotonic trend: S = Σ_{i<j} sign(x_j − x_i) with the
// tie-corrected variance and a continuity correction; two-sided normal p-value. Block maxima
// of a stationary process have no trend; a thermal drift or a slowly filling cache does.
func mannKendall(x []float64) (z, p float64) {
	n := len(x)
	var s float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			switch {
			case x[j] > x[i]:
				s++
			case x[j] < x[i]:
				s--
			}
		}
	}
	sorted := append([]float64(nil), x...)
	sort.Float64s(sorted)
	nf := float64(n)
	v := nf * (nf - 1) * (2*nf + 5)
	for i := 0; i < n; {
		j := i
		for j < n && sorted[j] == sorted[i] {
			j++
		}
		if t := float64(j - i); t > 1 {
			v -= t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	v /= 18
	if v <= 0 {
		return 0, 1
	}
	switch {
	case s > 0:
		z = (s - 1) / math.Sqrt(v)
	case s < 0:
		z = (s + 1) / math.Sqrt(v)
	}
	return z, 2 * distuv.UnitNormal.Survival(math.Abs(z))
}

// andersonDarling is the A² statistic of probability-integral-transform values, which are
// uniform on (0,1) when the fitted distribution is right. u is sorted in place. A² weighs the
// tails more than Cramér–von Mises does, and the tail is what a pWCET extrapolates.
func andersonDarling(u []float64) float64 {
	sort.Float64s(u)
	n := len(u)
	const lo, hi = 1e-300, 1 - 1e-16
	var s float64
	for i := range n {
		a := min(max(u[i], lo), hi)
		b := min(max(u[n-1-i], lo), hi)
		s += float64(2*i+1) * (math.Log(a) + math.Log1p(-b))
	}
	return -float64(n) - s/float64(n)
}
