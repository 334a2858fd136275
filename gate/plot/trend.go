package plot

import (
	"errors"
	"fmt"
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Night is one nightly run's quantiles, in ns.
type Night struct {
	// Label names the night on the axis (a date, or a short commit).
	Label          string
	P50, P99, P999 float64
}

// Change is a change point in one metric of the trend.
type Change struct {
	Metric string // "p50", "p99" or "p99.9"
	// Night is the index of the first night at the new level.
	Night int
	Shift float64 // relative change of the level: 0.12 is +12 %
}

// Trend draws the nightly p50, p99 and p99.9 against the night, with a vertical line between
// the last night before and the first night after each change point, labelled with the shift.
func Trend(title string, nights []Night, changes []Change) (*Figure, error) {
	if len(nights) == 0 {
		return nil, errors.New("plot trend: no nights to draw")
	}
	var maxNs float64
	for _, n := range nights {
		maxNs = max(maxNs, n.P50, n.P99, n.P999)
	}
	u := UnitFor(maxNs)
	p := newPlot(title, "night", "latency ("+u.Name+")")
	logLatencyY(p)
	fig := &Figure{
		Name: "trend", Title: title, Width: DefaultWidth, Height: DefaultHeight,
		Caption: "Nightly p50, p99 and p99.9 of this suite on this environment. Red lines mark change points (E-Divisive means): the regression is in the commits between the nights either side.",
	}
	series := []struct {
		name string
		c    color.Color
		get  func(Night) float64
	}{
		{"p99.9", colMax, func(n Night) float64 { return n.P999 }},
		{"p99", colP99, func(n Night) float64 { return n.P99 }},
		{"p50", colP50, func(n Night) float64 { return n.P50 }},
	}
	for _, s := range series {
		var xys plotter.XYs
		for i, n := range nights {
			if v := s.get(n); v > 0 {
				xys = append(xys, plotter.XY{X: float64(i), Y: v / u.Ns})
			}
		}
		if err := fig.addLine(p, s.name, xys, s.c, false, len(xys) <= 90); err != nil {
			return nil, err
		}
	}
	headroom(&p.Y, 0.3)
	padLog(&p.Y)
	byNight := map[int][]Change{}
	var order []int
	for _, c := range changes {
		if c.Night <= 0 || c.Night >= len(nights) {
			continue
		}
		if _, ok := byNight[c.Night]; !ok {
			order = append(order, c.Night)
		}
		byNight[c.Night] = append(byNight[c.Night], c)
	}
	for _, at := range order {
		label := ""
		for i, c := range byNight[at] {
			if i > 0 {
				label += ", "
			}
			label += fmt.Sprintf("%s %+.0f%%", c.Metric, 100*c.Shift)
		}
		p.Add(&changeLine{x: float64(at) - 0.5, label: label})
	}
	fig.Series = append(fig.Series, SeriesInfo{Name: "changes", Points: len(order)})
	p.X.Min, p.X.Max = -0.5, float64(len(nights))-0.5
	p.X.Tick.Marker = nightTicks(nights)
	fig.draw = func(c draw.Canvas) { p.Draw(c) }
	return fig, nil
}

// nightTicks labels at most about eight nights evenly.
func nightTicks(nights []Night) gplot.Ticker {
	return gplot.TickerFunc(func(min, max float64) []gplot.Tick {
		step := max1((len(nights) + 7) / 8)
		var ts []gplot.Tick
		for i := range nights {
			t := gplot.Tick{Value: float64(i)}
			if i%step == 0 {
				t.Label = nights[i].Label
			}
			ts = append(ts, t)
		}
		return ts
	})
}

func max1(n int) int { return max(n, 1) }

// changeLine is a labelled vertical line at a change point.
type changeLine struct {
	x     float64
	label string
}

func (l *changeLine) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, _ := p.Transforms(&c)
	x := tx(l.x)
	st := draw.LineStyle{Color: colChange, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
	c.StrokeLine2(st, x, c.Min.Y, x, c.Max.Y)
	ts := p.Legend.TextStyle
	ts.Color = colChange
	// The label goes at the bottom: the legend has the top.
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YBottom
	c.FillText(ts, vg.Point{X: x + vg.Points(3), Y: c.Min.Y + vg.Points(3)}, l.label)
}
