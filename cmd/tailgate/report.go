package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/htmlreport"
	"github.com/tailgate-ci/tailgate/gate/plot"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// Defaults of `tailgate report` flags.
const (
	// DefaultReportNights is how many of the newest nights the trend figure shows.
	DefaultReportNights = 90
	// DefaultReportDPI is the resolution of --png figures.
	DefaultReportDPI = plot.DefaultDPI
)

func init() {
	commands["report"] = command{"render a result or a comparison: HTML with SVG plots, PNG figures, Markdown or JSON", reportCmd}
}

const reportUsage = `usage: tailgate report [BASE] CAND [flags]
       tailgate report COMPARISON.json [BASE CAND] [flags]

Renders result directory CAND (and BASE, or the stored baseline with --store) as one
self-contained HTML page (--html), PNG figures (--png DIR) and/or the comparison as text
(--format). The page has the comparison's verdict and rule table, the results' summaries,
the percentile curves of baseline and candidate, each result's per-interval p50/p99/max with
CPU temperature, the candidate's pWCET exceedance curve with its validity tests, and with
--store the suite's nightly trend with change points.

COMPARISON.json is the output of 'tailgate compare --format json': its rule table is shown as
it was decided; the results are read from the directories it names unless BASE CAND are given.
Without it the comparison is made here, with the same rules as 'tailgate compare'.

report renders; it does not gate: it exits 0 when everything was written, 2 on an error.
Use 'tailgate compare' for the exit code.

flags:`

type reportFlags struct {
	compareFlags
	html, png  string
	noWCET     bool
	wcetMethod string
	nights     int
	title      string
}

func reportCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, reportUsage)
		fs.PrintDefaults()
	}
	var f reportFlags
	fs.StringVar(&f.html, "html", "", "write the HTML report to this file (atomically)")
	fs.StringVar(&f.png, "png", "", "write each figure as DIR/<figure>.png (created if missing)")
	fs.StringVar(&f.format, "format", "", "also write the comparison to stdout: table, markdown or json")
	fs.StringVar(&f.store, "store", "", "baseline store (folder or git:URL#BRANCH): the baseline when BASE is not given, and the nightly trend")
	fs.StringArrayVar(&f.thresholds, "threshold", nil, `threshold rule, repeatable (as for compare)`)
	fs.StringVar(&f.config, "config", "", "tailgate.yaml to take the suite's thresholds from (as for compare)")
	fs.StringVar(&f.suite, "suite", "", "suite whose thresholds apply (default: the candidate's suite)")
	fs.StringVar(&f.inconclusive, "inconclusive", DefaultCompareInconclusive, "policy recorded in the comparison: fail or pass")
	fs.BoolVar(&f.ignorePins, "ignore-pins", false, "compare results whose pinned environments differ")
	fs.BoolVar(&f.noWCET, "no-wcet", false, "leave out the pWCET analysis (it refits the tail a few hundred times)")
	fs.StringVar(&f.wcetMethod, "wcet-method", string(wcet.DefaultMethod), "pWCET tail model: gev, gumbel or gpd")
	fs.IntVar(&f.nights, "nights", DefaultReportNights, "newest nights in the trend figure (with --store)")
	fs.StringVar(&f.title, "title", "", "page title (default: the suite and what is compared)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	in, err := reportInputs(e, fs.Args(), &f)
	if err != nil {
		return withCode(exitError, err)
	}
	var text bytes.Buffer
	if f.format != "" {
		if err := render.Write(&text, render.Format(f.format), in.rep); err != nil {
			return withCode(exitError, err)
		}
	}
	if f.html != "" || f.png != "" {
		page, figs, err := buildReport(e, in, f)
		if err != nil {
			return withCode(exitError, err)
		}
		if err := writeReport(page, figs, f); err != nil {
			return withCode(exitError, err)
		}
	}
	if _, err := e.stdout.Write(text.Bytes()); err != nil {
		return withCode(exitError, err)
	}
	return nil
}

// reportInput is what a report is made of.
type reportInput struct {
	base, cand *result.Result
	rep        *gate.Report
	// decided is set when the comparison came from a COMPARISON.json or was made against a
	// baseline: only then does the page show a verdict and a rule table.
	decided bool
	notes   []string
}

// reportInputs validates the flags and arguments (all problems at once) and reads the results.
func reportInputs(e *env, args []string, f *reportFlags) (*reportInput, error) {
	var errs []error
	switch render.Format(f.format) {
	case "", render.FormatTable, render.FormatMarkdown, render.FormatJSON:
	default:
		errs = append(errs, fmt.Errorf("--format %q: want table, markdown or json", f.format))
	}
	if f.html == "" && f.png == "" && f.format == "" {
		errs = append(errs, errors.New("nothing to write: give --html FILE, --png DIR or --format"))
	}
	policy := gate.InconclusivePolicy(f.inconclusive)
	if policy != gate.InconclusiveFail && policy != gate.InconclusivePass {
		errs = append(errs, fmt.Errorf("--inconclusive %q: want fail or pass", f.inconclusive))
	}
	if m := wcet.Method(f.wcetMethod); m != wcet.GEV && m != wcet.Gumbel && m != wcet.GPD {
		errs = append(errs, fmt.Errorf("--wcet-method %q: want gev, gumbel or gpd", f.wcetMethod))
	}
	if f.nights < 0 {
		errs = append(errs, fmt.Errorf("--nights %d: must not be negative", f.nights))
	}
	if len(args) < 1 || len(args) > 3 {
		errs = append(errs, fmt.Errorf("want [BASE] CAND or COMPARISON.json [BASE CAND], got %d arguments", len(args)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	in := &reportInput{}
	var baseDir, candDir string
	if st, err := os.Stat(args[0]); err == nil && !st.IsDir() {
		rep, err := readComparison(args[0])
		if err != nil {
			return nil, err
		}
		in.rep, in.decided = rep, true
		switch len(args) {
		case 1:
			candDir = rep.Candidate.Dir
			if rep.Baseline != nil {
				baseDir = rep.Baseline.Dir
			}
			if candDir == "" {
				return nil, fmt.Errorf("%s names no candidate directory: give BASE CAND after it", args[0])
			}
		case 3:
			baseDir, candDir = args[1], args[2]
		default:
			return nil, fmt.Errorf("after COMPARISON.json give both BASE and CAND, or neither")
		}
	} else {
		switch len(args) {
		case 1:
			candDir = args[0]
		case 2:
			baseDir, candDir = args[0], args[1]
		default:
			return nil, fmt.Errorf("three arguments need a COMPARISON.json first; %s is a directory", args[0])
		}
	}
	var err error
	if in.cand, err = result.Read(candDir); err != nil {
		errs = append(errs, fmt.Errorf("candidate: %w", err))
	}
	if baseDir != "" {
		if in.base, err = result.Read(baseDir); err != nil {
			errs = append(errs, fmt.Errorf("baseline: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if in.base == nil && f.store != "" && !in.decided {
		b, err := storeBaseline(e, f.store, in.cand.Meta)
		var ce *codeError
		switch {
		case errors.As(err, &ce) && ce.code == exitIncomparable:
			in.notes = append(in.notes, err.Error())
		case err != nil:
			return nil, err
		default:
			in.base = b
		}
	}
	if in.rep == nil {
		srcs, isDefault, err := compareRules(f.compareFlags, in.cand.Meta.Suite)
		if err != nil {
			return nil, err
		}
		rules, err := gate.ParseRules(srcs)
		if err != nil {
			return nil, err
		}
		in.rep, err = gate.CompareResults(in.base, in.cand, rules, gateOptions(policy, isDefault, f.ignorePins))
		if err != nil {
			return nil, err
		}
		in.decided = in.base != nil || len(f.thresholds) > 0 || f.config != ""
	}
	return in, nil
}

// readComparison reads a Report written by `tailgate compare --format json`.
func readComparison(path string) (*gate.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep gate.Report
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%s: not a comparison report: %w", path, err)
	}
	if rep.Schema < 1 || rep.Schema > gate.ReportSchema {
		return nil, fmt.Errorf("%s: report schema %d not supported (this tailgate reads 1..%d)", path, rep.Schema, gate.ReportSchema)
	}
	return &rep, nil
}

// buildReport draws the figures and lays out the page. A figure that cannot be drawn (no
// samples, no history) is left out with a note rather than failing the report.
func buildReport(e *env, in *reportInput, f reportFlags) (*htmlreport.Page, []*plot.Figure, error) {
	suite := in.cand.Meta.Suite
	page := &htmlreport.Page{Title: f.title, Notes: in.notes, Generator: "tailgate " + version}
	if in.decided {
		page.Report = in.rep
	}
	sides := []struct {
		name string
		r    *result.Result
	}{{"baseline", in.base}, {"candidate", in.cand}}
	var lats []plot.Latency
	for _, s := range sides {
		if s.r == nil {
			continue
		}
		m := s.r.Meta
		page.Sides = append(page.Sides, htmlreport.Side{
			Name: s.name, Dir: s.r.Dir, Suite: m.Suite, Commit: m.Git.Commit, Summary: m.Summary,
			Intervals: m.Counts.Intervals, Healthy: m.Health.Healthy, Reasons: m.Health.Reasons,
		})
		lats = append(lats, plot.Latency{Name: s.name, Hist: s.r.Merged()})
	}
	if page.Title == "" {
		page.Title = "tailgate report: " + suite
		if in.base != nil {
			page.Subtitle = fmt.Sprintf("candidate %s against baseline %s", in.cand.Dir, in.base.Dir)
		} else {
			page.Subtitle = "result " + in.cand.Dir
		}
	}
	var figs []*plot.Figure
	note := func(what string, err error) {
		page.Notes = append(page.Notes, fmt.Sprintf("%s figure left out: %v", what, err))
	}
	title := suite + ": latency by percentile"
	if in.base != nil {
		title = suite + ": baseline vs candidate, latency by percentile"
	}
	if fig, err := plot.Percentiles(title, lats); err != nil {
		note("percentile", err)
	} else {
		figs = append(figs, fig)
	}
	for _, s := range sides {
		if s.r == nil {
			continue
		}
		fig, err := timelineFigure(s.name, s.r)
		if err != nil {
			note(s.name+" timeline", err)
			continue
		}
		figs = append(figs, fig)
	}
	if !f.noWCET {
		fig, w, err := wcetFigure(in.cand, wcet.Method(f.wcetMethod))
		if err != nil {
			note("pWCET", err)
		} else {
			figs = append(figs, fig)
			page.WCET = w
		}
	}
	if f.store != "" {
		fig, err := trendFigure(e, f.store, in.cand.Meta, f.nights)
		if err != nil {
			note("nightly trend", err)
		} else if fig != nil {
			figs = append(figs, fig)
		}
	}
	for _, fig := range figs {
		svg, err := fig.SVG()
		if err != nil {
			return nil, nil, err
		}
		hf := htmlreport.Figure{ID: fig.Name, Title: fig.Title, Caption: fig.Caption, SVG: svg}
		for _, s := range fig.Series {
			hf.Series = append(hf.Series, htmlreport.Series{Name: s.Name, Points: s.Points})
		}
		page.Figures = append(page.Figures, hf)
	}
	return page, figs, nil
}

// timelineFigure draws one result's intervals over time, with its telemetry temperature when
// there is any. Intervals of several tags that share a start are merged: the figure shows what
// the run saw in each time slot.
func timelineFigure(name string, r *result.Result) (*plot.Figure, error) {
	type slot struct {
		start, end time.Time
		iv         plot.Interval
	}
	var slots []*slot
	byStart := map[int64]*slot{}
	for _, iv := range r.Log.Intervals {
		s := byStart[iv.Start.UnixNano()]
		if s == nil {
			s = &slot{start: iv.Start, end: iv.End, iv: plot.Interval{Hist: result.NewHistogram()}}
			byStart[iv.Start.UnixNano()] = s
			slots = append(slots, s)
		}
		s.iv.Hist.Merge(iv.Hist)
		if iv.End.After(s.end) {
			s.end = iv.End
		}
	}
	sort.SliceStable(slots, func(i, j int) bool { return slots[i].start.Before(slots[j].start) })
	if len(slots) == 0 {
		return nil, errors.New("no intervals")
	}
	origin := slots[0].start
	ivs := make([]plot.Interval, len(slots))
	for i, s := range slots {
		ivs[i] = plot.Interval{Start: s.start.Sub(origin), End: s.end.Sub(origin), Hist: s.iv.Hist}
	}
	tel, err := result.ReadTelemetry(r.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// Telemetry lines are matched to intervals by index, not by clock: the log's timestamps
	// are relative to a base time kept in whole milliseconds, the telemetry's are wall time.
	var temps []plot.Temperature
	for _, t := range tel {
		if t.TempC != nil && t.Interval >= 0 && t.Interval < len(ivs) {
			temps = append(temps, plot.Temperature{At: ivs[t.Interval].End, Celsius: *t.TempC})
		}
	}
	fig, err := plot.Timeline(fmt.Sprintf("%s %s: latency per %s interval", name, filepath.Base(r.Dir), gate.FormatDuration(r.Meta.Workload.Interval)), ivs, temps)
	if err != nil {
		return nil, err
	}
	fig.Name = "timeline-" + name
	return fig, nil
}

// wcetFigure analyses the candidate's tail and draws its exceedance curve.
func wcetFigure(r *result.Result, method wcet.Method) (*plot.Figure, *htmlreport.WCET, error) {
	blocks, err := wcet.BlocksOf(r, wcet.AllTags)
	if err != nil {
		return nil, nil, err
	}
	a, err := wcet.Analyze(blocks, wcet.Options{Method: method})
	if err != nil {
		return nil, nil, err
	}
	w := &htmlreport.WCET{
		Method: string(a.Method), Blocks: a.Blocks, Samples: a.Samples, MaxObservedNs: a.MaxObservedNs,
		Valid: a.Valid, Reason: a.Reason, Confidence: a.Confidence,
	}
	for _, t := range a.Tests {
		w.Tests = append(w.Tests, htmlreport.WCETTest{Name: t.Name, Checks: t.Checks, Null: t.Null, Statistic: t.Statistic, PValue: t.PValue, Alpha: t.Alpha, Pass: t.Pass})
	}
	for _, b := range a.Bounds(wcet.DefaultProbs) {
		w.Bounds = append(w.Bounds, htmlreport.WCETBound{P: b.P, EstimateNs: b.EstimateNs, UpperNs: b.UpperNs, OK: b.OK, Reason: b.Reason})
	}
	m := plot.PWCETModel{
		Label:      fmt.Sprintf("%s fit, %d blocks", a.Method, a.Blocks),
		UpperLabel: fmt.Sprintf("%g%% upper bound", 100*a.Confidence),
		Marks:      wcet.DefaultProbs,
		Reason:     a.Reason,
	}
	if a.Valid {
		m.Estimate = func(p float64) (float64, bool) { v, ok, _ := a.PWCET(p); return v, ok }
		m.Upper = func(p float64) (float64, bool) { v, ok, _ := a.Upper(p, a.Confidence); return v, ok }
		switch {
		case a.Fit != nil && a.Method == wcet.GPD:
			m.From = a.Fit.TailShare
		case a.RefBlockSamples > 0:
			// Below about one exceedance per block the block-maximum model describes the tail.
			m.From = 1 / a.RefBlockSamples
		}
	}
	fig, err := plot.Exceedance(fmt.Sprintf("candidate %s: pWCET exceedance", filepath.Base(r.Dir)), r.Merged(), m)
	if err != nil {
		return nil, nil, err
	}
	return fig, w, nil
}

// trendFigure draws the nightly history of the candidate's suite and environment, with change
// points as `tailgate baseline history` finds them. It returns nil without history.
func trendFigure(e *env, storeFlag string, m *result.Meta, last int) (*plot.Figure, error) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	h, err := st.History(m.Suite, m.Env.Key())
	if err != nil {
		if errors.Is(err, baseline.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	nights := h.Nightly()
	if last > 0 && len(nights) > last {
		nights = nights[len(nights)-last:]
	}
	if len(nights) < 2 {
		return nil, nil
	}
	pts := make([]plot.Night, len(nights))
	for i, n := range nights {
		label := n.Time.Format("01-02")
		pts[i] = plot.Night{Label: label, P50: float64(n.P50), P99: float64(n.P99), P999: float64(n.P999)}
	}
	hcs, err := history.Changes(historyNights(nights), changepoint.Options{Seed: DefaultHistorySeed})
	if err != nil {
		return nil, err
	}
	changes := make([]plot.Change, len(hcs))
	for i, c := range hcs {
		changes[i] = plot.Change{Metric: c.Metric, Night: c.Night, Shift: c.Shift}
	}
	return plot.Trend(fmt.Sprintf("%s: nightly trend (%d nights, key %s)", m.Suite, len(nights), m.Env.Key()), pts, changes)
}

// writeReport writes the HTML page and the PNG figures, each atomically.
func writeReport(page *htmlreport.Page, figs []*plot.Figure, f reportFlags) error {
	if f.html != "" {
		var buf bytes.Buffer
		if err := htmlreport.Write(&buf, page); err != nil {
			return err
		}
		if err := result.WriteFileAtomic(f.html, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	if f.png == "" {
		return nil
	}
	if err := os.MkdirAll(f.png, 0o755); err != nil {
		return fmt.Errorf("--png: %w", err)
	}
	for _, fig := range figs {
		b, err := fig.PNG(DefaultReportDPI)
		if err != nil {
			return err
		}
		if err := result.WriteFileAtomic(filepath.Join(f.png, fig.Name+".png"), b, 0o644); err != nil {
			return fmt.Errorf("--png: %w", err)
		}
	}
	return nil
}
