package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/gate/plan"
	"github.com/tailgate-ci/tailgate/runner/config"
)

// Defaults of `tailgate plan` flags.
const (
	DefaultPlanQuantile   = 99.9
	DefaultPlanConfidence = 0.99
)

func init() {
	commands["plan"] = command{"how many samples (and how long) a quantile claim needs at a confidence", planCmd}
}

type planFlags struct {
	quantile, confidence float64
	exceedances          int64
	rate, pilot          string
}

func planCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("plan", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate plan [--quantile P] [--confidence C] [--exceedances T] [--rate R/s | --pilot RESULT]\n\n"+
			"Prints the samples a claim about the P-th percentile needs at confidence C (MLPerf LoadGen's\n"+
			"early-stopping rule) and, from a rate or a pilot result, how long a run takes to collect them.\n"+
			"MLPerf's count assumes independent samples. With --pilot, the plan also scales it by the\n"+
			"variance inflation the pilot shows (VIF: the block variance of the share of samples beyond\n"+
			"its P-th percentile over the binomial variance; samples = VIF × MLPerf's count with the\n"+
			"exceedances deflated by VIF) and gives the intervals its autocorrelation needs (8 blocks of\n"+
			"the block length the gate would choose): the gate certifies an absolute rule only with both.\n\nflags:")
		fs.PrintDefaults()
	}
	var f planFlags
	fs.Float64Var(&f.quantile, "quantile", DefaultPlanQuantile, "percentile of the claim, 0 < P < 100 (99.9 is p99.9)")
	fs.Float64Var(&f.confidence, "confidence", DefaultPlanConfidence, "confidence of the claim, 0 < C < 1")
	fs.Int64Var(&f.exceedances, "exceedances", 0, "samples allowed above the claimed value (0: the bound is the run's maximum)")
	fs.StringVar(&f.rate, "rate", "", "inference rate, e.g. 30/s, 1800/min or 250 (per second)")
	fs.StringVar(&f.pilot, "pilot", "", "result directory of a pilot run: its samples over its duration give the rate")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	var errs []error
	if !(f.quantile > 0 && f.quantile < 100) {
		errs = append(errs, fmt.Errorf("--quantile %v: want a percentile strictly between 0 and 100", f.quantile))
	}
	if !(f.confidence > 0 && f.confidence < 1) {
		errs = append(errs, fmt.Errorf("--confidence %v: want a value strictly between 0 and 1", f.confidence))
	}
	if f.exceedances < 0 {
		errs = append(errs, fmt.Errorf("--exceedances %d: want 0 or more", f.exceedances))
	}
	if f.rate != "" && f.pilot != "" {
		errs = append(errs, errors.New("--rate and --pilot both give the rate: use one"))
	}
	var rate float64
	var rateFrom string
	if f.rate != "" {
		r, err := config.ParseRate(f.rate)
		if err != nil {
			errs = append(errs, fmt.Errorf("--rate: %w", err))
		}
		rate, rateFrom = r, "--rate "+f.rate
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
	}
	if f.pilot != "" {
		var err error
		if rate, rateFrom, err = plan.PilotRate(f.pilot); err != nil {
			return withCode(exitError, fmt.Errorf("--pilot: %w", err))
		}
	}
	p, err := plan.New(f.quantile, f.confidence, f.exceedances)
	if err != nil {
		return withCode(exitError, err)
	}
	p.Rate, p.RateFrom = rate, rateFrom
	if f.pilot != "" {
		p.ScaleByPilot(f.pilot)
	}
	if err := p.WriteText(e.stdout); err != nil {
		return withCode(exitError, err)
	}
	return nil
}
