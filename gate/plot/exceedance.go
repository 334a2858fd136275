package plot

import (
	"errors"
	"fmt"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PWCETModel is a fitted tail model as the exceedance figure needs it. It is an interface of
// functions rather than gate/wcet's type so the figure does not depend on how the fit is made.
type PWCETModel struct {
	// Label names the model in the legend ("GEV fit, 40 blocks").
	Label string
	// Estimate returns the latency in ns exceeded by one inference with probability p; ok is
	// false where the model gives no value.
	Estimate func(p float64) (ns float64, ok bool)
	// Upper, when not nil, returns the upper confidence bound of Estimate; UpperLabel names it.
	Upper      func(p float64) (ns float64, ok bool)
	UpperLabel string
	// From is the largest per-inference probability the model curve is drawn from (where the
	// fitted tail starts); the curve runs down to the smallest of Marks.
	From float64
	// Marks are the probabilities the report quotes (1e-6, 1e-9, 1e-12): marked on the curve.
	Marks []float64
	// Reason, when the analysis refused a bound, says why; the figure then shows only the
	// observed tail and says so in its caption.
	Reason string
}

// DefaultModelPoints is how many points per decade of probability the model curve has.
const DefaultModelPoints = 8

// ExceedanceXY samples h's empirical per-inference exceedance curve from p = 0.5 down to 1/n:
// x is the latency in ns, y the share of samples above it.
func ExceedanceXY(h *hdrhistogram.Histogram, perDecade int) plotter.XYs {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	if perDecade <= 0 {
		perDecade = DefaultPointsPerDecade
	}
	var xys plotter.XYs
	lo := -math.Log10(float64(n))
	for i := 0; ; i++ {
		lp := math.Log10(0.5) - float64(i)/float64(perDecade)
		if lp <= lo {
			break
		}
		p := math.Pow(10, lp)
		xys = append(xys, plotter.XY{X: float64(h.ValueAtQuantile(100 * (1 - p))), Y: p})
	}
	// The maximum is exceeded by no sample; draw it at 1/n, the resolution of the data.
	return append(xys, plotter.XY{X: float64(h.Max()), Y: 1 / float64(n)})
}

// Exceedance draws the per-inference exceedance probability (log) against latency (log): the
// observed tail of merged as points, and the fitted pWCET model with its upper bound and the
// quoted probabilities marked.
//
// The probability axis carries log10(p) on a linear scale with labels 1e-k: gonum/plot centres
// an axis label at the arithmetic mean of the range, which on a twelve-decade log axis pushes
// the label off the top and squashes the plot.
func Exceedance(title string, merged *hdrhistogram.Histogram, m PWCETModel) (*Figure, error) {
	if merged == nil || merged.TotalCount() == 0 {
		return nil, errors.New("plot exceedance: no samples to draw")
	}
	obs := ExceedanceXY(merged, 8)
	var model, upper, marks plotter.XYs
	if m.Estimate != nil && m.Reason == "" {
		pmin := 1.0
		for _, p := range m.Marks {
			pmin = min(pmin, p)
		}
		from := m.From
		if !(from > 0 && from < 1) {
			from = 1 / float64(merged.TotalCount())
		}
		for lp := math.Log10(from); lp >= math.Log10(pmin)-1e-9; lp -= 1.0 / DefaultModelPoints {
			p := math.Pow(10, lp)
			if v, ok := m.Estimate(p); ok && v > 0 && !math.IsInf(v, 0) {
				model = append(model, plotter.XY{X: v, Y: p})
			}
			if m.Upper != nil {
				if v, ok := m.Upper(p); ok && v > 0 && !math.IsInf(v, 0) {
					upper = append(upper, plotter.XY{X: v, Y: p})
				}
			}
		}
		for _, p := range m.Marks {
			if v, ok := m.Estimate(p); ok && v > 0 && !math.IsInf(v, 0) {
				marks = append(marks, plotter.XY{X: v, Y: p})
			}
		}
	}
	maxNs := float64(merged.Max())
	for _, s := range []plotter.XYs{model, upper} {
		for _, xy := range s {
			maxNs = max(maxNs, xy.X)
		}
	}
	u := UnitFor(maxNs)
	p := newPlot(title, "latency ("+u.Name+")", "exceedance probability per inference")
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = logLatencyTicks
	// Bottom left: an exceedance curve runs from the top left to the bottom right.
	p.Legend.Top, p.Legend.Left = false, true
	p.Legend.YOffs = vg.Points(6)
	if m.Reason != "" {
		p.Title.Text += " (no bound)"
	}
	fig := &Figure{
		Name: "exceedance", Title: title, Width: DefaultWidth, Height: DefaultHeight,
		Caption: "Probability that one inference takes longer than x. Points: the observed tail; line: the fitted extreme-value model (pWCET) with its upper confidence bound, extrapolated to the quoted probabilities; the vertical line is the maximum observed.",
	}
	scale := func(xys plotter.XYs) plotter.XYs {
		out := make(plotter.XYs, len(xys))
		for i, xy := range xys {
			out[i] = plotter.XY{X: xy.X / u.Ns, Y: math.Log10(xy.Y)}
		}
		return out
	}
	add := func(name string, info string, xys plotter.XYs, c colorT, dashed, marks, lines bool) error {
		if len(xys) == 0 {
			return nil
		}
		var pts int
		var err error
		if lines {
			pts, err = line(p, name, scale(xys), c, dashed, marks)
		} else {
			pts, err = scatter(p, name, scale(xys), c)
		}
		if err != nil {
			return fmt.Errorf("plot exceedance: %w", err)
		}
		fig.Series = append(fig.Series, SeriesInfo{Name: info, Points: pts})
		return nil
	}
	if err := add("observed", "observed", obs, colCandidate, false, false, false); err != nil {
		return nil, err
	}
	label := m.Label
	if label == "" {
		label = "pWCET model"
	}
	if err := add(label, "model", model, colModel, false, false, true); err != nil {
		return nil, err
	}
	ul := m.UpperLabel
	if ul == "" {
		ul = "upper bound"
	}
	if err := add(ul, "upper", upper, colModel, true, false, true); err != nil {
		return nil, err
	}
	if len(marks) > 0 {
		s, err := plotter.NewScatter(scale(marks))
		if err != nil {
			return nil, fmt.Errorf("plot exceedance: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: colModel, Radius: vg.Points(3.5), Shape: draw.PyramidGlyph{}}
		p.Add(s)
		p.Legend.Add("pWCET at "+probList(m.Marks), s)
		fig.Series = append(fig.Series, SeriesInfo{Name: "marks", Points: len(marks)})
	}
	vx := float64(merged.Max()) / u.Ns
	vmax := &straight{at: vx, vertical: true, style: draw.LineStyle{Color: colMax, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
	p.Add(vmax)
	p.Legend.Add("max observed "+fmtUnit(float64(merged.Max()), u), vmax)
	pmin := 1 / float64(merged.TotalCount())
	for _, xy := range append(model, marks...) {
		pmin = min(pmin, xy.Y)
	}
	p.Y.Min, p.Y.Max = math.Floor(math.Log10(pmin)), 0
	step := 1
	if -p.Y.Min > 7 {
		step = 3
	}
	p.Y.Tick.Marker = exponentTicks(step)
	padLog(&p.X)
	if m.Reason != "" {
		fig.Caption = "No pWCET bound: " + m.Reason + ". Points: the observed per-inference exceedance; the vertical line is the maximum observed."
	}
	fig.draw = func(c draw.Canvas) { p.Draw(c) }
	return fig, nil
}

// probList renders 1e-6, 1e-9 as "10⁻⁶, 10⁻⁹".
func probList(ps []float64) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		k := math.Log10(p)
		if math.Abs(k-math.Round(k)) < 1e-9 {
			s += powerLabel(int(math.Round(k)))
		} else {
			s += fmt.Sprintf("%g", p)
		}
	}
	return s
}

// scatter adds point markers only.
func scatter(p *gplot.Plot, name string, xys plotter.XYs, c colorT) (int, error) {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return 0, fmt.Errorf("series %q: %w", name, err)
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}}
	p.Add(s)
	p.Legend.Add(name, s)
	return len(xys), nil
}

// straight is a line across the whole data area, vertical at x = at or horizontal at y = at,
// that does not take part in the axis range.
type straight struct {
	at       float64
	vertical bool
	style    draw.LineStyle
}

func (l *straight) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	if l.vertical {
		x := tx(l.at)
		c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := ty(l.at)
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// Thumbnail draws the line in the legend as it runs in the plot.
func (l *straight) Thumbnail(c *draw.Canvas) {
	if l.vertical {
		x := (c.Min.X + c.Max.X) / 2
		c.StrokeLine2(l.style, x, c.Min.Y, x, c.Max.Y)
		return
	}
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}
