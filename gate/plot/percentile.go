package plot

import (
	"errors"
	"fmt"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// DefaultPointsPerDecade is how finely the percentile curve samples the 1/(1−q) axis.
const DefaultPointsPerDecade = 24

// Latency is one histogram to draw on the percentile curve.
type Latency struct {
	// Name labels the curve in the legend ("baseline", "candidate").
	Name string
	Hist *hdrhistogram.Histogram
}

// PercentileXY samples h's percentile curve the way HdrHistogram's plotter shows it: x is
// 1/(1−q), log-spaced from 1 (q = 0) to the sample count n (q = 1 − 1/n, where the last
// sample sits), y is the latency in ns at q. The final point is the maximum.
func PercentileXY(h *hdrhistogram.Histogram, perDecade int) plotter.XYs {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	if perDecade <= 0 {
		perDecade = DefaultPointsPerDecade
	}
	last := math.Log10(float64(n))
	var xys plotter.XYs
	for i := 0; ; i++ {
		lx := float64(i) / float64(perDecade)
		if lx >= last {
			break
		}
		x := math.Pow(10, lx)
		q := 1 - 1/x
		xys = append(xys, plotter.XY{X: x, Y: float64(h.ValueAtQuantile(100 * q))})
	}
	return append(xys, plotter.XY{X: max(float64(n), 1), Y: float64(h.Max())})
}

// percentileTicks labels the 1/(1−q) axis with percentiles: 0%, 90%, 99%, 99.9%, …; and the
// median at x = 2.
var percentileTicks = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
	var ts []gplot.Tick
	for k := 0; ; k++ {
		x := math.Pow10(k)
		if x > max*(1+1e-9) {
			break
		}
		ts = append(ts, gplot.Tick{Value: x, Label: percentLabel(x)})
		if k == 0 {
			ts = append(ts, gplot.Tick{Value: 2, Label: "50%"})
		}
		for m := 2; m < 10 && k > 0; m++ {
			if v := float64(m) * x; v < max {
				ts = append(ts, gplot.Tick{Value: v})
			}
		}
	}
	return ts
})

// percentLabel renders the percentile at x = 1/(1−q): 10 → "90%", 1000 → "99.9%".
func percentLabel(x float64) string {
	if x <= 1 {
		return "0%"
	}
	q := 100 * (1 - 1/x)
	k := int(math.Round(math.Log10(x)))
	return fmt.Sprintf("%.*f%%", max(k-2, 0), q)
}

// Percentiles draws the percentile curves of the given latencies on one figure (baseline first,
// then candidate, by convention): y in the unit that suits the largest maximum, x on a log
// percentile axis. The legend gives each curve's p50, p99 and maximum.
func Percentiles(title string, lats []Latency) (*Figure, error) {
	var maxNs float64
	var n int
	for _, l := range lats {
		if l.Hist != nil && l.Hist.TotalCount() > 0 {
			maxNs = max(maxNs, float64(l.Hist.Max()))
			n++
		}
	}
	if n == 0 {
		return nil, errors.New("plot percentiles: no samples to draw")
	}
	u := UnitFor(maxNs)
	p := newPlot(title, "percentile", "latency ("+u.Name+")")
	p.X.Scale = gplot.LogScale{}
	p.X.Tick.Marker = percentileTicks
	// Log latency: a tail that spans decades (a 2 ms median, a 400 ms stall) would flatten the
	// body of the distribution to a line on a linear axis.
	p.Y.Scale = gplot.LogScale{}
	p.Y.Tick.Marker = logLatencyTicks
	fig := &Figure{
		Name: "percentiles", Title: title, Width: DefaultWidth, Height: DefaultHeight,
		Caption: "Latency at each percentile on a log percentile axis (HdrHistogram style): the body of the distribution on the left, the tail on the right; the last point of each curve is its maximum. A shift up is a slowdown.",
	}
	for i, l := range lats {
		if l.Hist == nil || l.Hist.TotalCount() == 0 {
			continue
		}
		xys := PercentileXY(l.Hist, DefaultPointsPerDecade)
		for j := range xys {
			xys[j].Y /= u.Ns
		}
		c := colBaseline
		if i%2 == 1 {
			c = colCandidate
		}
		label := fmt.Sprintf("%s  p50 %s  p99 %s  max %s", l.Name,
			fmtUnit(float64(l.Hist.ValueAtQuantile(50)), u), fmtUnit(float64(l.Hist.ValueAtQuantile(99)), u), fmtUnit(float64(l.Hist.Max()), u))
		pts, err := line(p, label, xys, c, false, false)
		if err != nil {
			return nil, fmt.Errorf("plot percentiles: %w", err)
		}
		fig.Series = append(fig.Series, SeriesInfo{Name: l.Name, Points: pts})
	}
	p.X.Min = 1
	headroom(&p.Y, 0.15)
	padLog(&p.Y)
	fig.draw = func(c draw.Canvas) { p.Draw(c) }
	return fig, nil
}

// fmtUnit renders ns in unit u with three significant figures: "1.23ms".
func fmtUnit(ns float64, u Unit) string {
	return trimFloat(roundSig(ns/u.Ns, 3)) + u.Name
}

func roundSig(x float64, n int) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	p := math.Pow(10, float64(n)-math.Ceil(math.Log10(math.Abs(x))))
	return math.Round(x*p) / p
}
