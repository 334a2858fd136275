package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline/importer"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

func init() {
	commands["import"] = command{"turn latency data other tools wrote (HdrHistogram logs, plain lists) into a result directory", importCmd}
}

func importCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("import", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate import FILE --out DIR --suite NAME [flags]\n\nReads FILE (an HdrHistogram interval log, one base64 histogram, or a latency list) and writes\nthe result directory DIR that compare, report, wcet and baseline promote read. See docs/import.md.\nExit: 0 written, 2 error (naming FILE:LINE where the data is at fault).\n\nflags:")
		fs.PrintDefaults()
	}
	var o importer.Options
	var format, unit, timeUnit, start string
	var pins []string
	var doctorFile, field string
	fs.StringVar(&format, "format", "", fmt.Sprintf("input format, one of %v (default: from the extension: .hlog, .csv, .jsonl, .txt)", importer.Formats))
	fs.StringVar(&o.Out, "out", "", "result directory to write (must not exist or be empty)")
	fs.StringVar(&o.Meta.Suite, "suite", "", "suite name of the result (required)")
	fs.StringVar(&o.Meta.Profile, "profile", "", "pr or nightly, if the data is one of tailgate's profiles")
	fs.StringVar(&unit, "unit", "", "unit of values without a suffix: ns, us, ms or s (required for hlog and histogram: no default, a wrong guess is a 1000× error)")
	fs.StringVar(&o.Tag, "tag", "", "the interval-log tag to import (required when the log has several)")
	fs.StringVar(&o.Column, "column", "", "csv: the values' column, a header name or 1-based index")
	fs.StringVar(&field, "field", "", "jsonl: the values' field")
	fs.IntVar(&o.PerInterval, "per-interval", 0, "lists: group values into intervals of N, laid back to back")
	fs.StringVar(&o.TimeColumn, "time-column", "", "csv/jsonl: column or field of each value's timestamp (RFC 3339, or a number of --time-unit); values are grouped into --interval slots")
	fs.DurationVar(&o.Interval, "interval", 0, "with --time-column: interval length, e.g. 1s")
	fs.StringVar(&timeUnit, "time-unit", string(importer.Seconds), "unit of numeric timestamps: ns, us, ms or s")
	fs.StringVar(&start, "start", "", "RFC 3339 origin of relative timestamps and back-to-back intervals (default: the log's StartTime; for back-to-back data, FILE's modification time minus the values' sum)")
	fs.StringVar(&doctorFile, "doctor", "", "fingerprint from a `tailgate doctor --format json` capture of the board the data was measured on")
	fs.StringArrayVar(&pins, "pin", nil, "fingerprint field KEY=VALUE, a meta.json env name (board, kernel_release, backend, cpus=2,3, ...); repeatable, overrides --doctor")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	var errs []error
	if fs.NArg() != 1 {
		errs = append(errs, fmt.Errorf("want exactly one input FILE, got %d arguments", fs.NArg()))
	} else {
		o.Input = fs.Arg(0)
	}
	o.Format = importer.Format(format)
	if format == "" {
		if o.Format = importer.FormatOf(o.Input); o.Format == "" && o.Input != "" {
			errs = append(errs, fmt.Errorf("--format: %s's extension does not say; give one of %v", o.Input, importer.Formats))
		}
	}
	if field != "" {
		if o.Column != "" {
			errs = append(errs, errors.New("--column and --field: give one"))
		}
		o.Column = field
	}
	var err error
	if o.Unit, err = importer.ParseUnit(unit); err != nil {
		errs = append(errs, fmt.Errorf("--unit: %w", err))
	}
	if o.TimeUnit, err = importer.ParseUnit(timeUnit); err != nil {
		errs = append(errs, fmt.Errorf("--time-unit: %w", err))
	}
	if start != "" {
		if o.Start, err = time.Parse(time.RFC3339Nano, start); err != nil {
			errs = append(errs, fmt.Errorf("--start: %w", err))
		}
	}
	if o.Meta.Env, err = importer.Fingerprint(doctorFile, pins); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
	}
	if doctorFile != "" {
		if err := result.CheckOutput(o.Out, doctorFile); err != nil {
			return withCode(exitError, fmt.Errorf("--out: %w", err))
		}
	}
	o.Meta.Git, o.Meta.Tool = measure.GitInfo(e.getenv), toolInfo()
	m, err := importer.Import(o)
	if err != nil {
		return withCode(exitError, err)
	}
	s := m.Summary
	fmt.Fprintf(e.stdout, "imported %s (%s, %s): %d samples in %d intervals, p50 %v p99 %v p99.9 %v max %v -> %s\n",
		o.Input, m.Import.Format, m.Import.Unit, m.Counts.Samples, m.Counts.Intervals,
		time.Duration(s.P50), time.Duration(s.P99), time.Duration(s.P999), time.Duration(s.Max), o.Out)
	return nil
}
