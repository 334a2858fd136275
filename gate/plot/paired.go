package plot

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Round is one round of an interleaved A/B as the pairing figure draws it: each arm's p50 in
// that round, in ns, 0 when the arm had no samples in it.
type Round struct{ A, B int64 }

// RatioEstimate is the gate's paired estimate of a ratio B/A and its interval.
type RatioEstimate struct {
	// Metric names the statistic ("p50").
	Metric        string
	Point, Lo, Hi float64
	Confidence    float64
	// Limit is the rule's relative limit as a fraction (0.05 for +5%); 0 draws none.
	Limit float64
}

// Pairing is what the pairing figure of an interleaved A/B draws.
type Pairing struct {
	Title string
	// A and B name the arms in the legend ("arm A (baseline)").
	A, B   string
	Rounds []Round
	// SessionLen, when between 1 and len(Rounds)-1, marks where each session of that many
	// rounds (fresh processes) ends.
	SessionLen int
	// Estimate is the gate's paired estimate of the p50 ratio; nil leaves its band out.
	Estimate *RatioEstimate
}

// Paired draws an interleaved A/B round by round: above, each round's p50 of arm A and of arm
// B against the round, so drift that moves both arms shows as both lines moving together;
// below, each round's ratio B/A as a change in percent, with the gate's estimate and interval
// as a band and the rule's limit as a line. Rounds where an arm is empty are left out of the
// ratio. Series of more than DefaultMaxPoints points are downsampled by MinMax.
func Paired(in Pairing) (*Figure, error) {
	var maxNs float64
	var arms [2]plotter.XYs
	var ratio plotter.XYs
	for k, r := range in.Rounds {
		x := float64(k + 1)
		for i, v := range [2]int64{r.A, r.B} {
			if v > 0 {
				arms[i] = append(arms[i], plotter.XY{X: x, Y: float64(v)})
				maxNs = max(maxNs, float64(v))
			}
		}
		if r.A > 0 && r.B > 0 {
			ratio = append(ratio, plotter.XY{X: x, Y: 100 * (float64(r.B)/float64(r.A) - 1)})
		}
	}
	if len(ratio) == 0 {
		return nil, errors.New("plot paired: no round with samples in both arms")
	}
	u := UnitFor(maxNs)
	fig := &Figure{
		Name: "paired", Title: in.Title, Width: DefaultWidth, Height: DefaultHeight * 1.45,
		Caption: "Above: each round's p50 of both arms (a linear axis, not from zero). The arms alternate within every round, " +
			"so whatever the machine did in a round (drift, heat, a busy neighbour) moves both lines together; " +
			"a difference between the arms is the gap that stays. Below: each round's p50 of B over A.",
	}
	if e := in.Estimate; e != nil {
		fig.Caption += fmt.Sprintf(" The band is the gate's paired estimate of the %s ratio (of the pooled quantiles, not the mean of these points) with its %g%% interval", e.Metric, 100*e.Confidence)
		if e.Limit != 0 {
			fig.Caption += "; the dashed red line is the rule's limit"
		}
		fig.Caption += "."
	}
	marks := len(ratio) <= 120
	top := newPlot(in.Title, "", "p50 ("+u.Name+")")
	top.Y.Tick.Marker = gplot.TickerFunc(func(min, max float64) []gplot.Tick { return steps125(min, max, 0, trimFloat) })
	for i, label := range [2]string{in.A, in.B} {
		xys := MinMax(arms[i], DefaultMaxPoints)
		for j := range xys {
			xys[j].Y /= u.Ns
		}
		c := colBaseline
		if i == 1 {
			c = colCandidate
		}
		pts, err := line(top, label, xys, c, false, marks)
		if err != nil {
			return nil, fmt.Errorf("plot paired: %w", err)
		}
		fig.Series = append(fig.Series, SeriesInfo{Name: [2]string{"A", "B"}[i], Points: pts})
	}
	// Room above the lines for the legend.
	top.Y.Max += 0.35 * max(top.Y.Max-top.Y.Min, 0.02*top.Y.Max)

	bot := newPlot("", "round", "p50 B/A − 1 (%)")
	bot.Y.Tick.Marker = percentTicks
	bot.Add(&straight{at: 0, style: draw.LineStyle{Color: colModel, Width: vg.Points(0.8)}})
	if e := in.Estimate; e != nil {
		if err := estimateBand(bot, e, float64(len(in.Rounds))); err != nil {
			return nil, fmt.Errorf("plot paired: %w", err)
		}
	}
	lo, hi := ratioRange(ratio, in.Estimate)
	span := max(hi-lo, 2)
	drawn, off := clampRounds(ratio, lo-0.1*span, hi+0.1*span)
	pts, err := line(bot, "B/A per round", MinMax(drawn, DefaultMaxPoints), colModel, false, marks)
	if err != nil {
		return nil, fmt.Errorf("plot paired: %w", err)
	}
	fig.Series = append(fig.Series, SeriesInfo{Name: "ratio", Points: pts})
	if len(off.at) > 0 {
		bot.Add(off)
		fig.Caption += fmt.Sprintf(" %d round(s) far off the others are drawn at the edge of the scale as triangles labelled with their value.", len(off.at))
	}
	bot.Y.Min, bot.Y.Max = lo-0.15*span, hi+0.7*span
	for k := in.SessionLen; in.SessionLen > 0 && k < len(in.Rounds); k += in.SessionLen {
		for _, p := range []*gplot.Plot{top, bot} {
			p.Add(&straight{at: float64(k) + 0.5, vertical: true, style: draw.LineStyle{Color: colGrid2, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}})
		}
	}
	if in.SessionLen > 0 && in.SessionLen < len(in.Rounds) {
		fig.Caption += " Grey dashed lines separate the sessions (fresh processes)."
	}
	for _, p := range []*gplot.Plot{top, bot} {
		p.X.Min, p.X.Max = 0.5, float64(len(in.Rounds))+0.5
		p.Legend.Padding = vg.Points(1.5)
	}
	top.X.Tick.Marker, bot.X.Tick.Marker = roundTicks(true), roundTicks(false)
	fig.draw = func(c draw.Canvas) { alignX(c, []*gplot.Plot{top, bot}, []float64{3, 2.2}) }
	return fig, nil
}

// ratioRange is the range of the ratio panel: 0, the estimate's band and limit, and the rounds
// that are not far off the others (beyond five interquartile ranges of the middle half, taken as
// at least 2 %), which
// would flatten the band to a line on a shared noisy machine.
func ratioRange(ratio plotter.XYs, e *RatioEstimate) (lo, hi float64) {
	ys := make([]float64, len(ratio))
	for i, p := range ratio {
		ys[i] = p.Y
	}
	slices.Sort(ys)
	q1, q3 := ys[len(ys)/4], ys[(3*len(ys))/4]
	iqr := max(q3-q1, 2)
	for _, y := range ys {
		if y >= q1-5*iqr && y <= q3+5*iqr {
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	if e != nil {
		lo, hi = min(lo, 100*(e.Lo-1), 100*(e.Point-1)), max(hi, 100*(e.Hi-1), 100*(e.Point-1), 100*e.Limit)
	}
	return lo, hi
}

// clampRounds moves the points beyond [lo, hi] to its edges, returning them as drawn and the
// marks that say where they really are.
func clampRounds(xys plotter.XYs, lo, hi float64) (plotter.XYs, *offScale) {
	out := slices.Clone(xys)
	off := &offScale{}
	for i, p := range out {
		if p.Y < lo || p.Y > hi {
			out[i].Y = min(max(p.Y, lo), hi)
			off.at = append(off.at, out[i])
			off.val = append(off.val, p.Y)
		}
	}
	return out, off
}

// offScale marks rounds drawn at the edge of the scale: a triangle where each is drawn and its
// real value beside it.
type offScale struct {
	at  plotter.XYs
	val []float64
}

func (o *offScale) Plot(c draw.Canvas, p *gplot.Plot) {
	tx, ty := p.Transforms(&c)
	ts := p.Legend.TextStyle
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
	g := draw.GlyphStyle{Color: colChange, Radius: vg.Points(3.5), Shape: draw.TriangleGlyph{}}
	for i, pt := range o.at {
		at := vg.Point{X: tx(pt.X), Y: ty(pt.Y)}
		c.DrawGlyph(g, at)
		// Beside the triangle, on the side with room; neighbours alternate above and below so
		// that labels of adjacent rounds do not run into each other.
		lt, off := ts, vg.Points(5)
		if at.X > c.Center().X {
			lt.XAlign, off = draw.XRight, -off
		}
		lt.YAlign = draw.YBottom
		if i%2 == 1 {
			lt.YAlign = draw.YTop
		}
		c.FillText(lt, vg.Point{X: at.X + off, Y: at.Y}, signedPct(o.val[i]))
	}
}

// estimateBand draws the gate's estimate (a line over the rounds, its interval a band around
// it) and the rule's limit on p, whose y axis is the change in percent.
func estimateBand(p *gplot.Plot, e *RatioEstimate, rounds float64) error {
	pct := func(r float64) float64 { return 100 * (r - 1) }
	band, err := plotter.NewPolygon(plotter.XYs{
		{X: 0.5, Y: pct(e.Lo)}, {X: rounds + 0.5, Y: pct(e.Lo)}, {X: rounds + 0.5, Y: pct(e.Hi)}, {X: 0.5, Y: pct(e.Hi)},
	})
	if err != nil {
		return err
	}
	band.Color = color.NRGBA{0xD5, 0x5E, 0x00, 0x40}
	band.LineStyle.Width = 0
	p.Add(band)
	point := &straight{at: pct(e.Point), style: draw.LineStyle{Color: colCandidate, Width: vg.Points(1.6)}}
	p.Add(point)
	// One decimal, as the report's rule table writes the same numbers.
	p.Legend.Add(fmt.Sprintf("gate: %s %+.1f%% [%+.1f%%, %+.1f%%] @ %g", e.Metric, pct(e.Point), pct(e.Lo), pct(e.Hi), e.Confidence), band, point)
	if e.Limit != 0 {
		limit := &straight{at: 100 * e.Limit, style: draw.LineStyle{Color: colChange, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}}
		p.Add(limit)
		p.Legend.Add("limit "+signedPct(100*e.Limit), limit)
	}
	// The band sets the axis range as data would.
	p.Y.Min, p.Y.Max = min(p.Y.Min, pct(e.Lo), pct(e.Point)), max(p.Y.Max, pct(e.Hi), pct(e.Point))
	return nil
}

// signedPct renders a change in percent with its sign and up to three significant digits.
func signedPct(v float64) string {
	s := trimFloat(roundSig(v, 3)) + "%"
	if v >= 0 {
		s = "+" + s
	}
	return s
}

// steps125 returns labelled ticks at the multiples of the 1-2-5 step (at least least) that
// puts about six of them on [min, max], each labelled by label.
func steps125(min, max, least float64, label func(float64) string) []gplot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return nil
	}
	step := least
	for _, m := range []float64{1, 2, 5, 10} {
		if s := m * math.Pow10(int(math.Floor(math.Log10((max-min)/6)))); s >= least && (max-min)/s <= 7 {
			step = s
			break
		}
	}
	var ts []gplot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ts = append(ts, gplot.Tick{Value: v, Label: label(v)})
	}
	return ts
}

// percentTicks labels a linear axis of changes in percent with their sign: "+10%", "0%".
var percentTicks = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
	return steps125(min, max, 0, func(v float64) string {
		if v == 0 {
			return "0%"
		}
		return signedPct(v)
	})
})

// roundTicks labels a round axis with whole round numbers; unlabelled when bare, for a panel
// whose x axis is labelled by the panel below it.
func roundTicks(bare bool) gplot.Ticker {
	return gplot.TickerFunc(func(min, max float64) []gplot.Tick {
		return steps125(min, max, 1, func(v float64) string {
			if bare {
				return ""
			}
			return trimFloat(v)
		})
	})
}
