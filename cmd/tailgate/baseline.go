package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
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

// openStoreSpec opens a store from its spec (the config's store: key, or a parsed --store).
func openStoreSpec(e *env, spec baseline.Spec) (baseline.Store, error) {
	return baseline.Open(spec, baseline.Options{CacheDir: storeCacheDir(e), Warn: e.stderr})
}

// storeBaseline looks up the stored baseline for a candidate's suite and environment key. When
// there is none it returns an exit-3 (incomparable) error naming the nearest baseline of the
// suite and the pinned fields that differ. `tailgate compare CAND --store ...` uses it.
func storeBaseline(e *env, storeFlag string, cand *result.Meta) (*result.Result, error) {
	st, err := openStore(e, storeFlag)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	key := cand.Env.Key()
	r, err := st.Baseline(cand.Suite, key)
	if err == nil || !errors.Is(err, baseline.ErrNoBaseline) {
		return r, err
	}
	near, nerr := baseline.FindNearest(st, cand.Suite, cand.Env)
	if errors.Is(nerr, baseline.ErrNoBaseline) {
		return nil, withCode(exitIncomparable, fmt.Errorf("store %s has no baseline for suite %s on any environment (this run's key is %s); promote one with `tailgate baseline promote`", st.Spec(), cand.Suite, key))
	}
	if nerr != nil {
		return nil, nerr
	}
	return nil, withCode(exitIncomparable, fmt.Errorf("store %s has no baseline for suite %s on this environment (key %s); %s", st.Spec(), cand.Suite, key, near.Describe()))
}

// resolveKey picks the environment key: --key, else the suite's only key.
func resolveKey(st baseline.Store, suite, key string) (string, error) {
	if key != "" {
		return key, baseline.ValidateName("key", key)
	}
	keys, err := st.Keys(suite)
	if err != nil {
		return "", err
	}
	switch len(keys) {
	case 0:
		return "", fmt.Errorf("store %s has no runs of suite %s: %w", st.Spec(), suite, baseline.ErrNotFound)
	case 1:
		return keys[0], nil
	}
	return "", fmt.Errorf("suite %s has runs on %d environments (%s): pick one with --key", suite, len(keys), strings.Join(keys, ", "))
}

// openSuite opens the store and resolves the suite's environment key.
func openSuite(e *env, sf storeFlags, suite string) (baseline.Store, string, error) {
	st, err := openStore(e, sf.store)
	if err != nil {
		return nil, "", err
	}
	key, err := resolveKey(st, suite, sf.key)
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

func newTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(header)
	return t
}

func ms(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", float64(ns)/1e6)
}

func short(commit string) string {
	if len(commit) > 10 {
		return commit[:10]
	}
	if commit == "" {
		return "-"
	}
	return commit
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
	if len(suites) == 0 {
		fmt.Fprintf(e.stdout, "store %s is empty\n", st.Spec())
		return nil
	}
	t := newTable(e.stdout, "SUITE", "KEY", "RUNS", "BASELINE", "COMMIT", "P50 ms", "P99 ms", "P99.9 ms", "PROMOTED", "RULE")
	for _, s := range suites {
		keys, err := st.Keys(s)
		if err != nil {
			return err
		}
		for _, k := range keys {
			runs, err := st.Runs(s, k)
			if err != nil {
				return err
			}
			row := []string{s, k, fmt.Sprint(len(runs)), "-", "-", "-", "-", "-", "-", "-"}
			for _, r := range runs {
				if r.Baseline {
					row[3], row[4], row[5], row[6], row[7] = r.ID, short(r.Git.Commit), ms(r.Summary.P50), ms(r.Summary.P99), ms(r.Summary.P999)
				}
			}
			if p, err := st.Pointer(s, k); err == nil {
				row[8], row[9] = p.PromotedAt.Format("2006-01-02 15:04"), p.Rule
			} else if !errors.Is(err, baseline.ErrNoBaseline) {
				return err
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
	}
	return t.Render()
}

func baselineShow(e *env, args []string) error {
	var sf storeFlags
	fs := newStoreFlagSet(e, "show", &sf)
	format := fs.String("format", "text", "output: text or json")
	rest, err := parseArgs(fs, args, 1, 2, "show SUITE [RUN|latest] [--key K] [--store S] [--format text|json]")
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return withCode(exitError, fmt.Errorf("--format %q: want text or json", *format))
	}
	suite := rest[0]
	st, key, err := openSuite(e, sf, suite)
	if err != nil {
		return err
	}
	defer st.Close()
	ptr, err := st.Pointer(suite, key)
	if err != nil && !errors.Is(err, baseline.ErrNoBaseline) {
		return err
	}
	var r *result.Result
	switch {
	case len(rest) == 2:
		id := rest[1]
		if id == "latest" {
			if id, err = latestRun(st, suite, key); err != nil {
				return err
			}
		}
		r, err = st.Run(suite, key, id)
	case ptr == nil:
		return fmt.Errorf("suite %s key %s: %w (name a run to show one)", suite, key, baseline.ErrNoBaseline)
	default:
		r, err = st.Baseline(suite, key)
	}
	if err != nil {
		return err
	}
	id := filepath.Base(r.Dir)
	if *format == "json" {
		out := struct {
			Run      string            `json:"run"`
			Key      string            `json:"key"`
			Baseline bool              `json:"baseline"`
			Pointer  *baseline.Pointer `json:"pointer,omitempty"`
			Meta     *result.Meta      `json:"meta"`
		}{id, key, ptr != nil && ptr.Run == id, ptr, r.Meta}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return printRun(e.stdout, suite, key, id, ptr, r.Meta)
}

// printRun writes a stored run as `baseline show` does: where it is, whether and how it became
// the baseline, its provenance and health, its summary and its pinned environment.
func printRun(w io.Writer, suite, key, id string, ptr *baseline.Pointer, m *result.Meta) error {
	fmt.Fprintf(w, "suite    %s\nkey      %s\nrun      %s (verified against its manifest)\n", suite, key, id)
	if ptr != nil && ptr.Run == id {
		fmt.Fprintf(w, "baseline since %s by rule %s", ptr.PromotedAt.Format(time.RFC3339), ptr.Rule)
		if ptr.By != "" {
			fmt.Fprintf(w, ", by %s", ptr.By)
		}
		if ptr.Reason != "" {
			fmt.Fprintf(w, ", reason: %s", ptr.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "measured %s .. %s\ngit      %s %s %s", m.Start.UTC().Format(time.RFC3339), m.End.UTC().Format(time.RFC3339), m.Git.Repo, m.Git.Ref, m.Git.Commit)
	if m.Git.PR != 0 {
		fmt.Fprintf(w, " (PR #%d)", m.Git.PR)
	}
	health := "healthy"
	if !m.Health.Healthy {
		health = "UNHEALTHY: " + strings.Join(m.Health.Reasons, "; ")
	}
	fmt.Fprintf(w, "\nhealth   %s\nsamples  %d in %d intervals\n\n", health, m.Counts.Samples, m.Counts.Intervals)
	t := newTable(w, "MIN ms", "P50 ms", "P90 ms", "P99 ms", "P99.9 ms", "P99.99 ms", "MAX ms")
	s := m.Summary
	if err := t.Append([]string{ms(s.Min), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.P999), ms(s.P9999), ms(s.Max)}); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\npinned environment:")
	pinned := m.Env.Pinned()
	names := make([]string, 0, len(pinned))
	for n := range pinned {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-15s %s\n", n, pinned[n])
	}
	return nil
}

func latestRun(st baseline.Store, suite, key string) (string, error) {
	runs, err := st.Runs(suite, key)
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("suite %s key %s has no runs: %w", suite, key, baseline.ErrNotFound)
	}
	return runs[len(runs)-1].ID, nil
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
		if !*nightly {
			continue
		}
		r, err := st.Run(ri.Suite, ri.Key, ri.ID)
		if err != nil {
			return err
		}
		base := ""
		if p, err := st.Pointer(ri.Suite, ri.Key); err == nil {
			base = p.Run
		} else if !errors.Is(err, baseline.ErrNoBaseline) {
			return err
		}
		if err := st.Append(baseline.NightlyEntry(r.Meta, ri.ID, base, *verdict, r.Meta.End)); err != nil {
			return err
		}
	}
	return nil
}

var verdicts = []string{"pass", "fail", "inconclusive", "incomparable"}

func checkVerdict(v string) error {
	if v == "" {
		return nil
	}
	for _, ok := range verdicts {
		if v == ok {
			return nil
		}
	}
	return withCode(exitError, fmt.Errorf("--verdict %q: want one of %s", v, strings.Join(verdicts, ", ")))
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
	if len(rest) == 1 {
		// One argument is a result folder: store it, then promote it.
		if _, err := os.Stat(filepath.Join(rest[0], result.MetaFile)); err != nil {
			return withCode(exitError, fmt.Errorf("%s is not a result folder (%w); to promote a stored run give SUITE RUN", rest[0], err))
		}
		ri, err := st.Add(rest[0])
		if err != nil {
			return err
		}
		p.Suite, p.Key, p.Run = ri.Suite, ri.Key, ri.ID
	} else {
		p.Suite, p.Run = rest[0], rest[1]
		if p.Key, err = resolveKey(st, p.Suite, sf.key); err != nil {
			return err
		}
		if p.Run == "latest" {
			if p.Run, err = latestRun(st, p.Suite, p.Key); err != nil {
				return err
			}
		}
	}
	h, err := st.Promote(p)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "promoted %s/%s run %s (commit %s) by rule %s", h.Suite, h.Key, h.Run, short(h.Commit), h.Rule)
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
	if *keep < 1 {
		return withCode(exitError, fmt.Errorf("--keep %d: must be at least 1", *keep))
	}
	st, suites, err := openSuites(e, sf, rest)
	if err != nil {
		return err
	}
	defer st.Close()
	total := 0
	for _, s := range suites {
		keys := []string{sf.key}
		if sf.key == "" {
			if keys, err = st.Keys(s); err != nil {
				return err
			}
		}
		for _, k := range keys {
			removed, err := st.Prune(s, k, *keep)
			if err != nil {
				return err
			}
			for _, id := range removed {
				fmt.Fprintf(e.stdout, "removed %s/%s/%s\n", s, k, id)
			}
			total += len(removed)
		}
	}
	fmt.Fprintf(e.stdout, "pruned %d runs, kept the newest %d per suite and key and every baseline\n", total, *keep)
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
	seed := fs.Uint64("seed", DefaultHistorySeed, "seed of the change points' permutation test")
	alpha := fs.Float64("alpha", changepoint.DefaultAlpha, "significance level of a change point")
	minShift := fs.Float64("min-shift", 100*changepoint.DefaultMinShift, "smallest change of level reported, in percent")
	last := fs.Int("nights", 0, "only the last N nights (0: all)")
	format := fs.String("format", "text", "output: text or json")
	rest, err := parseArgs(fs, args, 1, 1, "history SUITE [--key K] [--repo DIR] [--nights N] [--store S] [--format text|json]")
	if err != nil {
		return err
	}
	var errs []error
	if *format != "text" && *format != "json" {
		errs = append(errs, fmt.Errorf("--format %q: want text or json", *format))
	}
	if *minShift <= 0 {
		errs = append(errs, fmt.Errorf("--min-shift %v: must be a positive percentage", *minShift))
	}
	if *alpha <= 0 || *alpha >= 1 {
		errs = append(errs, fmt.Errorf("--alpha %v: must be in (0, 1)", *alpha))
	}
	if *last < 0 {
		errs = append(errs, fmt.Errorf("--nights %d: must not be negative", *last))
	}
	if len(errs) > 0 {
		return withCode(exitError, errors.Join(errs...))
	}
	suite := rest[0]
	st, key, err := openSuite(e, sf, suite)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.History(suite, key)
	if err != nil {
		return err
	}
	for _, w := range h.Warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	nights := lastNights(h.Nightly(), *last)
	opt := changepoint.Options{Alpha: *alpha, MinShift: *minShift / 100, Seed: *seed}
	changes, err := history.Changes(historyNights(nights), opt)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Suite   string                  `json:"suite"`
			Key     string                  `json:"key"`
			Nights  []baseline.HistoryEntry `json:"nights"`
			Changes []history.Change        `json:"changes"`
		}{suite, key, nights, changes})
	}
	return renderHistory(e, suite, key, nights, changes, opt, *repo)
}

// lastNights returns the newest n nights (all of them when n is 0).
func lastNights(nights []baseline.HistoryEntry, n int) []baseline.HistoryEntry {
	if n > 0 && len(nights) > n {
		return nights[len(nights)-n:]
	}
	return nights
}

// historyNights converts the store's nightly entries into what the change analysis reads.
func historyNights(entries []baseline.HistoryEntry) []history.Night {
	out := make([]history.Night, len(entries))
	for i, n := range entries {
		out[i] = history.Night{Time: n.Time, Commit: n.Commit, P50: n.P50, P99: n.P99, P999: n.P999}
	}
	return out
}

// renderHistory prints the nights with their change marks, then each change with its commit
// range (and, with repo, the commits in it), then any slow creep.
func renderHistory(e *env, suite, key string, nights []baseline.HistoryEntry, changes []history.Change, opt changepoint.Options, repo string) error {
	w := e.stdout
	fmt.Fprintf(w, "suite %s, key %s: %d nights\n", suite, key, len(nights))
	if len(nights) == 0 {
		return nil
	}
	steps := history.Steps(changes)
	if err := renderHistoryTable(w, nights, steps); err != nil {
		return err
	}
	method := fmt.Sprintf("E-Divisive means, permutation test p <= %g (%d permutations, seed %d), minimum shift %g%%",
		opt.Alpha, changepoint.DefaultPermutations, opt.Seed, 100*opt.MinShift)
	if len(changes) == 0 {
		fmt.Fprintf(w, "\nno change points (%s)\n", method)
		return nil
	}
	fmt.Fprintf(w, "\nchange points (%s):\n", method)
	for _, st := range steps {
		renderHistoryStep(e, nights[st.Night-1], nights[st.Night], st, repo)
	}
	for _, c := range history.Creeps(changes) {
		dir := "slower"
		if c.Faster {
			dir = "faster"
		}
		fmt.Fprintf(w, "  %s moved %d times, always %s: %s -> %s ms (%+.1f%%) overall: slow creep, look at the whole range, not one night\n",
			c.Metric, c.Moves, dir, ms(int64(c.From)), ms(int64(c.To)), 100*c.Shift())
	}
	return nil
}

// renderHistoryTable prints one row per night, marking the nights where a metric moved.
func renderHistoryTable(w io.Writer, nights []baseline.HistoryEntry, steps []history.Step) error {
	marks := map[int]string{}
	for _, st := range steps {
		var m []string
		for _, c := range st.Changes {
			m = append(m, fmt.Sprintf("%s %+.1f%%", c.Metric, 100*c.Shift))
		}
		marks[st.Night] = "<< " + strings.Join(m, ", ")
	}
	t := newTable(w, "NIGHT", "DATE", "COMMIT", "P50 ms", "P99 ms", "P99.9 ms", "VERDICT", "CHANGE")
	for i, n := range nights {
		verdict := n.Verdict
		if verdict == "" {
			verdict = "-"
		}
		if err := t.Append([]string{fmt.Sprint(i + 1), n.Time.UTC().Format("2006-01-02"), short(n.Commit), ms(n.P50), ms(n.P99), ms(n.P999), verdict, marks[i]}); err != nil {
			return err
		}
	}
	return t.Render()
}

// renderHistoryStep prints one night's changes, the nights either side and the commit range
// between them, listed from repo's git log when repo is set.
func renderHistoryStep(e *env, good, bad baseline.HistoryEntry, st history.Step, repo string) {
	w := e.stdout
	i := st.Night
	var parts []string
	for _, c := range st.Changes {
		parts = append(parts, fmt.Sprintf("%s %s -> %s ms (%+.1f%%, p=%.3f)", c.Metric, ms(int64(c.Before)), ms(int64(c.After)), 100*c.Shift, c.PValue))
	}
	fmt.Fprintf(w, "  night %d (%s): %s\n", i+1, bad.Time.UTC().Format("2006-01-02"), strings.Join(parts, "; "))
	fmt.Fprintf(w, "    last good night %d (%s) commit %s; first bad night %d (%s) commit %s\n",
		i, good.Time.UTC().Format("2006-01-02"), short(good.Commit), i+1, bad.Time.UTC().Format("2006-01-02"), short(bad.Commit))
	if good.Commit == "" || bad.Commit == "" {
		fmt.Fprintln(w, "    commit range unknown: a night has no recorded commit")
		return
	}
	fmt.Fprintf(w, "    commit range %s..%s\n", short(good.Commit), short(bad.Commit))
	if repo == "" {
		return
	}
	lines, err := baseline.GitLog(repo, good.Commit, bad.Commit)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: listing the commits of %s..%s: %v\n", short(good.Commit), short(bad.Commit), err)
		return
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, "    no commits in the range: the change came from outside the code (environment, data, board)")
	}
	for _, l := range lines {
		fmt.Fprintf(w, "      %s\n", l)
	}
}
