package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// Defaults of `tailgate wcet` flags that are not the analysis's own.
const DefaultWCETFormat = "table"

func init() {
	commands["wcet"] = command{"probabilistic WCET by extreme-value theory, with validity tests and an exceedance plot", wcetCmd}
}

func wcetCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("wcet", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate wcet RESULT [flags]\n\nFits the latency tail of result directory RESULT (block maxima of its intervals, or a GPD over a\nthreshold), tests independence, stationarity and fit, and reports pWCET at per-inference exceedance\nprobabilities. See docs/wcet.md.\nExit: 0 bounds reported, 2 error, 4 inconclusive (too few intervals or a test failed: no bound).\n\nflags:")
		fs.PrintDefaults()
	}
	probs := fs.String("prob", wcet.FormatProbs(wcet.DefaultProbs), "per-inference exceedance probabilities, comma-separated")
	method := fs.String("method", string(wcet.DefaultMethod), "tail model: gev (block maxima), gumbel (GEV with ξ = 0) or gpd (peaks over a threshold)")
	format := fs.String("format", DefaultWCETFormat, "output format: table or json")
	svg := fs.String("svg", "", "write the exceedance plot (SVG) to this file")
	tag := fs.String("tag", wcet.AllTags, "analyse only intervals with this tag (default: every tag, merged per interval)")
	alpha := fs.Float64("alpha", wcet.DefaultAlpha, "significance level of each of the three validity tests (not divided among them)")
	conf := fs.Float64("confidence", wcet.DefaultConfidence, "confidence of the upper bound beside each estimate")
	boot := fs.Int("bootstrap", wcet.DefaultBootstrap, "parametric-bootstrap refits (fit test p-value and upper bounds)")
	seed := fs.Uint64("seed", wcet.DefaultSeed, "seed of the bootstrap")
	minBlocks := fs.Int("min-blocks", wcet.DefaultMinBlocks, "fewest block maxima (intervals) a bound is estimated from")
	tail := fs.Int("tail", wcet.DefaultTailSize, "exceedances over the GPD threshold (gpd only)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	var errs []error
	if fs.NArg() != 1 {
		errs = append(errs, fmt.Errorf("want exactly one RESULT directory, got %d arguments", fs.NArg()))
	}
	ps, err := wcet.ParseProbs(*probs)
	if err != nil {
		errs = append(errs, fmt.Errorf("--prob: %w", err))
	}
	if *format != "table" && *format != "json" {
		errs = append(errs, fmt.Errorf("--format %q: want table or json", *format))
	}
	opts := wcet.Options{
		Method: wcet.Method(*method), Alpha: *alpha, Confidence: *conf, Bootstrap: *boot,
		Seed: *seed, MinBlocks: *minBlocks, MinBlockFill: wcet.DefaultMinBlockFill, TailSize: *tail,
	}
	if err := opts.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
	}
	dir := fs.Arg(0)
	run, blocks, a, err := wcet.AnalyzeDir(dir, *tag, opts)
	if err != nil {
		return withCode(exitError, err)
	}
	rep := wcet.NewReport(dir, *tag, a, ps)
	if *format == "json" {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return withCode(exitError, err)
	}
	if *svg != "" {
		b, err := a.ExceedanceSVG("pWCET exceedance: "+run.Meta.Suite, blocks.Merged, ps)
		if err == nil {
			err = result.WriteFileAtomic(*svg, b, 0o644)
		}
		if err != nil {
			return withCode(exitError, fmt.Errorf("--svg %s: %w", *svg, err))
		}
	}
	if !a.Valid {
		return withCode(exitInconclusive, errors.New(a.Reason))
	}
	return nil
}
