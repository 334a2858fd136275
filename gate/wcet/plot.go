package wcet

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-ci/tailgate/gate/plot"
)

// ExceedanceModel is the analysis as gate/plot's exceedance figure draws it: the pWCET estimate
// and its upper bound at a.Confidence, from where the fitted tail starts down to the smallest of
// marks, with marks (the probabilities quoted) marked. Without a valid fit it carries only the
// reason, and the figure shows the observed tail alone.
func (a *Analysis) ExceedanceModel(marks []float64) plot.PWCETModel {
	m := plot.PWCETModel{
		Label:      fmt.Sprintf("%s fit, %d blocks", a.Method, a.Blocks),
		UpperLabel: fmt.Sprintf("%g%% upper bound", 100*a.Confidence),
		Marks:      marks,
		Reason:     a.Reason,
	}
	if !a.Valid {
		return m
	}
	m.Estimate = func(p float64) (float64, bool) { v, ok, _ := a.PWCET(p); return v, ok }
	m.Upper = func(p float64) (float64, bool) { v, ok, _ := a.Upper(p, a.Confidence); return v, ok }
	switch {
	case a.Fit != nil && a.Method == GPD:
		m.From = a.Fit.TailShare
	case a.RefBlockSamples > 0:
		// Below about one exceedance per block the block-maximum model describes the tail.
		m.From = 1 / a.RefBlockSamples
	}
	return m
}

// ExceedanceFigure draws the per-inference exceedance curve of merged (the analysed intervals
// merged into one histogram: Blocks.Merged, or result.Result.Merged) with the fitted pWCET model
// and the pWCET at marks. It is the one exceedance figure: `tailgate wcet --svg` and the HTML
// report both draw it.
func (a *Analysis) ExceedanceFigure(title string, merged *hdrhistogram.Histogram, marks []float64) (*plot.Figure, error) {
	return plot.Exceedance(title, merged, a.ExceedanceModel(marks))
}

// ExceedanceSVG is ExceedanceFigure as an SVG document.
func (a *Analysis) ExceedanceSVG(title string, merged *hdrhistogram.Histogram, marks []float64) ([]byte, error) {
	fig, err := a.ExceedanceFigure(title, merged, marks)
	if err != nil {
		return nil, err
	}
	return fig.SVG()
}
