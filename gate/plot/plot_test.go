package plot

import (
	"bytes"
	"encoding/xml"
	"flag"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

var (
	pngDir = flag.String("pngdir", "", "also write every test figure as PNG here, to look at")
)

// lognormal fills a histogram with n seeded log-normal latencies around median ns, with a share
// of spikes k times slower: the shape of a real inference latency distribution.
func lognormal(seed uint64, n int, median, sigma, spike, k float64) *hdrhistogram.Histogram {
	r := rand.New(rand.NewPCG(seed, 7))
	h := hdrhistogram.New(1, int64(time.Hour), 3)
	for range n {
		v := median * math.Exp(sigma*r.NormFloat64())
		if r.Float64() < spike {
			v *= k
		}
		if err := h.RecordValue(int64(v)); err != nil {
			panic(err)
		}
	}
	return h
}

// intervals splits a seeded run into per-second interval histograms with a slow upward drift.
func intervals(seed uint64, n, per int, median float64) []IntervalStats {
	out := make([]IntervalStats, n)
	for i := range out {
		h := lognormal(seed+uint64(i), per, median*(1+0.004*float64(i)), 0.08, 0.002, 6)
		out[i] = IntervalStats{
			Start: time.Duration(i) * time.Second, End: time.Duration(i+1) * time.Second,
			Count: h.TotalCount(), P50: h.ValueAtQuantile(50), P99: h.ValueAtQuantile(99), Max: h.Max(),
		}
	}
	return out
}

// render checks a figure renders to well-formed SVG and to a PNG that decodes, and writes the
// PNG to -pngdir when given.
func render(t *testing.T, f *Figure) []byte {
	t.Helper()
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("%s: SVG is not well-formed XML: %v", f.Name, err)
			}
			break
		}
	}
	b, err := f.PNG(0)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", f.Name, err)
	}
	if w := img.Bounds().Dx(); w != int(float64(f.Width/vg.Inch)*DefaultDPI+0.5) {
		t.Errorf("%s: PNG is %d px wide, want %v in at %d dpi", f.Name, w, (f.Width / vg.Inch), DefaultDPI)
	}
	if *pngDir != "" {
		if err := os.WriteFile(filepath.Join(*pngDir, t.Name()[strings.LastIndex(t.Name(), "/")+1:]+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return svg
}

// texts returns the text elements of an SVG document.
func texts(t *testing.T, svg []byte) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(svg))
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Local == "text"
		case xml.CharData:
			if in {
				out = append(out, string(e))
			}
		case xml.EndElement:
			in = false
		}
	}
	return out
}

func hasAll(t *testing.T, name string, got []string, want ...string) {
	t.Helper()
	all := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%s: no text %q in the SVG; texts:\n%s", name, w, all)
		}
	}
}

func TestPercentileXY(t *testing.T) {
	h := lognormal(1, 100_000, 2e6, 0.1, 0.001, 5)
	xys := PercentileXY(h, 10)
	if got, want := len(xys), 10*5+1; got != want {
		t.Fatalf("%d points for 1e5 samples at 10 per decade, want %d", got, want)
	}
	if xys[0].X != 1 || xys[0].Y != float64(h.ValueAtQuantile(0)) {
		t.Errorf("first point %+v, want x=1 at the minimum", xys[0])
	}
	if last := xys[len(xys)-1]; last.X != 100_000 || last.Y != float64(h.Max()) {
		t.Errorf("last point %+v, want the max %d at x=n", last, h.Max())
	}
	// x = 10 is q = 0.9 and x = 100 is q = 0.99.
	for _, c := range []struct {
		i int
		q float64
	}{{10, 90}, {20, 99}, {30, 99.9}} {
		if got, want := xys[c.i].Y, float64(h.ValueAtQuantile(c.q)); got != want {
			t.Errorf("point %d: %v, want p%v = %v", c.i, got, c.q, want)
		}
	}
	for i := 1; i < len(xys); i++ {
		if xys[i].Y < xys[i-1].Y || xys[i].X <= xys[i-1].X {
			t.Fatalf("curve not monotone at %d: %+v after %+v", i, xys[i], xys[i-1])
		}
	}
	if PercentileXY(hdrhistogram.New(1, 10, 3), 10) != nil {
		t.Error("an empty histogram has no curve")
	}
}

func TestPercentLabel(t *testing.T) {
	for x, want := range map[float64]string{1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 1e4: "99.99%", 1e6: "99.9999%"} {
		if got := percentLabel(x); got != want {
			t.Errorf("percentLabel(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestUnitAndLabels(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want string
	}{{900, "ns"}, {20e3, "µs"}, {999e3, "µs"}, {4.6e6, "ms"}, {9e9, "ms"}, {30e9, "s"}} {
		if got := UnitFor(c.ns).Name; got != c.want {
			t.Errorf("UnitFor(%v) = %s, want %s", c.ns, got, c.want)
		}
	}
	if got := powerLabel(-12); got != "1e-12" {
		t.Errorf("powerLabel(-12) = %q", got)
	}
	for v, want := range map[float64]float64{0.013: 0.01, 2.5: 2, 7: 5, 100: 100} {
		if got := floor125(v); math.Abs(got-want) > 1e-12 {
			t.Errorf("floor125(%v) = %v, want %v", v, got, want)
		}
	}
	for v, want := range map[float64]float64{0.013: 0.02, 2.5: 5, 7: 10, 100: 100} {
		if got := ceil125(v); math.Abs(got-want) > 1e-12 {
			t.Errorf("ceil125(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestPercentiles(t *testing.T) {
	base := lognormal(1, 50_000, 2e6, 0.1, 0.002, 4)
	cand := lognormal(2, 50_000, 2.6e6, 0.1, 0.002, 4)
	f, err := Percentiles("vision: baseline vs candidate", []Latency{{"baseline", base}, {"candidate", cand}})
	if err != nil {
		t.Fatal(err)
	}
	svg := render(t, f)
	if len(f.Series) != 2 || f.Series[0].Points != len(PercentileXY(base, 0)) || f.Series[1].Name != "candidate" {
		t.Errorf("series %+v", f.Series)
	}
	hasAll(t, f.Name, texts(t, svg), "percentile", "latency (ms)", "50%", "99%", "99.9%", "baseline", "candidate", "p99 ", "vision: baseline vs candidate")
	goldenSVG(t, f.Name, svg)
	if _, err := Percentiles("x", []Latency{{"a", hdrhistogram.New(1, 10, 3)}}); err == nil {
		t.Error("no error for an empty histogram")
	}
}

func TestTimeline(t *testing.T) {
	ivs := intervals(3, 40, 2000, 2e6)
	var temps []Temperature
	for i := range ivs {
		temps = append(temps, Temperature{At: ivs[i].End, Celsius: 52 + 0.3*float64(i)})
	}
	for _, c := range []struct {
		name  string
		temps []Temperature
		want  int
	}{{"with-temperature", temps, 4}, {"without-temperature", nil, 3}} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Timeline("candidate over time", ivs, c.temps)
			if err != nil {
				t.Fatal(err)
			}
			svg := render(t, f)
			if len(f.Series) != c.want {
				t.Fatalf("series %+v, want %d", f.Series, c.want)
			}
			for _, s := range f.Series {
				if s.Points != 40 {
					t.Errorf("series %s has %d points, want 40", s.Name, s.Points)
				}
			}
			want := []string{"time since start (s)", "latency (ms)", "p50", "p99", "max"}
			if c.temps != nil {
				want = append(want, "CPU °C")
			}
			hasAll(t, f.Name, texts(t, svg), want...)
		})
	}
}

func TestExceedance(t *testing.T) {
	h := lognormal(4, 100_000, 2e6, 0.1, 0.001, 5)
	// A stand-in model: exponential tail beyond the observed p99.
	p99 := float64(h.ValueAtQuantile(99))
	est := func(p float64) (float64, bool) { return p99 + 0.8e6*math.Log(0.01/p), p <= 0.01 }
	up := func(p float64) (float64, bool) { v, ok := est(p); return v * 1.1, ok }
	m := PWCETModel{Label: "GEV fit, 40 blocks", Estimate: est, Upper: up, UpperLabel: "95% upper bound", From: 0.01, Marks: []float64{1e-6, 1e-9, 1e-12}}
	t.Run("model", func(t *testing.T) {
		f, err := Exceedance("pWCET", h, m)
		if err != nil {
			t.Fatal(err)
		}
		svg := render(t, f)
		got := map[string]int{}
		for _, s := range f.Series {
			got[s.Name] = s.Points
		}
		if got["observed"] < 30 || got["model"] != 10*DefaultModelPoints+1 || got["upper"] != got["model"] || got["marks"] != 3 {
			t.Errorf("series %v", got)
		}
		hasAll(t, f.Name, texts(t, svg), "exceedance probability per inference", "latency (ms)", "GEV fit, 40 blocks", "95% upper bound", "1e-12", "1e-6", "max observed")
	})
	t.Run("refused", func(t *testing.T) {
		m := m
		m.Reason = "Ljung-Box (independence) failed: Q = 31.2, p = 0.0005"
		f, err := Exceedance("pWCET", h, m)
		if err != nil {
			t.Fatal(err)
		}
		render(t, f)
		if len(f.Series) != 1 || f.Series[0].Name != "observed" {
			t.Errorf("a refused bound draws only the observed tail, got %+v", f.Series)
		}
		if !strings.Contains(f.Caption, "Ljung-Box") {
			t.Errorf("caption %q does not say why", f.Caption)
		}
	})
}

func TestTrend(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	var nights []Night
	for i := range 30 {
		lvl := 2e6
		if i >= 18 {
			lvl = 2.3e6
		}
		n := lvl * (1 + 0.01*r.NormFloat64())
		nights = append(nights, Night{Label: time.Date(2026, 3, 1+i, 0, 0, 0, 0, time.UTC).Format("01-02"), P50: n, P99: 1.4 * n, P999: 2 * n})
	}
	f, err := Trend("nightly trend", nights, []Change{{Metric: "p50", Night: 18, Shift: 0.15}, {Metric: "p99", Night: 18, Shift: 0.15}, {Metric: "p50", Night: 99}})
	if err != nil {
		t.Fatal(err)
	}
	svg := render(t, f)
	got := map[string]int{}
	for _, s := range f.Series {
		got[s.Name] = s.Points
	}
	if got["p50"] != 30 || got["p99.9"] != 30 || got["changes"] != 1 {
		t.Errorf("series %v (an out-of-range change must be dropped)", got)
	}
	hasAll(t, f.Name, texts(t, svg), "p50 +15%, p99 +15%", "03-01", "night", "latency (ms)")
	if _, err := Trend("x", nil, nil); err == nil {
		t.Error("no error for no nights")
	}
}

// TestDeterministic: the same data renders byte-identical SVG, so reports diff cleanly.
func TestDeterministic(t *testing.T) {
	mk := func() []byte {
		f, err := Percentiles("x", []Latency{{"a", lognormal(9, 5000, 1e6, 0.2, 0.01, 3)}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.SVG()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(mk(), mk()) {
		t.Error("two renderings of the same figure differ")
	}
}

// goldenSVG compares a rendering with testdata/NAME.svg (-update rewrites it; look at it with
// -pngdir first).
func goldenSVG(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".svg"), got)
}

// TestMinMax checks the downsampling keeps every extreme of a long series, in x order, within
// the point budget, and leaves short series alone.
func TestMinMax(t *testing.T) {
	xys := make(plotter.XYs, 17_280)
	for i := range xys {
		xys[i] = plotter.XY{X: float64(i), Y: 1 + 0.01*math.Sin(float64(i))}
	}
	xys[12_345].Y, xys[777].Y = 40, 0.1 // one spike up, one dip
	got := MinMax(xys, DefaultMaxPoints)
	if len(got) > DefaultMaxPoints || len(got) < DefaultMaxPoints/2 {
		t.Fatalf("%d points, want at most %d", len(got), DefaultMaxPoints)
	}
	var top, bottom float64 = 0, 2
	for i, p := range got {
		if i > 0 && p.X <= got[i-1].X {
			t.Fatalf("point %d: x %g after %g", i, p.X, got[i-1].X)
		}
		top, bottom = max(top, p.Y), min(bottom, p.Y)
	}
	if top != 40 || bottom != 0.1 {
		t.Errorf("extremes %g and %g, want 40 and 0.1", top, bottom)
	}
	if short := xys[:DefaultMaxPoints]; len(MinMax(short, DefaultMaxPoints)) != DefaultMaxPoints {
		t.Error("a short series was downsampled")
	}
}

// TestTimelineLong draws a 48-hour run of 10-second intervals: each series is downsampled to
// the point budget and the one-interval stall stays the figure's maximum.
func TestTimelineLong(t *testing.T) {
	ivs := make([]IntervalStats, 17_280)
	temps := make([]Temperature, len(ivs))
	for i := range ivs {
		s := time.Duration(i) * 10 * time.Second
		ivs[i] = IntervalStats{Start: s, End: s + 10*time.Second, Count: 1000, P50: 2e6, P99: 3e6, Max: 4e6 + int64(i%7)*1e4}
		temps[i] = Temperature{At: s + 10*time.Second, Celsius: 55 + float64(i%11)}
	}
	ivs[9_001].Max = 250e6
	f, err := Timeline("long", ivs, temps)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Series {
		if s.Points > DefaultMaxPoints {
			t.Errorf("series %s: %d points", s.Name, s.Points)
		}
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if len(svg) > 1<<20 {
		t.Errorf("SVG of %d bytes", len(svg))
	}
	hasAll(t, f.Name, texts(t, svg), "time since start (h)", "latency (ms)")
}
