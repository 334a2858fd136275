package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/gate/wcet"
	"github.com/tailgate-ci/tailgate/runner/config"
)

// Defaults of `tailgate compare` flags.
const (
	DefaultCompareFormat       = string(render.DefaultFormat)
	DefaultCompareInconclusive = string(gate.DefaultInconclusive)
)

func init() {
	commands["compare"] = command{"gate a result against a baseline result: table/Markdown/JSON and an exit code", compareCmd}
}

type compareFlags struct {
	thresholds    []string
	config, suite string
	format, out   string
	inconclusive  string
	ignorePins    bool
	store         string
}

func compareCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate compare [BASE] CAND [flags]\n\nGates result directory CAND against BASE (without BASE only absolute rules apply).\nAn interleaved A/B result (tailgate ab) given alone gates its arm B against its arm A.\nExit: 0 pass, 1 regression, 2 error, 3 incomparable, 4 inconclusive.\n\nflags:")
		fs.PrintDefaults()
	}
	var f compareFlags
	fs.StringArrayVar(&f.thresholds, "threshold", nil, `threshold rule, repeatable, e.g. "p99 < +5%" (overrides the configuration's)`)
	fs.StringVar(&f.config, "config", "", "tailgate.yaml to take the suite's thresholds from (default: ./"+config.DefaultFile+" when --suite is given)")
	fs.StringVar(&f.suite, "suite", "", "suite whose thresholds apply (default: the candidate's suite)")
	fs.StringVar(&f.format, "format", DefaultCompareFormat, "output format: table, markdown or json")
	fs.StringVar(&f.out, "out", "", "write the output to this file (atomically) instead of stdout")
	fs.StringVar(&f.inconclusive, "inconclusive", DefaultCompareInconclusive, "exit code policy for an inconclusive gate: fail (exit 4) or pass (exit 0)")
	fs.BoolVar(&f.ignorePins, "ignore-pins", false, "compare results whose pinned environments differ (A/B runs such as CPU vs NPU); the report says so")
	addStoreFlag(fs, &f.store)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return withCode(exitError, err)
	}
	var errs []error
	format := render.Format(f.format)
	switch format {
	case render.FormatTable, render.FormatMarkdown, render.FormatJSON:
	default:
		errs = append(errs, fmt.Errorf("--format %q: want table, markdown or json", f.format))
	}
	policy, err := parsePolicy(f.inconclusive)
	errs = append(errs, err)
	if n := fs.NArg(); n < 1 || n > 2 {
		errs = append(errs, fmt.Errorf("want BASE CAND (or CAND alone, or CAND with --store), got %d arguments", n))
	} else if n == 2 && f.store != "" {
		errs = append(errs, fmt.Errorf("--store looks the baseline up: give CAND alone, not BASE CAND"))
	}
	if f.out != "" {
		if err := result.CheckOutput(f.out, fs.Args()...); err != nil {
			errs = append(errs, fmt.Errorf("--out: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return withCode(exitError, err)
	}
	var baseDir, candDir string
	if fs.NArg() == 2 {
		baseDir, candDir = fs.Arg(0), fs.Arg(1)
	} else {
		candDir = fs.Arg(0)
	}
	rep, err := compareDirs(e, baseDir, candDir, f, policy)
	if err != nil {
		var ce *codeError
		if errors.As(err, &ce) {
			return err // the store's "no baseline for this environment" is exit 3
		}
		return withCode(exitError, err)
	}
	var buf bytes.Buffer
	if err := render.Write(&buf, format, rep); err != nil {
		return withCode(exitError, err)
	}
	if f.out != "" {
		if err := result.WriteFileAtomic(f.out, buf.Bytes(), 0o644); err != nil {
			return withCode(exitError, fmt.Errorf("--out: %w", err))
		}
		fmt.Fprintln(e.stdout, rep.Headline)
	} else if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return withCode(exitError, err)
	}
	if rep.ExitCode == exitPass {
		return nil
	}
	return withCode(rep.ExitCode, errors.New(rep.Headline))
}

// compareDirs reads the results and gates them; without baseDir the baseline comes from
// --store, or there is none and only absolute rules apply. Results are streamed (a 48-hour log
// stays in tens of megabytes), the stored baseline too (verified as it is read), pwcet rules
// included: the run keeps its block maxima as it reads.
func compareDirs(e *env, baseDir, candDir string, f compareFlags, policy gate.InconclusivePolicy) (*gate.Report, error) {
	candMeta, err := result.ReadMeta(candDir)
	if err != nil {
		err = fmt.Errorf("candidate: result %s: %w", candDir, err)
		if baseDir != "" {
			if _, berr := result.ReadMeta(baseDir); berr != nil {
				err = errors.Join(err, fmt.Errorf("baseline: result %s: %w", baseDir, berr))
			}
		}
		return nil, err
	}
	srcs, isDefault, err := compareRules(f, candMeta.Suite)
	if err != nil {
		return nil, err
	}
	rules, err := gate.ParseRules(srcs)
	if err != nil {
		return nil, err
	}
	o := gateOptions(policy, isDefault, f.ignorePins)
	if candMeta.IsAB() {
		if baseDir != "" || f.store != "" {
			return nil, gate.NotASingleRun(candDir)
		}
		a, b, err := gate.LoadAB(candDir)
		if err != nil {
			return nil, err
		}
		return gate.CompareAB(a, b, rules, o)
	}
	base, cand, err := gate.LoadPair(baseDir, candDir)
	if err != nil {
		return nil, err
	}
	if baseDir == "" && f.store != "" {
		if base, o.BetweenRun, err = storeBaseline(e, f.store, cand.Meta, gate.LoadStored); err != nil {
			return nil, err
		}
	}
	return gate.Compare(base, cand, rules, o)
}

// parsePolicy reads --inconclusive.
func parsePolicy(s string) (gate.InconclusivePolicy, error) {
	p := gate.InconclusivePolicy(s)
	if p != gate.InconclusiveFail && p != gate.InconclusivePass {
		return p, fmt.Errorf("--inconclusive %q: want fail or pass", s)
	}
	return p, nil
}

// gateOptions are the gate's options for every command that gates (compare, report, ci): the
// same pWCET analysis and tool identity everywhere.
func gateOptions(policy gate.InconclusivePolicy, defaultRules, ignorePins bool) gate.Options {
	return gate.Options{
		IgnorePins: ignorePins, Inconclusive: policy, DefaultRules: defaultRules,
		PWCET: wcet.GateFunc(wcet.Options{}),
		Tool:  gate.Tool{Name: "tailgate", Version: version, Commit: commit},
	}
}

// compareRules picks the rules: --threshold flags, else the suite's thresholds in the
// configuration, else gate.DefaultRules.
func compareRules(f compareFlags, candSuite string) ([]gate.RuleSource, bool, error) {
	if len(f.thresholds) > 0 {
		return gate.FlagRules(f.thresholds), false, nil
	}
	path := f.config
	if path == "" && f.suite != "" {
		if _, err := os.Stat(config.DefaultFile); err == nil {
			path = config.DefaultFile
		} else {
			return nil, false, fmt.Errorf("--suite %s: no --config and no ./%s", f.suite, config.DefaultFile)
		}
	}
	if path == "" {
		return gate.DefaultRuleSources(), true, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, false, err
	}
	name := f.suite
	if name == "" {
		name = candSuite
	}
	s, err := cfg.Suite(name)
	if err != nil {
		return nil, false, fmt.Errorf("--suite: %w", err)
	}
	srcs, isDefault := s.Rules(path)
	return srcs, isDefault, nil
}
