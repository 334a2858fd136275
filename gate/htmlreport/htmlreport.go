// Package htmlreport owns the HTML report: one self-contained page (inline CSS and SVG, no
// scripts, no external URLs) with a comparison's verdict and rule table, the summaries of the
// results, their figures and the pWCET tests and bounds, so a CI artifact opens anywhere and
// reads the same offline.
//
// Load streams a result into what the page draws (per-slot p50/p99/max and temperature, the
// merged tails and block maxima of its gate.Run), so a 48-hour run is reported without holding
// its interval histograms. Build assembles a Page from loaded results: it asks gate/wcet for
// the fit, gate/history for the change points and gate/plot for the figures. Write lays out what it is given. Neither compares
// (gate does) nor reads a store (the caller passes the nightly history in).
package htmlreport

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
)

// Page is everything the report shows. Only Title and at least one of Sides or Figures are
// required; every other part is left out when empty.
type Page struct {
	Title string
	// Subtitle says what was compared ("vision-slow against vision-fp32").
	Subtitle string
	// Report is the comparison whose verdict, rule table and notes head the page; nil for a
	// single result.
	Report *gate.Report
	// Sides are the results shown, baseline first.
	Sides   []Side
	Figures []Figure
	WCET    *WCET
	// Notes are remarks of the tool that made the page (a figure left out, and why).
	Notes []string
	// Generator names the tool in the footer ("tailgate 0.3.0").
	Generator string
}

// Side is one result's summary row.
type Side struct {
	Name   string // "baseline", "candidate"
	Dir    string
	Suite  string
	Commit string
	// Arm says what an arm of an interleaved A/B ran ("b.onnx, threads 1, graph optimisation
	// all"); empty for a separate run.
	Arm string
	// Runtime names what ran the inference (result.Fingerprint.RuntimeLabel): a CPU run and an
	// NPU worker's run of one model sit side by side under it.
	Runtime string
	Summary result.Summary
	// Intervals is the number of interval histograms; Healthy and Reasons are the run's health.
	Intervals int
	Healthy   bool
	Reasons   []string
}

// Figure is one rendered plot.
type Figure struct {
	ID, Title, Caption string
	// SVG is a standalone SVG document; its XML prolog is dropped when inlined.
	SVG []byte
	// Series names each drawn series with its point count; it becomes the figure's
	// data-series attribute ("baseline:121 candidate:121").
	Series []Series
}

// Series is one drawn series of a figure.
type Series struct {
	Name   string
	Points int
}

// WCET is a pWCET analysis as the page shows it.
type WCET struct {
	Method        string
	Blocks        int
	Samples       int64
	MaxObservedNs int64
	Valid         bool
	Reason        string
	Confidence    float64
	Tests         []WCETTest
	Bounds        []WCETBound
}

// WCETTest is one validity test's outcome.
type WCETTest struct {
	Name, Checks, Null string
	Statistic, PValue  float64
	Alpha              float64
	Pass               bool
}

// WCETBound is a pWCET at one per-inference exceedance probability.
type WCETBound struct {
	P                   float64
	EstimateNs, UpperNs float64
	OK                  bool
	Reason              string
}

//go:embed page.html.tmpl
var pageTmpl string

//go:embed page.css
var pageCSS string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"ns":     func(v int64) string { return gate.FormatNs(float64(v)) },
	"nsf":    func(v float64) string { return gate.FormatNs(v) },
	"value":  value,
	"delta":  delta,
	"css":    func() template.CSS { return template.CSS(pageCSS) },
	"svg":    inlineSVG,
	"series": seriesAttr,
	"short":  short,
	"prob":   func(p float64) string { return fmt.Sprintf("%g", p) },
	"pct":    func(c float64) string { return fmt.Sprintf("%g%%", 100*c) },
	"g3":     func(v float64) string { return fmt.Sprintf("%.3g", v) },
}).Parse(pageTmpl))

// Write renders the page to w. It reports every missing required part at once.
func Write(w io.Writer, p *Page) error {
	var errs []error
	if p.Title == "" {
		errs = append(errs, errors.New("title is empty"))
	}
	if len(p.Sides) == 0 && len(p.Figures) == 0 {
		errs = append(errs, errors.New("nothing to show: no results and no figures"))
	}
	ids := map[string]bool{}
	for i, f := range p.Figures {
		if f.ID == "" || ids[f.ID] {
			errs = append(errs, fmt.Errorf("figure %d: id %q is empty or repeated", i, f.ID))
		}
		ids[f.ID] = true
		if !bytes.Contains(f.SVG, []byte("<svg")) {
			errs = append(errs, fmt.Errorf("figure %s: no <svg> element", f.ID))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("htmlreport: %w", errors.Join(errs...))
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// prolog matches what precedes the <svg> element in a standalone SVG document: the XML
// declaration and comments, which have no place inside HTML.
var prolog = regexp.MustCompile(`^(?s)\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*`)

// inlineSVG turns a standalone SVG document into an element for the page. gonum/plot's SVG
// sizes itself in points; the page's CSS scales it to the column width, keeping the viewBox's
// aspect ratio.
func inlineSVG(b []byte) template.HTML {
	s := prolog.ReplaceAllString(string(b), "")
	s = strings.Replace(s, "<svg ", `<svg role="img" preserveAspectRatio="xMidYMid meet" `, 1)
	return template.HTML(s) //nolint:gosec // produced by gonum/plot from our own data, text escaped by vgsvg
}

func seriesAttr(ss []Series) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%s:%d", strings.ReplaceAll(s.Name, " ", "_"), s.Points)
	}
	return strings.Join(parts, " ")
}

// value renders a rule row's point estimate in its unit.
func value(p *float64, unit string) string {
	if p == nil {
		return "–"
	}
	return gate.FormatValue(*p, unit)
}

// delta renders a rule row's change and its interval: "+31.2% [+28.0%, +34.9%]".
func delta(r gate.RuleResult) string {
	switch {
	case r.Ratio != nil && r.RatioLo != nil && r.RatioHi != nil:
		return fmt.Sprintf("%s [%s, %s]", gate.FormatRatio(*r.Ratio), gate.FormatRatio(*r.RatioLo), gate.FormatRatio(*r.RatioHi))
	case r.Ratio != nil:
		return gate.FormatRatio(*r.Ratio)
	case r.Baseline != nil && r.Candidate != nil && r.Unit == "share":
		return fmt.Sprintf("%+.3g pp", 100*(*r.Candidate-*r.Baseline))
	}
	return "–"
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
