// Package plot owns tailgate's figures: the percentile curve of a latency histogram (log
// percentile axis, HdrHistogram style), per-interval quantiles over time with temperature, the
// pWCET exceedance curve with the observed tail, and the nightly trend with change points. Each
// figure renders to SVG (for the HTML report) and PNG (for CI artifacts) with gonum/plot.
//
// It draws what it is given: it does not read result directories, fit extreme-value models,
// detect change points or assemble pages (gate/htmlreport does). Output is deterministic: the
// same data gives byte-identical SVG, with no timestamps and no randomness.
package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Default figure size and PNG resolution.
const (
	DefaultWidth  = 7.5 * vg.Inch
	DefaultHeight = 4.2 * vg.Inch
	DefaultDPI    = 144
)

// Figure is one rendered-on-demand plot with a description of what it shows.
type Figure struct {
	// Name is the figure's stable identifier: the PNG file stem and the HTML element id.
	Name  string
	Title string
	// Caption is one or two sentences saying how to read the figure.
	Caption string
	// Series lists the data drawn, so a reader (or a test) can check that each line has its
	// points without parsing SVG paths.
	Series        []SeriesInfo
	Width, Height vg.Length

	draw func(c draw.Canvas)
}

// SeriesInfo names one drawn series and counts its points.
type SeriesInfo struct {
	Name   string
	Points int
}

// SVG renders the figure as a standalone SVG document.
func (f *Figure) SVG() ([]byte, error) {
	c := vgsvg.New(f.Width, f.Height)
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: svg: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// PNG renders the figure as a PNG image at dpi dots per inch (DefaultDPI when 0).
func (f *Figure) PNG(dpi int) ([]byte, error) {
	if dpi <= 0 {
		dpi = DefaultDPI
	}
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi))
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot %s: png: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

// Colours: a colour-blind-safe pair for baseline and candidate (Okabe–Ito blue and vermillion),
// and distinct hues for the per-interval quantiles.
var (
	colBaseline  = color.RGBA{0x00, 0x72, 0xB2, 0xff}
	colCandidate = color.RGBA{0xD5, 0x5E, 0x00, 0xff}
	colP50       = color.RGBA{0x00, 0x9E, 0x73, 0xff}
	colP99       = color.RGBA{0xE6, 0x9F, 0x00, 0xff}
	colMax       = color.RGBA{0xCC, 0x33, 0x33, 0xff}
	colTemp      = color.RGBA{0x88, 0x44, 0xAA, 0xff}
	colModel     = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colChange    = color.RGBA{0xCC, 0x00, 0x00, 0xff}
	colGrid      = color.Gray{0xDD}
	colGrid2     = color.Gray{0x99}
)

type colorT = color.Color

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with sans-serif text, a light grid and the legend top left, which is
// where latency curves leave room.
func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, ax := range []*gplot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 11)
		ax.Tick.Label.Font = font.From(sans, 9.5)
		ax.Padding = vg.Points(2)
	}
	p.Legend.TextStyle.Font = font.From(sans, 10)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(-6)
	p.Legend.ThumbnailWidth = vg.Points(22)
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = colGrid, colGrid
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(g)
	return p
}

// line adds a polyline with optional point markers and returns the number of points.
func line(p *gplot.Plot, name string, xys plotter.XYs, c color.Color, dashed, marks bool) (int, error) {
	if len(xys) == 0 {
		return 0, nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return 0, fmt.Errorf("series %q: %w", name, err)
	}
	l.Color, l.Width = c, vg.Points(1.6)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	thumbs := []gplot.Thumbnailer{l}
	if marks {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return 0, fmt.Errorf("series %q: %w", name, err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(s)
		thumbs = append(thumbs, s)
	}
	if name != "" {
		p.Legend.Add(name, thumbs...)
	}
	return len(xys), nil
}

// addLine draws a series with line and records it in f.Series.
func (f *Figure) addLine(p *gplot.Plot, name string, xys plotter.XYs, c color.Color, dashed, marks bool) error {
	pts, err := line(p, name, xys, c, dashed, marks)
	if err != nil {
		return fmt.Errorf("plot %s: %w", f.Name, err)
	}
	f.Series = append(f.Series, SeriesInfo{Name: name, Points: pts})
	return nil
}

// logLatencyY makes p's y axis a log latency axis with 1-2-5 labels and moves the legend to
// the top right, where a latency-over-x plot is emptiest once headroom is added.
func logLatencyY(p *gplot.Plot) {
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logLatencyTicks
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs = vg.Points(-4)
}

// Unit is a latency display unit.
type Unit struct {
	Name string  // "ns", "µs", "ms" or "s"
	Ns   float64 // nanoseconds per unit
}

// UnitFor picks the largest unit of which maxNs is at least one (seconds only from ten), so tick
// labels stay short: a 4.6 ms maximum gives "ms", not 4600 µs.
func UnitFor(maxNs float64) Unit {
	switch {
	case maxNs >= 10e9:
		return Unit{"s", 1e9}
	case maxNs >= 1e6:
		return Unit{"ms", 1e6}
	case maxNs >= 1e3:
		return Unit{"µs", 1e3}
	}
	return Unit{"ns", 1}
}

// latencyTicks labels a linear latency axis with plain numbers (the unit is in the axis label).
var latencyTicks = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
	ts := gplot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = trimFloat(ts[i].Value)
		}
	}
	return ts
})

// logLatencyTicks labels a log latency axis at 1, 2 and 5 × 10^k with plain numbers, and adds
// minor ticks at the other integers.
var logLatencyTicks = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
	var ts []gplot.Tick
	for k := int(math.Floor(math.Log10(min))); k <= int(math.Ceil(math.Log10(max))); k++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow10(k)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := gplot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = trimFloat(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
})

// trimFloat formats v with up to four significant digits and no trailing zeros.
func trimFloat(v float64) string {
	if v == 0 {
		return "0"
	}
	s := fmt.Sprintf("%.4g", v)
	if strings.ContainsAny(s, "e") {
		return s
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// powerLabel renders 10^k as "1e-9" ("1" for k = 0): the plot fonts have no superscript minus.
func powerLabel(k int) string {
	if k == 0 {
		return "1"
	}
	return fmt.Sprintf("1e%d", k)
}

// exponentTicks labels an axis that carries log10 of a probability: a labelled tick at every
// step-th integer exponent, minor ticks at the others.
func exponentTicks(step int) gplot.Ticker {
	return gplot.TickerFunc(func(min, max float64) []gplot.Tick {
		var ts []gplot.Tick
		for k := int(math.Ceil(min - 1e-9)); float64(k) <= max+1e-9; k++ {
			t := gplot.Tick{Value: float64(k)}
			if k%step == 0 {
				t.Label = powerLabel(k)
			}
			ts = append(ts, t)
		}
		return ts
	})
}

// alignX stacks plots vertically on c, with heights in the given proportions, and lines up their
// data areas horizontally so a shared time axis reads straight down.
func alignX(c draw.Canvas, plots []*gplot.Plot, weights []float64) {
	var total float64
	for _, w := range weights {
		total += w
	}
	cs := make([]draw.Canvas, len(plots))
	top := c.Max.Y
	for i := range plots {
		h := vg.Length(float64(c.Max.Y-c.Min.Y) * weights[i] / total)
		cs[i] = draw.Crop(c, 0, 0, 0, 0)
		cs[i].Max.Y, cs[i].Min.Y = top, top-h
		top -= h
	}
	var left, right vg.Length
	for i, p := range plots {
		d := p.DataCanvas(cs[i])
		left = max(left, d.Min.X-cs[i].Min.X)
		right = max(right, cs[i].Max.X-d.Max.X)
	}
	for i, p := range plots {
		d := p.DataCanvas(cs[i])
		cs[i].Min.X += left - (d.Min.X - cs[i].Min.X)
		cs[i].Max.X -= right - (cs[i].Max.X - d.Max.X)
		p.Draw(cs[i])
	}
}
