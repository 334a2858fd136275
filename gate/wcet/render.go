package wcet

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tailgate-ci/tailgate/gate"
)

// Report is what the wcet command prints: the analysis and its bounds, with where they came from.
type Report struct {
	Result string `json:"result"`
	// Tag is the interval tag analysed; empty when every tag was merged per time slot.
	Tag      string    `json:"tag,omitempty"`
	Analysis *Analysis `json:"analysis"`
	Bounds   []Bound   `json:"bounds"`
}

// NewReport evaluates the bounds at probs.
func NewReport(dir, tag string, a *Analysis, probs []float64) *Report {
	return &Report{Result: dir, Tag: tag, Analysis: a, Bounds: a.Bounds(probs)}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal: what was fitted, each test with its statistic,
// p-value and verdict, then the bounds or the reason there are none.
func (r *Report) WriteText(w io.Writer) error {
	a := r.Analysis
	var b strings.Builder
	scope := "every tag merged per interval"
	if r.Tag != "" {
		scope = fmt.Sprintf("tag %q", r.Tag)
	}
	fmt.Fprintf(&b, "pWCET of %s (%s, %s)\n", r.Result, methodName(a.Method), scope)
	fmt.Fprintf(&b, "blocks: %d used, %d left out (empty or under a tenth of the median size) · %d samples · %s samples per block (median) · max observed %s\n",
		a.Blocks, a.Dropped, a.Samples, strconv.FormatFloat(a.RefBlockSamples, 'f', -1, 64), gate.FormatNs(float64(a.MaxObservedNs)))
	if f := a.Fit; f != nil {
		switch a.Method {
		case GPD:
			fmt.Fprintf(&b, "fit: exceedances over %s (%d samples, %s of all) ~ GPD σ = %s, ξ = %.3f; log-likelihood %.1f\n",
				gate.FormatNs(f.ThresholdNs), f.TailSamples, gate.FormatShare(f.TailShare), gate.FormatNs(f.Sigma), f.Xi, f.LogLik)
		default:
			fmt.Fprintf(&b, "fit: block maximum ~ GEV μ = %s, σ = %s, ξ = %.3f; log-likelihood %.1f\n",
				gate.FormatNs(f.Mu), gate.FormatNs(f.Sigma), f.Xi, f.LogLik)
		}
	}
	if f := a.Floor; f != nil {
		if a.Method == GPD {
			fmt.Fprintf(&b, "ξ = 0 floor of the bounds: exponential exceedances, σ = %s; log-likelihood %.1f\n", gate.FormatNs(f.Sigma), f.LogLik)
		} else {
			fmt.Fprintf(&b, "ξ = 0 floor of the bounds: Gumbel μ = %s, σ = %s; log-likelihood %.1f\n", gate.FormatNs(f.Mu), gate.FormatNs(f.Sigma), f.LogLik)
		}
	}
	if a.Blocks > 0 {
		b.WriteString(clusteringText(a) + "\n")
	}
	if len(a.Tests) > 0 {
		fmt.Fprintf(&b, "\ntests (each at α = %.3g, no Bonferroni split; any failure means no bound):\n", a.Tests[0].Alpha)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, t := range a.Tests {
			v := "FAIL"
			if t.Pass {
				v = "pass"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\tp = %.3g\t%s\t%s\n", t.Name, t.Checks, t.statText(), t.PValue, t.Null, v)
		}
		_ = tw.Flush()
	}
	if len(a.Refits) > 0 {
		rs := make([]string, len(a.Refits))
		for i, r := range a.Refits {
			rs[i] = r.String()
		}
		fmt.Fprintf(&b, "bootstrap refits: %s\n", strings.Join(rs, "; "))
	}
	if !a.Valid {
		fmt.Fprintf(&b, "\n%s\n", a.Reason)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "\npWCET at per-inference exceedance probabilities (upper bound: %.3g parametric-bootstrap percentile):\n", a.Confidence)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  p\tper block\testimate\tupper %.3g\t\n", a.Confidence)
	var notes []string
	floored := false
	for _, bd := range r.Bounds {
		est, up := "—", "—"
		if bd.OK {
			est, up = gate.FormatNs(bd.EstimateNs), gate.FormatNs(bd.UpperNs)
			if bd.UpperFromXi0 {
				up, floored = up+" *", true
			}
		} else if !slices.Contains(notes, bd.Reason) {
			notes = append(notes, bd.Reason)
		}
		fmt.Fprintf(tw, "  %g\t%.3g\t%s\t%s\t\n", bd.P, bd.BlockP, est, up)
	}
	_ = tw.Flush()
	if floored {
		fmt.Fprintf(&b, "  *: the ξ = 0 model's bound, above the fitted shape's (ξ = %.3f): the bound does not rest on a finite end point\n", a.Fit.Xi)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "  —: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// clusteringText states the clustering assumption behind the per-inference probabilities.
func clusteringText(a *Analysis) string {
	c := a.Clustering
	var s string
	if c.Estimated {
		s = fmt.Sprintf("clustering: extremal index θ = %.3g (blocks estimator at %s, the median block maximum: %d of %d blocks and %d inferences reach it)",
			c.Theta, gate.FormatNs(c.ThresholdNs), c.BlocksOver, a.Blocks, c.Exceedances)
	} else {
		s = "clustering: extremal index " + c.Note
	}
	s += fmt.Sprintf(";\n  per-inference p takes a block of n̄ inferences to hold n̄θ = %.4g independent chances to exceed, \"per block\" does not depend on θ", a.RefBlockSamples*c.Theta)
	if a.Method == GPD {
		s += ";\n  the GPD's per-inference p does not depend on θ either, but its bootstrap takes exceedances as independent: with θ < 1 its bounds are too narrow"
	}
	return s
}

func methodName(m Method) string {
	switch m {
	case GPD:
		return "GPD over a threshold"
	case Gumbel:
		return "Gumbel on block maxima"
	}
	return "GEV on block maxima"
}

// ParseProbs parses a comma-separated list of exceedance probabilities ("1e-6,1e-9"), reporting
// every bad entry at once.
func ParseProbs(s string) ([]float64, error) {
	var out []float64
	var bad []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0 && v < 1) {
			bad = append(bad, strconv.Quote(f))
			continue
		}
		out = append(out, v)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: want probabilities with 0 < p < 1, such as 1e-6,1e-9,1e-12", strings.Join(bad, ", "))
	}
	return out, nil
}

// FormatProbs writes probabilities as ParseProbs reads them: "1e-06,1e-09".
func FormatProbs(ps []float64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.FormatFloat(p, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
