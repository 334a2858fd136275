package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/htmlreport"
	"github.com/tailgate-ci/tailgate/gate/plot"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/gate/wcet"
	"github.com/tailgate-ci/tailgate/runner/ci"
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
       tailgate report AB_RESULT [flags]
       tailgate report COMPARISON.json [BASE CAND | AB_RESULT] [flags]

Renders result directory CAND (and BASE, or the stored baseline with --store) as one
self-contained HTML page (--html), PNG figures (--png DIR) and/or the comparison as text
(--format). The page has the comparison's verdict and rule table, the results' summaries,
the percentile curves of baseline and candidate, each result's per-interval p50/p99/max with
CPU temperature, the candidate's pWCET exceedance curve with its validity tests, and with
--store the suite's nightly trend with change points.

An interleaved A/B result (tailgate ab) is reported alone: arm B is gated against arm A as
'tailgate compare AB_RESULT' gates it, the page names both arms, draws each arm's rounds, and
adds a figure of the pairing: each round's p50 of both arms, and each round's ratio B/A with
the gate's paired p50 estimate and interval. With BASE or --store it is an error.

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
		page, figs, err := reportPage(e, in, f)
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
	// base and cand are streamed summaries (htmlreport.Load): the report holds no interval
	// histogram, whatever the runs' length.
	base, cand *htmlreport.Result
	rep        *gate.Report
	// decided is set when the comparison came from a COMPARISON.json or was made against a
	// baseline: only then does the page show a verdict and a rule table.
	decided bool
	// ab is set when base and cand are the arms A and B of one interleaved A/B result.
	ab    bool
	notes []string
	// between is the run-to-run SD from the store's history, when the baseline came from it.
	between map[string]float64
	// wcet holds the pWCET analysis the comparison's pwcet rules made, for the page's figure.
	wcet *wcet.Cache
}

// reportInputs validates the flags and arguments (all problems at once), reads the results and,
// unless a COMPARISON.json gave it, makes the comparison.
func reportInputs(e *env, args []string, f *reportFlags) (*reportInput, error) {
	if err := checkReportArgs(args, f); err != nil {
		return nil, err
	}
	in := &reportInput{}
	baseDir, candDir, err := reportDirs(args, in)
	if err != nil {
		return nil, err
	}
	if err := loadReportSides(in, baseDir, candDir, f.store); err != nil {
		return nil, err
	}
	if in.base == nil && f.store != "" && !in.decided {
		b, between, err := storeBaseline(e, f.store, in.cand.Run.Meta, htmlreport.LoadStored)
		var ce *codeError
		switch {
		case errors.As(err, &ce) && ce.code == exitIncomparable:
			in.notes = append(in.notes, err.Error())
		case err != nil:
			return nil, err
		default:
			in.base, in.between = b, between
		}
	}
	if in.rep == nil {
		srcs, isDefault, err := compareRules(f.compareFlags, in.cand.Run.Meta.Suite)
		if err != nil {
			return nil, err
		}
		rules, err := gate.ParseRules(srcs)
		if err != nil {
			return nil, err
		}
		o := gateOptions(gate.InconclusivePolicy(f.inconclusive), isDefault, f.ignorePins)
		o.BetweenRun = in.between
		// The pwcet rules and the page's pWCET figure share the candidate's analysis.
		in.wcet = wcet.NewCache(wcet.Options{})
		o.PWCET = in.wcet.GateFunc()
		var base *gate.Run
		if in.base != nil {
			base = in.base.Run
		}
		if in.ab {
			in.rep, err = gate.CompareAB(base, in.cand.Run, rules, o)
		} else {
			in.rep, err = gate.Compare(base, in.cand.Run, rules, o)
		}
		if err != nil {
			return nil, err
		}
		in.decided = in.base != nil || len(f.thresholds) > 0 || f.config != ""
	}
	return in, nil
}

// loadReportSides streams the results into in: the two arms of an interleaved A/B result
// candDir, which takes no baseline, or the runs candDir and baseDir. A COMPARISON.json's design
// must be the results': its rule table would otherwise be read against what it did not judge.
func loadReportSides(in *reportInput, baseDir, candDir, store string) error {
	// An unreadable meta.json is left to the loaders, which report both sides' errors at once.
	m, err := result.ReadMeta(candDir)
	in.ab = err == nil && m.IsAB()
	if in.rep != nil && err == nil && in.ab != in.rep.Interleaved() {
		what := "a single run"
		if in.ab {
			what = "an interleaved A/B result"
		}
		return fmt.Errorf("%w: the comparison's design is %q but %s is %s", gate.ErrDesign, cmp.Or(in.rep.Design, "separate runs"), candDir, what)
	}
	if in.ab {
		if baseDir != "" || store != "" {
			return gate.NotASingleRun(candDir)
		}
		in.base, in.cand, err = htmlreport.LoadAB(candDir)
		return err
	}
	if in.base, in.cand, err = htmlreport.LoadPair(baseDir, candDir); err != nil {
		return err
	}
	if in.base != nil && in.base.Run.Meta.IsAB() {
		return gate.NotASingleRun(baseDir)
	}
	return nil
}

// checkReportArgs reports every problem with the flags and the number of arguments at once.
func checkReportArgs(args []string, f *reportFlags) error {
	var errs []error
	switch render.Format(f.format) {
	case "", render.FormatTable, render.FormatMarkdown, render.FormatJSON:
	default:
		errs = append(errs, fmt.Errorf("--format %q: want table, markdown or json", f.format))
	}
	if f.html == "" && f.png == "" && f.format == "" {
		errs = append(errs, errors.New("nothing to write: give --html FILE, --png DIR or --format"))
	}
	_, err := parsePolicy(f.inconclusive)
	errs = append(errs, err)
	if m := wcet.Method(f.wcetMethod); m != wcet.GEV && m != wcet.Gumbel && m != wcet.GPD {
		errs = append(errs, fmt.Errorf("--wcet-method %q: want gev, gumbel or gpd", f.wcetMethod))
	}
	if f.nights < 0 {
		errs = append(errs, fmt.Errorf("--nights %d: must not be negative", f.nights))
	}
	for flag, out := range map[string]string{"--html": f.html, "--png": f.png} {
		if out == "" {
			continue
		}
		if err := result.CheckOutput(out, args...); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", flag, err))
		}
	}
	if len(args) < 1 || len(args) > 3 {
		errs = append(errs, fmt.Errorf("want [BASE] CAND, AB_RESULT or COMPARISON.json [BASE CAND | AB_RESULT], got %d arguments", len(args)))
	}
	return errors.Join(errs...)
}

// reportDirs names the result directories of the arguments: [BASE] CAND, or COMPARISON.json
// [BASE CAND], whose report it reads into in (decided) and whose directories it falls back on.
func reportDirs(args []string, in *reportInput) (baseDir, candDir string, err error) {
	if st, err := os.Stat(args[0]); err != nil || st.IsDir() {
		switch len(args) {
		case 1:
			return "", args[0], nil
		case 2:
			return args[0], args[1], nil
		}
		return "", "", fmt.Errorf("three arguments need a COMPARISON.json first; %s is a directory", args[0])
	}
	rep, err := gate.ReadReport(args[0])
	if err != nil {
		return "", "", err
	}
	in.rep, in.decided = rep, true
	if rep.Interleaved() {
		// Both sides are the one A/B result's arms: it is the candidate, alone.
		switch {
		case len(args) == 1 && rep.Candidate.Dir != "":
			return "", rep.Candidate.Dir, nil
		case len(args) == 2:
			return "", args[1], nil
		}
		return "", "", fmt.Errorf("%s is an interleaved A/B comparison: give its A/B result alone after it (or nothing, when it names one)", args[0])
	}
	switch len(args) {
	case 1:
		if rep.Baseline != nil {
			baseDir = rep.Baseline.Dir
		}
		if rep.Candidate.Dir == "" {
			return "", "", fmt.Errorf("%s names no candidate directory: give BASE CAND after it", args[0])
		}
		return baseDir, rep.Candidate.Dir, nil
	case 3:
		return args[1], args[2], nil
	}
	return "", "", fmt.Errorf("after COMPARISON.json give both BASE and CAND, or neither")
}

// reportPage builds the page and its figures from the inputs; with --store the trend figure
// reads the suite's nightly history from the store.
func reportPage(e *env, in *reportInput, f reportFlags) (*htmlreport.Page, []*plot.Figure, error) {
	hin := htmlreport.Input{
		Base: in.base, Cand: in.cand, Report: in.rep, Decided: in.decided, Notes: in.notes,
		Title: f.title, Generator: "tailgate " + version, WCET: in.wcet,
	}
	if !f.noWCET {
		hin.WCETMethod = wcet.Method(f.wcetMethod)
	}
	if f.store != "" {
		hin.Trend = func() ([]history.Night, error) { return storeNights(e, f.store, in.cand.Run.Meta, f.nights) }
	}
	return htmlreport.Build(hin)
}

// storeNights reads the newest last nights (all with 0) of the suite and environment of m from
// the store; none when it has no history of them.
func storeNights(e *env, storeFlag string, m *result.Meta, last int) ([]history.Night, error) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	_, nights, _, err := ci.Nights(st, m.Suite, m.Env.Key(), last)
	return nights, err
}

// writeReport writes the HTML page and the PNG figures, each atomically.
func writeReport(page *htmlreport.Page, figs []*plot.Figure, f reportFlags) error {
	if f.html != "" {
		if err := htmlreport.WriteFile(f.html, page); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	if f.png != "" {
		if err := htmlreport.WritePNGs(f.png, figs, DefaultReportDPI); err != nil {
			return fmt.Errorf("--png: %w", err)
		}
	}
	return nil
}
