package wcet

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot size of the exceedance plot.
const (
	DefaultPlotWidth  = 7 * vg.Inch
	DefaultPlotHeight = 4.5 * vg.Inch
)

// SVG draws the exceedance plot: the empirical exceedance probability of each observed point
// (block maxima for GEV and Gumbel, with plotting positions i/(n+1); the merged histogram's
// tail for GPD) against the fitted curve on a log probability axis, with the pWCET estimates
// at probs marked. Without a valid fit only the observations are drawn, titled with why.
func (a *Analysis) SVG(title string, probs []float64) ([]byte, error) {
	p, err := a.plot(title, probs)
	if err != nil {
		return nil, err
	}
	return render(p, "svg")
}

func (a *Analysis) plot(title string, probs []float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "latency (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = probTicks{}
	p.Add(plotter.NewGrid())

	obs, err := a.observed()
	if err != nil {
		return nil, err
	}
	if len(obs) == 0 {
		return nil, fmt.Errorf("nothing to plot: no block maxima")
	}
	sc, err := plotter.NewScatter(obs)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Radius = vg.Points(2)
	sc.GlyphStyle.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	p.Add(sc)
	if a.Method == GPD {
		p.Y.Label.Text = "P(one inference > x)"
		p.Legend.Add(fmt.Sprintf("observed tail (%d samples)", a.Samples), sc)
	} else {
		p.Y.Label.Text = fmt.Sprintf("P(block maximum > x), block of %.0f", a.RefBlockSamples)
		p.Legend.Add(fmt.Sprintf("block maxima (%d)", a.Blocks), sc)
	}
	// The curves fall from top left to bottom right: the bottom left corner is free.
	p.Legend.Top, p.Legend.Left = false, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(8), vg.Points(8)

	// Exceedance probabilities end at 1; without this the top decade is left empty.
	defer func() { p.Y.Max = 1 }()
	if !a.Valid {
		p.Title.Text += " — no bound"
		return p, nil
	}
	bounds := a.Bounds(probs)
	lo, hi := obs[0].X, obs[len(obs)-1].X
	for _, b := range bounds {
		hi = max(hi, b.EstimateNs/1e6)
	}
	var curve plotter.XYs
	const steps = 200
	for i := range steps + 1 {
		x := lo + (hi-lo)*float64(i)/steps
		if y := a.modelExceedance(x * 1e6); y > 0 {
			curve = append(curve, plotter.XY{X: x, Y: y})
		}
	}
	if len(curve) > 1 {
		ln, err := plotter.NewLine(curve)
		if err != nil {
			return nil, err
		}
		ln.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		ln.Width = vg.Points(1.5)
		p.Add(ln)
		p.Legend.Add(fmt.Sprintf("fitted %s", methodName(a.Method)), ln)
	}
	var marks plotter.XYs
	for _, b := range bounds {
		y := b.P
		if a.Method != GPD {
			y = b.BlockP
		}
		if b.OK && y > 0 {
			marks = append(marks, plotter.XY{X: b.EstimateNs / 1e6, Y: y})
		}
	}
	if len(marks) > 0 {
		ms, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, err
		}
		ms.GlyphStyle.Shape = draw.CrossGlyph{}
		ms.GlyphStyle.Radius = vg.Points(4)
		ms.GlyphStyle.Color = color.Black
		p.Add(ms)
		p.Legend.Add("pWCET at the requested per-inference p", ms)
	}
	return p, nil
}

// probTicks labels a log probability axis at each power of ten as 1e-k (every other decade
// past twelve), which plot.LogTicks prints with float noise (9.99…e-05).
type probTicks struct{}

func (probTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi >= lo) {
		return nil
	}
	a, b := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	every := 1
	if b-a > 12 {
		every = 2
	}
	var out []plot.Tick
	for e := a; e <= b; e++ {
		v := math.Pow(10, float64(e))
		if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
			continue
		}
		t := plot.Tick{Value: v}
		if e%every == 0 {
			t.Label = strconv.FormatFloat(v, 'g', -1, 64)
		}
		out = append(out, t)
	}
	return out
}

func render(p *plot.Plot, format string) ([]byte, error) {
	w, err := p.WriterTo(DefaultPlotWidth, DefaultPlotHeight, format)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// observed returns the empirical exceedance points in ms, ascending.
func (a *Analysis) observed() (plotter.XYs, error) {
	if a.Method == GPD && a.merged != nil && a.Fit != nil {
		var out plotter.XYs
		total := float64(a.merged.TotalCount())
		var above float64
		bars := a.merged.Distribution()
		for i := len(bars) - 1; i >= 0 && float64(bars[i].To) > a.Fit.ThresholdNs; i-- {
			if bars[i].Count == 0 {
				continue
			}
			above += float64(bars[i].Count)
			// Everything in this bucket and above: the exceedance just below the bucket's top.
			out = append(out, plotter.XY{X: float64(bars[i].To) / 1e6, Y: above / total})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].X < out[j].X })
		return out, nil
	}
	x := make([]float64, len(a.blocks))
	for i, b := range a.blocks {
		x[i] = b.hi / 1e6
	}
	sort.Float64s(x)
	n := float64(len(x))
	out := make(plotter.XYs, len(x))
	for i, v := range x {
		out[i] = plotter.XY{X: v, Y: (n - float64(i)) / (n + 1)}
	}
	return out, nil
}

// modelExceedance is the fitted exceedance probability at x ns: of a reference block's maximum
// (GEV, Gumbel) or of one inference (GPD, above the threshold only).
func (a *Analysis) modelExceedance(x float64) float64 {
	if a.Method == GPD {
		if x < a.Fit.ThresholdNs {
			return 0
		}
		return a.Fit.TailShare * a.gpd.Survival(x-a.Fit.ThresholdNs)
	}
	return -math.Expm1(-a.gev.t(x))
}
