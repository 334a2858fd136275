package site

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/storeview"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/htmlreport"
)

// Geometry of the trend chart's viewBox (the page scales it to its column).
const (
	chartW, chartH                         = 960, 340
	chartL, chartR, chartT, chartB         = 70, 12, 14, 40
	sparkW, sparkH, sparkPad       float64 = 120, 28, 3
)

// chart is the key page's trend: p50/p99/p99.9 per night on a log axis, drawn as an SVG by
// the page's template. Coordinates are in the viewBox.
type chart struct {
	W, H                   int
	Left, Right, Top, Bott float64
	Title, Desc            string
	Series                 []series
	Nights                 []chartNight
	YTicks, XTicks         []tick
	Changes, Promos        []marker
}

// series is one metric's line.
type series struct {
	Metric, Class, Points string
	// N counts the nights drawn (those with a value): the test's "one point per night".
	N int
}

// chartNight is one night's dots, linked to its page when it has one.
type chartNight struct {
	Href, Class string
	Dots        []dot
}

type dot struct {
	X, Y          float64
	Metric, Class string
	Title         string
}

type tick struct {
	At    float64
	Label string
	// Anchor is the label's text-anchor: the outermost x labels stay inside the chart.
	Anchor string
}

// marker is a vertical mark at X with its hover text.
type marker struct {
	X     float64
	Title string
}

// metricClass is the CSS class of a metric's colour.
var metricClass = map[string]string{"p50": "m-p50", "p99": "m-p99", "p99.9": "m-p999"}

// logScale maps [lo, hi] onto [top, bottom] of the viewBox, logarithmically, high at the top.
type logScale struct{ lo, hi, top, bottom float64 }

func newLogScale(lo, hi, top, bottom float64) logScale {
	if lo <= 0 || hi <= 0 {
		lo, hi = 1, 10
	}
	if hi <= lo*1.01 {
		lo, hi = lo/1.1, hi*1.1
	}
	pad := math.Pow(hi/lo, 0.05)
	return logScale{math.Log(lo / pad), math.Log(hi * pad), top, bottom}
}

func (s logScale) y(v float64) float64 {
	return s.bottom - (math.Log(v)-s.lo)/(s.hi-s.lo)*(s.bottom-s.top)
}

// ticks are round values inside the scale: 1-2-5 per decade, or finer steps when that leaves
// fewer than three, thinned to at most 8.
func (s logScale) ticks() []float64 {
	var out []float64
	for _, ms := range [][]float64{{1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 8}, {1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9}} {
		out = out[:0]
		for d := math.Floor(s.lo / math.Ln10); d <= math.Ceil(s.hi/math.Ln10); d++ {
			for _, m := range ms {
				v := m * math.Pow(10, d)
				if l := math.Log(v); l >= s.lo && l <= s.hi {
					out = append(out, v)
				}
			}
		}
		if len(out) >= 3 {
			break
		}
	}
	for len(out) > 8 {
		var thin []float64
		for i := 0; i < len(out); i += 2 {
			thin = append(thin, out[i])
		}
		out = thin
	}
	return out
}

// xAt places night i of n across [left, right].
func xAt(i, n int, left, right float64) float64 {
	if n <= 1 {
		return (left + right) / 2
	}
	return left + (right-left)*float64(i)/float64(n-1)
}

// trendChart draws v's nights, its change points and promotions; nil without nights.
func trendChart(v *keyView) *chart {
	n := len(v.Nights)
	if n == 0 {
		return nil
	}
	c := &chart{W: chartW, H: chartH, Left: chartL, Right: chartW - chartR, Top: chartT, Bott: chartH - chartB}
	lo, hi := math.Inf(1), 0.0
	for _, nt := range v.Nights {
		for _, m := range history.Metrics {
			if x := float64(m.Get(toHistory(nt))); x > 0 {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	ys := newLogScale(lo, hi, c.Top, c.Bott)
	for _, t := range ys.ticks() {
		c.YTicks = append(c.YTicks, tick{ys.y(t), gate.FormatNs(t), "end"})
	}
	for j, i := range labelNights(n, 6) {
		anchor := "middle"
		if j == 0 && n > 1 {
			anchor = "start"
		} else if i == n-1 && n > 1 {
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, tick{xAt(i, n, c.Left, c.Right), v.Nights[i].Date(), anchor})
	}
	lines := make([][]string, len(history.Metrics))
	for _, m := range history.Metrics {
		c.Series = append(c.Series, series{Metric: m.Name, Class: metricClass[m.Name]})
	}
	for i, nt := range v.Nights {
		x := xAt(i, n, c.Left, c.Right)
		cn := chartNight{Href: nt.Page, Class: "night"}
		if nt.Damaged != "" {
			cn.Class += " damaged"
		}
		for j, m := range history.Metrics {
			val := m.Get(toHistory(nt))
			if val <= 0 {
				continue
			}
			y := ys.y(float64(val))
			lines[j] = append(lines[j], fmt.Sprintf("%.1f,%.1f", x, y))
			c.Series[j].N++
			cn.Dots = append(cn.Dots, dot{X: x, Y: y, Metric: m.Name, Class: metricClass[m.Name], Title: nightTitle(nt, m.Name, val)})
		}
		c.Nights = append(c.Nights, cn)
	}
	for j := range c.Series {
		c.Series[j].Points = strings.Join(lines[j], " ")
	}
	for _, s := range v.Steps {
		x := (xAt(s.Good.I, n, c.Left, c.Right) + xAt(s.Bad.I, n, c.Left, c.Right)) / 2
		t := fmt.Sprintf("change point at night %d (%s): %s", s.Bad.I+1, s.Bad.Date(), strings.Join(s.Changes, "; "))
		if s.Range != "" {
			t += "; commits " + s.Range
		}
		c.Changes = append(c.Changes, marker{x, t})
	}
	for _, p := range v.Promotions {
		i := promotedAt(v.Nights, p.Run, p.Time.Unix())
		t := fmt.Sprintf("%s: run %s promoted to baseline (rule %s", p.Time.UTC().Format("2006-01-02"), p.Run, orDash(p.Rule))
		if p.Reason != "" {
			t += ", reason: " + p.Reason
		}
		c.Promos = append(c.Promos, marker{xAt(i, n, c.Left, c.Right), t + ")"})
	}
	c.Title = fmt.Sprintf("%s on %s: nightly p50, p99 and p99.9, %d nights, log scale", v.Suite, v.Key, n)
	c.Desc = chartDesc(v)
	return c
}

func toHistory(n night) history.Night {
	return history.Night{P50: n.E.P50, P99: n.E.P99, P999: n.E.P999}
}

// labelNights picks about k evenly spaced night indices to label on the x axis.
func labelNights(n, k int) []int {
	if n <= k {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, k)
	for i := range out {
		out[i] = i * (n - 1) / (k - 1)
	}
	return out
}

// promotedAt is the index of the night that ran run, else of the first night after unix time t
// (the last night when none is).
func promotedAt(nights []night, run string, t int64) int {
	for i, n := range nights {
		if n.E.Run == run {
			return i
		}
	}
	for i, n := range nights {
		if n.E.Time.Unix() >= t {
			return i
		}
	}
	return len(nights) - 1
}

func nightTitle(n night, metric string, ns int64) string {
	t := fmt.Sprintf("night %d, %s: %s %s ms; commit %s; verdict %s", n.I+1, n.Date(), metric, storeview.Millis(ns), storeview.ShortCommit(n.E.Commit), orDash(n.E.Verdict))
	if n.Change != "" {
		t += "; changed: " + n.Change
	}
	if n.Damaged != "" {
		t += "; DAMAGED"
	}
	return t
}

// chartDesc is the chart's text alternative: the range of each metric, the change points and
// the promotions, in words.
func chartDesc(v *keyView) string {
	first, last := v.Nights[0], v.Nights[len(v.Nights)-1]
	var b strings.Builder
	fmt.Fprintf(&b, "%d nights from %s to %s. ", len(v.Nights), first.Date(), last.Date())
	for _, m := range history.Metrics {
		fmt.Fprintf(&b, "%s went from %s to %s ms. ", m.Name, storeview.Millis(m.Get(toHistory(first))), storeview.Millis(m.Get(toHistory(last))))
	}
	fmt.Fprintf(&b, "%d change points", len(v.Steps))
	for i, s := range v.Steps {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%snight %d (%s) %s", sep, s.Bad.I+1, s.Bad.Date(), s.Bad.Change)
	}
	fmt.Fprintf(&b, ". %d promotions.", len(v.Promotions))
	return b.String()
}

// spark is an index row's sparkline: the p99 of the last nights.
type spark struct {
	W, H         float64
	Points       string
	LastX, LastY float64
	Label        string
	Nights       int
}

// sparkline draws nights' p99 on a log scale; nil when no night has one.
func sparkline(nights []night) *spark {
	var pts []string
	lo, hi := math.Inf(1), 0.0
	for _, n := range nights {
		if n.E.P99 > 0 {
			lo, hi = min(lo, float64(n.E.P99)), max(hi, float64(n.E.P99))
		}
	}
	if hi == 0 {
		return nil
	}
	ys := newLogScale(lo, hi, sparkPad, sparkH-sparkPad)
	s := &spark{W: sparkW, H: sparkH}
	for i, n := range nights {
		if n.E.P99 <= 0 {
			continue
		}
		x, y := xAt(i, len(nights), sparkPad, sparkW-sparkPad), ys.y(float64(n.E.P99))
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		s.LastX, s.LastY = x, y
	}
	s.Points = strings.Join(pts, " ")
	s.Nights = len(pts)
	s.Label = fmt.Sprintf("p99 over the last %d nights: %s to %s ms (low %s, high %s)", len(nights),
		storeview.Millis(nights[0].E.P99), storeview.Millis(nights[len(nights)-1].E.P99), storeview.Millis(int64(lo)), storeview.Millis(int64(hi)))
	return s
}

// writeReport writes a night's report page to p, creating its folder.
func writeReport(p string, page *htmlreport.Page) error {
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, page); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, buf.Bytes(), 0o644)
}

// strconvF1 formats a coordinate with one decimal.
func strconvF1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
