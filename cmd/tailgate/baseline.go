package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/storeview"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

func init() {
	commands["baseline"] = command{"manage the baseline store: list, show, add, promote, prune, history, verify", baselineCmd}
}

// Defaults of the baseline subcommands' flags.
const (
	// DefaultKeep is how many runs per suite and key `baseline prune` keeps (besides baselines).
	DefaultKeep = 30
	// DefaultHistorySeed seeds the change-point permutation test of `baseline history`.
	DefaultHistorySeed = history.DefaultSeed
)

var baselineSubs = []struct {
	name, usage string
	run         func(e *env, args []string) error
}{
	{"list", "list [SUITE]: suites, environment keys, run counts and baselines", baselineList},
	{"show", "show SUITE [RUN|latest]: the baseline (or a run), verified, with its summary and pins", baselineShow},
	{"add", "add RESULT_DIR...: store results (--nightly records each as a night with --verdict)", baselineAdd},
	{"promote", "promote SUITE RUN|latest, or promote RESULT_DIR: make a run the baseline (policy, or --force --reason)", baselinePromote},
	{"prune", "prune [SUITE] --keep N: remove all but the newest N runs, never a baseline", baselinePrune},
	{"history", "history SUITE: per-night p50/p99/p99.9 with change points and the commit range", baselineHistory},
	{"verify", "verify: check every stored file against its SHA-256 manifest", baselineVerify},
}

func baselineCmd(e *env, args []string) error {
	if len(args) > 0 {
		for _, s := range baselineSubs {
			if s.name == args[0] {
				return s.run(e, args[1:])
			}
		}
	}
	var b strings.Builder
	b.WriteString("usage: tailgate baseline <list|show|add|promote|prune|history|verify> [--store DIR|git:URL#BRANCH] ...\n")
	for _, s := range baselineSubs {
		fmt.Fprintf(&b, "  %s\n", s.usage)
	}
	fmt.Fprint(e.stderr, b.String())
	if len(args) == 0 {
		return withCode(exitError, errors.New("no subcommand"))
	}
	return withCode(exitError, fmt.Errorf("unknown subcommand %q", args[0]))
}

// storeFlags are the flags every baseline subcommand shares.
type storeFlags struct {
	store string
	key   string
}

func newStoreFlagSet(e *env, name string, sf *storeFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("baseline "+name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addStoreFlag(fs, &sf.store)
	fs.StringVar(&sf.key, "key", "", "environment key (default: the suite's only key)")
	return fs
}

// addStoreFlag registers --store on fs; other subcommands (compare, ci) may use it too.
func addStoreFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "store", "", "baseline store: a folder (default "+baseline.DefaultPath+") or git:URL#BRANCH")
}

// storeCacheDir is where git stores keep their private clones: $TAILGATE_CACHE, else
// $XDG_CACHE_HOME/tailgate, else ~/.cache/tailgate.
func storeCacheDir(e *env) string {
	if c := e.getenv("TAILGATE_CACHE"); c != "" {
		return c
	}
	if c := e.getenv("XDG_CACHE_HOME"); c != "" {
		return filepath.Join(c, "tailgate")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "tailgate")
	}
	return filepath.Join(os.TempDir(), "tailgate-cache")
}

// openStore opens the store --store names.
func openStore(e *env, flag string) (baseline.Store, error) {
	spec, err := baseline.ParseSpec(flag)
	if err != nil {
		return nil, err
	}
	return openStoreSpec(e, spec)
}

// openStoreSpec opens a store from its spec (the config's store: key, or a parsed --store). A
// git store on an https remote of the GitHub server ($GITHUB_SERVER_URL, else github.com)
// authenticates with the job's token ($TAILGATE_GITHUB_TOKEN, else $GITHUB_TOKEN), which the
// store hands to git in its environment only.
func openStoreSpec(e *env, spec baseline.Spec) (baseline.Store, error) {
	return baseline.Open(spec, baseline.Options{CacheDir: storeCacheDir(e), Warn: e.stderr,
		GitToken: publish.Token(e.getenv), GitTokenHost: gitTokenHost(e)})
}

// gitTokenHost is the host the job's token is for: that of $GITHUB_SERVER_URL (GitHub
// Enterprise), else github.com.
func gitTokenHost(e *env) string {
	if u, err := url.Parse(e.getenv("GITHUB_SERVER_URL")); err == nil && u.Scheme == "https" && u.Host != "" {
		return u.Host
	}
	return baseline.DefaultGitTokenHost
}

// openStoreBaseline opens, for streaming, the stored baseline for a candidate's suite and
// environment key, with the run-to-run SD the key's nightly history shows (runner/ci.BetweenRun;
// none without history). When there is no baseline it returns an exit-3 (incomparable) error
// naming the nearest baseline of the suite and the pinned fields that differ. The caller closes
// the run.
func openStoreBaseline(e *env, storeFlag string, cand *result.Meta) (*baseline.RunReader, map[string]float64, error) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		return nil, nil, err
	}
	defer st.Close() // the run keeps its files open
	r, err := baseline.OpenBaselineFor(st, cand.Suite, cand.Env)
	if errors.Is(err, baseline.ErrNoBaseline) {
		return nil, nil, withCode(exitIncomparable, err)
	}
	if err != nil {
		return nil, nil, err
	}
	between, err := ci.BetweenRun(st, cand.Suite, cand.Env.Key())
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: no between-run variance from the history: %v\n", err)
	}
	return r, between, nil
}

// storeBaseline streams the stored baseline for a candidate through load (openStoreBaseline):
// gate.LoadStored for a comparison, htmlreport.LoadStored for a report. Its log is decoded as
// it is hashed, and what load made of it is returned only once the hash matched; no interval
// histogram is kept.
func storeBaseline[T any](e *env, storeFlag string, cand *result.Meta, load func(*baseline.RunReader) (T, error)) (T, map[string]float64, error) {
	var zero T
	r, between, err := openStoreBaseline(e, storeFlag, cand)
	if err != nil {
		return zero, nil, err
	}
	defer r.Close()
	v, err := load(r)
	if err != nil {
		return zero, nil, fmt.Errorf("baseline: %w", err)
	}
	return v, between, nil
}

// openSuite opens the store and resolves the suite's environment key.
func openSuite(e *env, sf storeFlags, suite string) (baseline.Store, string, error) {
	st, err := openStore(e, sf.store)
	if err != nil {
		return nil, "", err
	}
	key, err := baseline.ResolveKey(st, suite, sf.key)
	if err != nil {
		st.Close()
		return nil, "", err
	}
	return st, key, nil
}

// openSuites opens the store and returns the suites named on the command line, or all.
func openSuites(e *env, sf storeFlags, named []string) (baseline.Store, []string, error) {
	st, err := openStore(e, sf.store)
	if err != nil || len(named) > 0 {
		return st, named, err
	}
	suites, err := st.Suites()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, suites, nil
}

func parseArgs(fs *pflag.FlagSet, args []string, min, max int, usage string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, withCode(exitError, err)
	}
	if n := fs.NArg(); n < min || n > max {
		return nil, withCode(exitError, fmt.Errorf("usage: tailgate baseline %s", usage))
	}
	return fs.Args(), nil
}

// checkFormat accepts the --format values of show and history.
func checkFormat(format string) error {
	return failIf(format != "text" && format != "json", "--format %q: want text or json", format)
}

// failIf returns the error format describes when bad holds, else nil.
func failIf(bad bool, format string, args ...any) error {
	if bad {
		return fmt.Errorf(format, args...)
	}
	return nil
}

func baselineList(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "list", &sf)
	rest, err := parseArgs(fs, args, 0, 1, "list [SUITE] [--store S]")
	if err != nil {
		return err
	}
	st, suites, err := openSuites(e, sf, rest)
	if err != nil {
		return err
	}
	defer st.Close()
	return storeview.WriteList(e.stdout, st, suites)
}

func baselineShow(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "show", &sf)
	format := fs.String("format", "text", "output: text or json")
	rest, err := parseArgs(fs, args, 1, 2, "show SUITE [RUN|latest] [--key K] [--store S] [--format text|json]")
	if err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return withCode(exitError, err)
	}
	suite := rest[0]
	st, key, err := openSuite(e, sf, suite)
	if err != nil {
		return err
	}
	defer st.Close()
	id := ""
	if len(rest) == 2 {
		id = rest[1]
	}
	// Only meta.json is decoded; the log is verified against the manifest by hashing it as it
	// streams past.
	r, ptr, err := baseline.OpenRunRef(st, suite, key, id)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		return err
	}
	if id = r.ID; *format == "json" {
		return storeview.WriteRunJSON(e.stdout, key, id, ptr, r.Meta)
	}
	return storeview.WriteRun(e.stdout, suite, key, id, ptr, r.Meta)
}

func baselineAdd(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "add", &sf)
	nightly := fs.Bool("nightly", false, "also record each result as a night in the history")
	verdict := fs.String("verdict", "", "the nightly comparison's verdict (pass, fail, inconclusive, incomparable)")
	rest, err := parseArgs(fs, args, 1, 1<<20, "add RESULT_DIR... [--nightly --verdict V] [--store S]")
	if err != nil {
		return err
	}
	if *verdict != "" && !*nightly {
		return withCode(exitError, errors.New("--verdict is recorded with --nightly only"))
	}
	if err := checkVerdict(*verdict); err != nil {
		return err
	}
	st, err := openStore(e, sf.store)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, dir := range rest {
		ri, err := st.Add(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "stored %s as %s/%s/%s\n", dir, ri.Suite, ri.Key, ri.ID)
		if *nightly {
			if err := baseline.RecordNight(st, ri, *verdict); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkVerdict rejects a --verdict that is not one of baseline.Verdicts.
func checkVerdict(v string) error {
	if err := baseline.CheckVerdict(v); err != nil {
		return withCode(exitError, fmt.Errorf("--%w", err))
	}
	return nil
}

func baselinePromote(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "promote", &sf)
	var p baseline.Promotion
	fs.StringVar(&p.Verdict, "verdict", "", "the run's verdict against the current baseline (pass, fail, inconclusive, incomparable); none is allowed only for a suite's first baseline")
	fs.StringVar(&p.DefaultBranch, "default-branch", baseline.DefaultBranch, "the repository's default branch: only its runs are promoted without --force")
	fs.BoolVar(&p.Force, "force", false, "promote despite the policy (needs --reason)")
	fs.StringVar(&p.Reason, "reason", "", "why the policy was overridden; recorded in the history")
	fs.StringVar(&p.By, "by", "", "who promotes (default $GITHUB_ACTOR, else $USER)")
	rest, err := parseArgs(fs, args, 1, 2, "promote SUITE RUN|latest, or promote RESULT_DIR [--verdict pass] [--force --reason R] [--store S]")
	if err != nil {
		return err
	}
	if err := checkVerdict(p.Verdict); err != nil {
		return err
	}
	if p.By == "" {
		p.By = e.getenv("GITHUB_ACTOR")
	}
	if p.By == "" {
		p.By = e.getenv("USER")
	}
	st, err := openStore(e, sf.store)
	if err != nil {
		return err
	}
	defer st.Close()
	var h baseline.HistoryEntry
	if len(rest) == 1 {
		// One argument is a result folder: store it, then promote it.
		if _, err := os.Stat(filepath.Join(rest[0], result.MetaFile)); err != nil {
			return withCode(exitError, fmt.Errorf("%s is not a result folder (%w); to promote a stored run give SUITE RUN", rest[0], err))
		}
		h, err = baseline.PromoteDir(st, rest[0], p)
	} else {
		p.Suite, p.Key, p.Run = rest[0], sf.key, rest[1]
		h, err = baseline.PromoteRun(st, p)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "promoted %s/%s run %s (commit %s) by rule %s", h.Suite, h.Key, h.Run, storeview.ShortCommit(h.Commit), h.Rule)
	if h.Baseline != "" {
		fmt.Fprintf(e.stdout, ", replacing %s", h.Baseline)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func baselinePrune(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "prune", &sf)
	keep := fs.Int("keep", DefaultKeep, "runs to keep per suite and key, besides every run that was ever a baseline")
	rest, err := parseArgs(fs, args, 0, 1, "prune [SUITE] [--keep N] [--key K] [--store S]")
	if err != nil {
		return err
	}
	if err := failIf(*keep < 1, "--keep %d: must be at least 1", *keep); err != nil {
		return withCode(exitError, err)
	}
	st, suites, err := openSuites(e, sf, rest)
	if err != nil {
		return err
	}
	defer st.Close()
	removed, err := baseline.PruneSuites(st, suites, sf.key, *keep)
	for _, r := range removed {
		fmt.Fprintf(e.stdout, "removed %s\n", r)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pruned %d runs, kept the newest %d per suite and key and every baseline\n", len(removed), *keep)
	return nil
}

func baselineVerify(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "verify", &sf)
	if _, err := parseArgs(fs, args, 0, 0, "verify [--store S]"); err != nil {
		return err
	}
	st, err := openStore(e, sf.store)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Verify(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "store %s: every stored file matches its manifest\n", st.Spec())
	return nil
}

func baselineHistory(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "history", &sf)
	repo := fs.String("repo", "", "a clone of the measured repository: list the commits of each change's range with git log")
	seed := fs.Uint64("seed", DefaultHistorySeed, "seed of the change points' bootstrap test")
	alpha := fs.Float64("alpha", changepoint.DefaultAlpha, "significance level of a change point")
	minShift := fs.Float64("min-shift", 100*changepoint.DefaultMinShift, "smallest change of level reported, in percent")
	last := fs.Int("nights", 0, "only the last N nights (0: all)")
	format := fs.String("format", "text", "output: text or json")
	rest, err := parseArgs(fs, args, 1, 1, "history SUITE [--key K] [--repo DIR] [--nights N] [--store S] [--format text|json]")
	if err != nil {
		return err
	}
	if err := errors.Join(checkFormat(*format),
		failIf(*minShift <= 0, "--min-shift %v: must be a positive percentage", *minShift),
		failIf(*alpha <= 0 || *alpha >= 1, "--alpha %v: must be in (0, 1)", *alpha),
		failIf(*last < 0, "--nights %d: must not be negative", *last)); err != nil {
		return withCode(exitError, err)
	}
	suite := rest[0]
	st, key, err := openSuite(e, sf, suite)
	if err != nil {
		return err
	}
	defer st.Close()
	nights, analysed, warnings, err := ci.Nights(st, suite, key, *last)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	opt := changepoint.Options{Alpha: *alpha, MinShift: *minShift / 100, Seed: *seed}
	changes, err := history.Changes(analysed, opt)
	if err != nil {
		return err
	}
	if *format == "json" {
		creeps, err := history.Creeps(analysed, changes, opt)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Suite   string                  `json:"suite"`
			Key     string                  `json:"key"`
			Nights  []baseline.HistoryEntry `json:"nights"`
			Changes []history.Change        `json:"changes"`
			Creeps  []history.Creep         `json:"creeps"`
		}{suite, key, nights, changes, creeps})
	}
	o := history.TextOptions{Suite: suite, Key: key, Analysis: opt, Warn: e.stderr}
	if *repo != "" {
		o.CommitLog = func(from, to string) ([]string, error) { return baseline.GitLog(*repo, from, to) }
	}
	return history.WriteText(e.stdout, analysed, changes, o)
}
