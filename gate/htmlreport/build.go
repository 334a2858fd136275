package htmlreport

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/plot"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// Input is what Build makes a page of.
type Input struct {
	// Base and Cand are the results shown (Load or FromResult); Base may be nil. The arms of
	// an interleaved A/B result (LoadAB) are Base (arm A) and Cand (arm B): the page then names
	// them as arms and draws their pairing round by round.
	Base, Cand *Result
	// Report is the comparison. The page shows its verdict and rule table only when Decided:
	// when it came from a COMPARISON.json or was made against a baseline.
	Report  *gate.Report
	Decided bool
	// Notes are the caller's remarks (no stored baseline for this environment); the notes of
	// figures left out follow them.
	Notes []string
	// Title of the page; empty: the suite and what is compared.
	Title string
	// Generator names the tool in the footer ("tailgate 0.3.0").
	Generator string
	// WCETMethod is the tail model of the candidate's pWCET figure and tables; empty leaves the
	// analysis out (it refits the tail a few hundred times).
	WCETMethod wcet.Method
	// WCET, when set and analysing with WCETMethod, gives the candidate's analysis (the one
	// the comparison's pwcet rules used), so the tail is not fitted twice.
	WCET *wcet.Cache
	// Trend reads the nightly history of the candidate's suite and environment, oldest night
	// first. Nil, or fewer than two nights, leaves the trend figure out; an error is a note.
	Trend func() ([]history.Night, error)
}

// Build draws the figures (gate/plot, with the fit of gate/wcet and the change points of
// gate/history) and lays out the page. A figure that cannot be drawn (no samples, no history)
// is left out with a note rather than failing the report. The figures are returned too, for
// writing them as images.
func Build(in Input) (*Page, []*plot.Figure, error) {
	page := &Page{Title: in.Title, Notes: in.Notes, Generator: in.Generator}
	if in.Decided {
		page.Report = in.Report
	}
	page.Sides = sides(in)
	if page.Title == "" {
		page.Title, page.Subtitle = title(in)
	}
	figs := figures(in, page)
	for _, fig := range figs {
		svg, err := fig.SVG()
		if err != nil {
			return nil, nil, err
		}
		hf := Figure{ID: fig.Name, Title: fig.Title, Caption: fig.Caption, SVG: svg}
		for _, s := range fig.Series {
			hf.Series = append(hf.Series, Series{Name: s.Name, Points: s.Points})
		}
		page.Figures = append(page.Figures, hf)
	}
	return page, figs, nil
}

// side is one result of the report: id is its role (in figure ids), name what the page calls
// it; arm is set for an arm of an interleaved A/B result, short naming it in figures.
type side struct {
	id, name string
	r        *Result
	arm      *result.Arm
	short    string
}

// present returns the baseline (when there is one) and the candidate, in that order.
func present(in Input) []side {
	ss := []side{{id: "baseline", name: "baseline", r: in.Base}, {id: "candidate", name: "candidate", r: in.Cand}}
	if ab := abOf(in); ab != nil {
		ss[0].name, ss[1].name = "arm A (baseline)", "arm B (candidate)"
		short := armNames(ab)
		for i := range ss {
			ss[i].arm, ss[i].short = &ab.Arms[i], short[i]
		}
	}
	var out []side
	for _, s := range ss {
		if s.r != nil {
			out = append(out, s)
		}
	}
	return out
}

// abOf is the A/B record of an input whose sides are the two arms of an interleaved A/B
// result, nil for any other.
func abOf(in Input) *result.AB {
	if in.Base == nil || in.Cand == nil || !in.Base.Run.Meta.IsAB() || !in.Cand.Run.Meta.IsAB() {
		return nil
	}
	return in.Cand.Run.Meta.AB
}

func sides(in Input) []Side {
	var out []Side
	for _, s := range present(in) {
		m := s.r.Run.Meta
		side := Side{
			Name: s.name, Dir: s.r.Run.Dir, Suite: m.Suite, Commit: m.Git.Commit, Runtime: m.Env.RuntimeLabel(), Summary: m.Summary,
			Intervals: m.Counts.Intervals, Healthy: m.Health.Healthy, Reasons: m.Health.Reasons,
		}
		if s.arm != nil {
			side.Arm = strings.Trim(gate.ArmLabel(*s.arm), "()")
		}
		out = append(out, side)
	}
	return out
}

// title is the default title and subtitle: the suite, and what is compared.
func title(in Input) (string, string) {
	t := "tailgate report: " + in.Cand.Run.Meta.Suite
	if ab := abOf(in); ab != nil {
		return fmt.Sprintf("%s (interleaved A/B, %s)", t, ab.Design()),
			fmt.Sprintf("arm B %s against arm A %s, interleaved A/B, %s of %s per arm: result %s",
				gate.ArmLabel(ab.Arms[1]), gate.ArmLabel(ab.Arms[0]), ab.Design(), gate.FormatDuration(ab.Round), in.Cand.Run.Dir)
	}
	if in.Base != nil {
		return t, fmt.Sprintf("candidate %s against baseline %s", in.Cand.Run.Dir, in.Base.Run.Dir)
	}
	return t, "result " + in.Cand.Run.Dir
}

// figures draws the pairing of an A/B's arms, the percentile curves, each result's timeline,
// the candidate's pWCET exceedance and the nightly trend, noting on the page each one left out
// and why.
func figures(in Input, page *Page) []*plot.Figure {
	var figs []*plot.Figure
	add := func(what string, fig *plot.Figure, err error) {
		switch {
		case err != nil:
			page.Notes = append(page.Notes, fmt.Sprintf("%s figure left out: %v", what, err))
		case fig != nil:
			figs = append(figs, fig)
		}
	}
	suite := in.Cand.Run.Meta.Suite
	ab := abOf(in)
	if ab != nil {
		fig, err := pairedFigure(in, ab)
		add("pairing", fig, err)
	}
	t := suite + ": latency by percentile"
	switch {
	case ab != nil:
		t = suite + ": arm A vs arm B, latency by percentile"
	case in.Base != nil:
		t = suite + ": baseline vs candidate, latency by percentile"
	}
	var lats []plot.Latency
	sides := present(in)
	label := func(s side) string { return s.r.Run.Meta.Env.RuntimeLabel() }
	for _, s := range sides {
		name := s.name
		if len(sides) == 2 && label(sides[0]) != label(sides[1]) {
			name += " (" + label(s) + ")" // two runtimes (CPU vs NPU): say which curve is which
		}
		lats = append(lats, plot.Latency{Name: name, Hist: s.r.Run.Merged()})
	}
	fig, err := plot.Percentiles(t, lats)
	add("percentile", fig, err)
	for _, s := range present(in) {
		fig, err := timelineFigure(s)
		add(s.name+" timeline", fig, err)
	}
	if in.WCETMethod != "" {
		cache := in.WCET
		if cache == nil || cache.Method() != in.WCETMethod {
			cache = wcet.NewCache(wcet.Options{Method: in.WCETMethod})
		}
		fig, w, err := wcetFigure(sides[len(sides)-1], cache)
		add("pWCET", fig, err)
		if err == nil {
			page.WCET = w
		}
	}
	if in.Trend != nil {
		fig, err := trendFigure(in.Cand.Run.Meta, in.Trend)
		add("nightly trend", fig, err)
	}
	return figs
}

// timelineFigure draws one result's time slots (intervals of several tags that share a start
// merged: what the run saw in each slot), with its telemetry temperature when there is any; an
// arm's slots are its rounds.
func timelineFigure(s side) (*plot.Figure, error) {
	r := s.r
	if len(r.Slots) == 0 {
		return nil, errors.New("no intervals")
	}
	m := r.Run.Meta
	t := fmt.Sprintf("%s %s: latency per %s interval", s.name, filepath.Base(r.Run.Dir), gate.FormatDuration(m.Workload.Interval))
	if s.arm != nil {
		t = fmt.Sprintf("%s, %s: latency per %s round", s.name, s.short, gate.FormatDuration(m.AB.Round))
	}
	fig, err := plot.Timeline(t, r.Slots, r.Temps)
	if err != nil {
		return nil, err
	}
	fig.Name = "timeline-" + s.id
	return fig, nil
}

// armNames names the arms in figures: by their models' file names (a worker by its runtime),
// or, when those are the same, by gate.ArmLabel with the file name for the path: two session
// settings of one model.
func armNames(ab *result.AB) [2]string {
	var n [2]string
	for i, a := range ab.Arms {
		n[i] = cmp.Or(strings.TrimSpace(a.Runtime+" "+a.Version), "worker")
		if a.Model != "" {
			n[i] = filepath.Base(a.Model)
		}
	}
	if n[0] == n[1] {
		for i, a := range ab.Arms {
			l := gate.ArmLabel(a)
			if a.Model != "" {
				l = strings.Replace(l, a.Model, n[i], 1)
			}
			n[i] = strings.Trim(l, "()")
		}
	}
	return n
}

// pairedFigure draws the arms of an A/B round by round, with the gate's paired estimate of the
// p50 ratio when the report has a relative p50 rule with an interval.
func pairedFigure(in Input, ab *result.AB) (*plot.Figure, error) {
	a, b := in.Base.Slots, in.Cand.Slots
	short := armNames(ab)
	rounds := make([]plot.Round, min(len(a), len(b)))
	for k := range rounds {
		rounds[k] = plot.Round{A: a[k].P50, B: b[k].P50}
	}
	p := plot.Pairing{
		Title: fmt.Sprintf("%s: interleaved A/B, %s, p50 per round", in.Cand.Run.Meta.Suite, ab.Design()),
		A:     "arm A (baseline) " + short[0], B: "arm B (candidate) " + short[1],
		Rounds: rounds,
	}
	if ab.Sessions > 1 {
		p.SessionLen = ab.SessionRounds()
	}
	if in.Report != nil {
		for _, r := range in.Report.Rules {
			if r.Metric == "p50" && r.LimitKind == "relative" && r.Ratio != nil && r.RatioLo != nil && r.RatioHi != nil {
				p.Estimate = &plot.RatioEstimate{Metric: r.Metric, Point: *r.Ratio, Lo: *r.RatioLo, Hi: *r.RatioHi, Confidence: r.Confidence, Limit: r.LimitValue}
				break
			}
		}
	}
	return plot.Paired(p)
}

// wcetFigure analyses the candidate's tail (from the block maxima and merged tails its Run
// kept) and draws its exceedance curve.
func wcetFigure(s side, cache *wcet.Cache) (*plot.Figure, *WCET, error) {
	blocks, a, err := cache.Analyze(s.r.Run)
	if err != nil {
		return nil, nil, err
	}
	fig, err := a.ExceedanceFigure(fmt.Sprintf("%s %s: pWCET exceedance", s.name, filepath.Base(s.r.Run.Dir)), blocks.Merged, wcet.DefaultProbs)
	if err != nil {
		return nil, nil, err
	}
	return fig, wcetSection(a), nil
}

// wcetSection is the analysis as the page's pWCET tables show it.
func wcetSection(a *wcet.Analysis) *WCET {
	w := &WCET{
		Method: string(a.Method), Blocks: a.Blocks, Samples: a.Samples, MaxObservedNs: a.MaxObservedNs,
		Valid: a.Valid, Reason: a.Reason, Confidence: a.Confidence,
	}
	for _, t := range a.Tests {
		w.Tests = append(w.Tests, WCETTest{Name: t.Name, Checks: t.Checks, Null: t.Null, Statistic: t.Statistic, PValue: t.PValue, Alpha: t.Alpha, Pass: t.Pass})
	}
	for _, b := range a.Bounds(wcet.DefaultProbs) {
		w.Bounds = append(w.Bounds, WCETBound{P: b.P, EstimateNs: b.EstimateNs, UpperNs: b.UpperNs, OK: b.OK, Reason: b.Reason})
	}
	return w
}

// trendFigure draws the nightly history of the candidate's suite and environment, with change
// points as `tailgate baseline history` finds them. It returns nil for fewer than two nights.
func trendFigure(m *result.Meta, read func() ([]history.Night, error)) (*plot.Figure, error) {
	nights, err := read()
	if err != nil || len(nights) < 2 {
		return nil, err
	}
	pts := make([]plot.Night, len(nights))
	for i, n := range nights {
		pts[i] = plot.Night{Label: n.Time.Format("01-02"), P50: float64(n.P50), P99: float64(n.P99), P999: float64(n.P999)}
	}
	hcs, err := history.Changes(nights, changepoint.Options{Seed: history.DefaultSeed})
	if err != nil {
		return nil, err
	}
	changes := make([]plot.Change, len(hcs))
	for i, c := range hcs {
		changes[i] = plot.Change{Metric: c.Metric, Night: c.Night, Shift: c.Shift}
	}
	return plot.Trend(fmt.Sprintf("%s: nightly trend (%d nights, key %s)", m.Suite, len(nights), m.Env.Key()), pts, changes)
}
