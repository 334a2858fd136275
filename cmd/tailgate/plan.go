package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/stats"
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
		if rate, rateFrom, err = pilotRate(f.pilot); err != nil {
			return withCode(exitError, err)
		}
	}
	q := f.quantile / 100
	need := stats.RequiredSamples(q, f.confidence, f.exceedances)
	if need < 0 {
		return withCode(exitError, fmt.Errorf("no sample size certifies p%v at %v with %d exceedances", f.quantile, f.confidence, f.exceedances))
	}
	printPlan(e.stdout, f, need, rate, rateFrom)
	if f.pilot != "" {
		printPilotPlan(e.stdout, f)
	}
	return nil
}

// printPilotPlan writes what the claim needs in the pilot's conditions: MLPerf's count scaled
// by the variance inflation of the pilot's tail, and the intervals its autocorrelation needs
// (stats.PlanFromPilot). A pilot without a readable latency log gets a note instead.
func printPilotPlan(w io.Writer, f planFlags) {
	run, err := gate.LoadRun(f.pilot)
	if err != nil {
		fmt.Fprintf(w, "pilot       not scaled for autocorrelation: %v\n", err)
		return
	}
	q := f.quantile / 100
	p, ok := stats.PlanFromPilot(run.Sample, q, f.confidence, f.exceedances)
	if !ok {
		fmt.Fprintln(w, "pilot       not scaled for autocorrelation: the pilot has no samples")
		return
	}
	fmt.Fprintf(w, "inflation   %.3g (variance of the share beyond the pilot's p%s over the binomial, from %d exceedances)\n",
		p.VIF, strconv.FormatFloat(f.quantile, 'f', -1, 64), p.Exceedances)
	fmt.Fprintf(w, "samples     %s in the pilot's conditions\n", gate.GroupDigits(p.Samples))
	iv := run.Sample.Intervals()
	fmt.Fprintf(w, "intervals   ≥ %s (%d blocks of %d for its autocorrelation)\n", gate.GroupDigits(int64(p.Intervals)), stats.MinBlocks, p.BlockLen)
	if run.Span > 0 && iv > 0 && run.Sample.Count() > 0 {
		perIv := run.Span.Seconds() / float64(iv)
		secs := max(float64(p.Samples)/(float64(run.Sample.Count())/run.Span.Seconds()), float64(p.Intervals)*perIv)
		fmt.Fprintf(w, "duration    %s of measurement, after warm-up, in the pilot's conditions\n", formatSeconds(secs))
	}
}

// pilotRate is the sample rate of a pilot result and where it came from. meta.json carries the
// count and the span; the log is not needed (and a 48-hour pilot's log is large).
func pilotRate(dir string) (rate float64, from string, err error) {
	m, err := result.ReadMeta(dir)
	if err != nil {
		return 0, "", fmt.Errorf("--pilot: %w", err)
	}
	span := m.End.Sub(m.Start)
	if m.Counts.Samples <= 0 || span <= 0 {
		return 0, "", fmt.Errorf("--pilot %s: %s has %d samples over %s: no rate to plan with", dir, result.MetaFile, m.Counts.Samples, span)
	}
	return float64(m.Counts.Samples) / span.Seconds(), fmt.Sprintf("pilot %s: %d samples over %s", dir, m.Counts.Samples, span.Round(time.Millisecond)), nil
}

// printPlan writes the claim, the samples it needs and, with a rate, how long they take.
func printPlan(w io.Writer, f planFlags, need int64, rate float64, rateFrom string) {
	claim := "p" + strconv.FormatFloat(f.quantile, 'f', -1, 64)
	fmt.Fprintf(w, "claim       %s ≤ bound, at confidence %v (MLPerf LoadGen early stopping)\n", claim, f.confidence)
	if f.exceedances == 0 {
		fmt.Fprintln(w, "exceedances 0 (the bound is the run's maximum)")
	} else {
		fmt.Fprintf(w, "exceedances %d (the bound is the %s-largest sample)\n", f.exceedances, ordinal(f.exceedances+1))
	}
	fmt.Fprintf(w, "samples     %s\n", gate.GroupDigits(need))
	if rate > 0 {
		secs := float64(need) / rate
		fmt.Fprintf(w, "rate        %s/s (%s)\n", strconv.FormatFloat(rate, 'f', -1, 64), rateFrom)
		fmt.Fprintf(w, "duration    %s of measurement, after warm-up\n", formatSeconds(secs))
	}
}

// formatSeconds renders a duration for a person: "9.2s", "3m4s", "1h17m".
func formatSeconds(secs float64) string {
	if secs >= float64(math.MaxInt64)/1e9 {
		return fmt.Sprintf("%.3g years", secs/(365.25*24*3600))
	}
	d := time.Duration(secs * float64(time.Second))
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
}

// ordinal writes 1st, 2nd, 3rd, 11th, 21st.
func ordinal(n int64) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return gate.GroupDigits(n) + suffix
}
