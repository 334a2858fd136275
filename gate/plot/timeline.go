package plot

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// IntervalStats is one interval (or time slot) reduced to what the timeline draws: its place in
// the run, its sample count and its p50, p99 and maximum in ns (as hdrhistogram's
// ValueAtQuantile and Max report them). A caller computes these while streaming a log, so a
// 48-hour run is drawn without holding its interval histograms.
type IntervalStats struct {
	// Start and End are offsets from the start of the run.
	Start, End    time.Duration
	Count         int64
	P50, P99, Max int64
}

// Temperature is one telemetry reading: the CPU temperature at the end of an interval.
type Temperature struct {
	At      time.Duration // offset from the start of the run
	Celsius float64
}

// DefaultMaxPoints is the most points a timeline series is drawn with. Longer runs are
// downsampled by min-max bucketing (see MinMax): a 48-hour run at 10-second intervals (17,280
// points a series) becomes 2,000, its spikes kept.
const DefaultMaxPoints = 2000

// MinMax downsamples xys (in x order) to at most maxPoints points: the points are split into
// maxPoints/2 runs of consecutive points of equal size (±1), and each run is drawn by its
// smallest and its largest y, in x order (one point when they are the same point). Every
// extreme survives, so a one-interval spike in a 48-hour run stays visible. Series of at most
// maxPoints points are returned as they are.
func MinMax(xys plotter.XYs, maxPoints int) plotter.XYs {
	n := len(xys)
	if maxPoints < 2 || n <= maxPoints {
		return xys
	}
	runs := maxPoints / 2
	out := make(plotter.XYs, 0, 2*runs)
	for r := range runs {
		lo, hi := r*n/runs, (r+1)*n/runs
		mn, mx := lo, lo
		for i := lo + 1; i < hi; i++ {
			if xys[i].Y < xys[mn].Y {
				mn = i
			}
			if xys[i].Y > xys[mx].Y {
				mx = i
			}
		}
		switch {
		case mn == mx:
			out = append(out, xys[mn])
		case mn < mx:
			out = append(out, xys[mn], xys[mx])
		default:
			out = append(out, xys[mx], xys[mn])
		}
	}
	return out
}

// Timeline draws per-interval p50, p99 and maximum over the run, each point at the middle of
// its interval, and below it the CPU temperature when temps is not empty. Empty intervals are
// skipped rather than drawn as zero. A series of more than DefaultMaxPoints points is
// downsampled by MinMax.
func Timeline(title string, ivs []IntervalStats, temps []Temperature) (*Figure, error) {
	var maxNs float64
	for _, iv := range ivs {
		if iv.Count > 0 {
			maxNs = max(maxNs, float64(iv.Max))
		}
	}
	if maxNs == 0 {
		return nil, errors.New("plot timeline: no samples to draw")
	}
	u := UnitFor(maxNs)
	xu := timeUnitFor(ivs)
	p := newPlot(title, "", "latency ("+u.Name+")")
	logLatencyY(p)
	qs := []struct {
		name string
		c    color.Color
		val  func(iv IntervalStats) int64
	}{
		{"max", colMax, func(iv IntervalStats) int64 { return iv.Max }},
		{"p99", colP99, func(iv IntervalStats) int64 { return iv.P99 }},
		{"p50", colP50, func(iv IntervalStats) int64 { return iv.P50 }},
	}
	fig := &Figure{
		Name: "timeline", Title: title, Width: DefaultWidth, Height: DefaultHeight,
		Caption: "Each interval's p50, p99 and maximum over the run (log latency axis). Drift, warm-up or a burst shows as a slope or a spike; with telemetry, the CPU temperature is drawn below on the same time axis.",
	}
	if len(ivs) > DefaultMaxPoints || len(temps) > DefaultMaxPoints {
		fig.Caption += fmt.Sprintf(" Long runs are drawn with at most %d points a series, keeping each stretch's lowest and highest value, so every spike stays visible.", DefaultMaxPoints)
	}
	for _, q := range qs {
		var xys plotter.XYs
		for _, iv := range ivs {
			if iv.Count == 0 {
				continue
			}
			mid := (iv.Start + iv.End) / 2
			xys = append(xys, plotter.XY{X: mid.Seconds() / xu.s, Y: float64(q.val(iv)) / u.Ns})
		}
		xys = MinMax(xys, DefaultMaxPoints)
		if err := fig.addLine(p, q.name, xys, q.c, false, len(xys) <= 120); err != nil {
			return nil, err
		}
	}
	headroom(&p.Y, 0.3)
	padLog(&p.Y)
	xlabel := "time since start (" + xu.name + ")"
	if len(temps) == 0 {
		p.X.Label.Text = xlabel
		p.X.Min = 0
		fig.draw = func(c draw.Canvas) { p.Draw(c) }
		return fig, nil
	}
	tp := newPlot("", xlabel, "CPU °C")
	var xys plotter.XYs
	for _, t := range temps {
		xys = append(xys, plotter.XY{X: t.At.Seconds() / xu.s, Y: t.Celsius})
	}
	xys = MinMax(xys, DefaultMaxPoints)
	pts, err := line(tp, "", xys, colTemp, false, len(xys) <= 120)
	if err != nil {
		return nil, fmt.Errorf("plot timeline: %w", err)
	}
	fig.Series = append(fig.Series, SeriesInfo{Name: "temperature", Points: pts})
	// A flat temperature would get a zero-height axis; give it at least ±2 °C.
	lo, hi := tp.Y.Min, tp.Y.Max
	if hi-lo < 4 {
		mid := (hi + lo) / 2
		tp.Y.Min, tp.Y.Max = mid-2, mid+2
	}
	tp.Y.Tick.Marker = latencyTicks
	hi = math.Max(p.X.Max, tp.X.Max)
	p.X.Min, p.X.Max, tp.X.Min, tp.X.Max = 0, hi, 0, hi
	fig.Height = DefaultHeight * 1.3
	fig.draw = func(c draw.Canvas) { alignX(c, []*gplot.Plot{p, tp}, []float64{3, 1.2}) }
	return fig, nil
}

type timeUnit struct {
	name string
	s    float64
}

// timeUnitFor picks seconds, minutes or hours for the run's length.
func timeUnitFor(ivs []IntervalStats) timeUnit {
	var end time.Duration
	for _, iv := range ivs {
		end = max(end, iv.End)
	}
	switch {
	case end >= 3*time.Hour:
		return timeUnit{"h", 3600}
	case end >= 5*time.Minute:
		return timeUnit{"min", 60}
	}
	return timeUnit{"s", 1}
}

// headroom raises the top of a log axis by frac of its decades, leaving the band the legend sits
// in free of data.
func headroom(ax *gplot.Axis, frac float64) {
	if ax.Min > 0 && ax.Max > ax.Min {
		ax.Max *= math.Pow(ax.Max/ax.Min, frac)
	}
}

// padLog widens a log axis to the nearest 1-2-5 values outside the data, so its ends carry
// labels.
func padLog(ax *gplot.Axis) {
	if ax.Min > 0 {
		ax.Min = floor125(ax.Min)
	}
	if ax.Max > 0 {
		ax.Max = ceil125(ax.Max)
	}
}

func floor125(v float64) float64 {
	e := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{5, 2, 1} {
		if m*e <= v*(1+1e-12) {
			return m * e
		}
	}
	return e
}

func ceil125(v float64) float64 {
	e := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v*(1-1e-12) {
			return m * e
		}
	}
	return 10 * e
}
