package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/site"
	"github.com/tailgate-ci/tailgate/runner/config"
)

func init() {
	commands["site"] = command{"build the static nightly dashboard of every suite × board × night from the store", siteCmd}
}

const siteUsage = `usage: tailgate site --store STORE --out DIR [flags]

Builds a static, self-contained web site of the store (no scripts, no network at view time):
an index of every suite and environment key with its baseline, last night and a p99
sparkline; a page per suite and key with the nightly p50/p99/p99.9 on a log axis, the baseline
promotions and the change points with their commit ranges (linked to --repo-url's compare
view); and the HTML report of each of the newest --report-nights nights against its baseline.
Night pages an earlier build left in DIR are kept, not rebuilt. DIR is built aside and swapped
in whole; it must be a site built before, empty, or absent.

Exit codes: 0 built; 2 on an error, or when the store fails verification or a night's run is
damaged (the site is still built and names every problem).

flags:`

type siteFlags struct {
	store, out, repoURL, config string
	reportNights, sparkNights   int
	changeNights                int
}

func siteCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("site", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, siteUsage)
		fs.PrintDefaults()
	}
	var f siteFlags
	addStoreFlag(fs, &f.store)
	fs.StringVar(&f.out, "out", "", "the site's folder (required; replaced whole)")
	fs.StringVar(&f.repoURL, "repo-url", "", "repository web address for commit-range links (https://github.com/OWNER/REPO)")
	fs.StringVar(&f.config, "config", "", "tailgate.yaml whose suite thresholds the night pages apply (default: the default rules)")
	fs.IntVar(&f.reportNights, "report-nights", site.DefaultReportNights, "newest nights of each suite and key that get a report page (kept ones stay)")
	fs.IntVar(&f.sparkNights, "spark-nights", site.DefaultSparkNights, "nights in the index's sparklines")
	fs.IntVar(&f.changeNights, "change-nights", site.DefaultChangeNights, "newest nights searched for change points")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if f.out == "" {
		errs = append(errs, errors.New("--out: the site's folder is required"))
	}
	for name, v := range map[string]int{"--report-nights": f.reportNights, "--spark-nights": f.sparkNights, "--change-nights": f.changeNights} {
		if v < 1 {
			errs = append(errs, fmt.Errorf("%s %d: must be at least 1", name, v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return withCode(exitError, err)
	}
	o := site.Options{Out: f.out, RepoURL: f.repoURL, ReportNights: f.reportNights, SparkNights: f.sparkNights, ChangeNights: f.changeNights,
		Generator: "tailgate " + version, Gate: gateOptions(gate.InconclusiveFail, true, false)}
	if f.config != "" {
		cfg, err := config.Load(f.config)
		if err != nil {
			return withCode(exitError, err)
		}
		o.Rules = func(suite string) ([]gate.RuleSource, bool, error) {
			s, err := cfg.Suite(suite)
			if err != nil {
				// A suite the config no longer has keeps its history on the site; the page
				// names the rules it applies.
				return gate.DefaultRuleSources(), true, nil
			}
			srcs, isDefault := s.Rules(cfg.Path)
			return srcs, isDefault, nil
		}
	}
	st, err := openStore(e, f.store)
	if err != nil {
		return withCode(exitError, err)
	}
	defer st.Close()
	res, err := site.Build(st, o)
	if err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %d suite × key pages, %d nights, %d night reports built, %d kept\n", res.Index, res.Keys, res.Nights, res.Pages, res.Reused)
	if len(res.Problems) > 0 {
		return withCode(exitError, fmt.Errorf("the store has %d problems (named on the site):\n  %s", len(res.Problems), strings.Join(res.Problems, "\n  ")))
	}
	return nil
}
