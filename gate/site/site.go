// Package site owns the nightly dashboard: a static, self-contained web site built from a
// baseline store, for GitHub Pages or any folder of files. It has an index of every suite and
// environment key (current baseline, last night's verdict and quantiles, a sparkline), a page
// per suite and key (the nightly p50/p99/p99.9 on a log axis with promotions and change points
// and their commit ranges), and a page per night (the HTML report of gate/htmlreport for that
// run against its baseline).
//
// Build streams the store: the index and the key pages come from history.jsonl and the baseline
// records; only the nights that get a report page have their logs read, one run at a time.
// Pages of nights an earlier build left in the output folder are kept, not rebuilt. The site is
// built in a sibling folder and swapped in whole: a reader never sees half a site. Everything
// the store says is text to the pages (html/template escapes it).
package site

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"golang.org/x/sys/unix"
)

// Defaults of Options.
const (
	// DefaultReportNights is how many of each key's newest nights get a report page when an
	// earlier build has not made one already.
	DefaultReportNights = 14
	// DefaultSparkNights is how many nights the index's sparklines show.
	DefaultSparkNights = 60
	// DefaultChangeNights is how many of each key's newest nights are searched for change
	// points: the search grows faster than linearly with the nights, and a year of them would
	// take most of a build.
	DefaultChangeNights = 180
)

// MarkerFile marks a folder as a site this package built: Build replaces only such a folder
// (or an empty one, or none), never a folder of other files given as --out by mistake.
const MarkerFile = "tailgate-site.json"

const markerJSON = `{"format":"tailgate-site","version":1}` + "\n"

// Options say what Build makes and where.
type Options struct {
	// Out is the site's folder, replaced whole.
	Out string
	// RepoURL is the repository's web address (https://github.com/OWNER/REPO): change points
	// link to its compare view, RepoURL/compare/GOOD...BAD. Empty leaves the ranges unlinked.
	RepoURL string
	// ReportNights, SparkNights and ChangeNights: see the Default* constants (used when 0).
	ReportNights, SparkNights, ChangeNights int
	// Rules returns the rules a suite's night pages apply (gate.DefaultRuleSources when nil),
	// and whether they are the defaults.
	Rules func(suite string) ([]gate.RuleSource, bool, error)
	// Gate are the comparison's options for the night pages (tool, pWCET); DefaultRules is
	// set from Rules.
	Gate gate.Options
	// Generator names the tool in the footers ("tailgate 0.3.0").
	Generator string
	// Now is the build time the footers show (time.Now when zero).
	Now time.Time
	// Workers bounds how many keys are built at once (GOMAXPROCS when 0).
	Workers int
}

func (o Options) withDefaults() Options {
	if o.ReportNights == 0 {
		o.ReportNights = DefaultReportNights
	}
	if o.SparkNights == 0 {
		o.SparkNights = DefaultSparkNights
	}
	if o.ChangeNights == 0 {
		o.ChangeNights = DefaultChangeNights
	}
	if o.Rules == nil {
		o.Rules = func(string) ([]gate.RuleSource, bool, error) { return gate.DefaultRuleSources(), true, nil }
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	if o.Out == "" {
		errs = append(errs, errors.New("no output folder"))
	}
	if o.RepoURL != "" && !strings.HasPrefix(o.RepoURL, "https://") && !strings.HasPrefix(o.RepoURL, "http://") {
		errs = append(errs, fmt.Errorf("repository URL %q: want https://HOST/OWNER/REPO", o.RepoURL))
	}
	for name, v := range map[string]int{"report nights": o.ReportNights, "sparkline nights": o.SparkNights, "change-point nights": o.ChangeNights} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: must not be negative", name, v))
		}
	}
	return errors.Join(errs...)
}

// Result says what a build made.
type Result struct {
	// Index is the path of the site's index.html.
	Index string
	// Keys and Nights count the suite × key pages and the nights on them; Pages counts the
	// night pages built now and Reused those kept from the earlier build.
	Keys, Nights, Pages, Reused int
	// Problems are the store's integrity problems and the damaged nights, each also named on
	// the site: a build with problems is a failed build (exit 2) that still shows them.
	Problems []string
}

// KeyPath is the site-relative folder of suite and key's page ("suites/SUITE/KEY/"), where a
// PR comment links to.
func KeyPath(suite, key string) string { return path.Join("suites", suite, key) + "/" }

// Build builds the site of st into o.Out. The returned error is what kept the site from being
// written (nothing was changed then); problems with the store are in Result.Problems, on the
// pages, and the site is written.
func Build(st baseline.Store, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	o = o.withDefaults()
	out := filepath.Clean(o.Out)
	old, err := previousSite(out)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, err
	}
	res, err := build(st, o, old, tmp)
	if err == nil {
		err = swapIn(tmp, out, old != "")
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	res.Index = filepath.Join(out, "index.html")
	return res, nil
}

// previousSite returns out when it holds a site of an earlier build (whose night pages are
// kept), "" when out does not exist or is empty, and an error when it holds anything else.
func previousSite(out string) (string, error) {
	fi, err := os.Lstat(out)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("site: %s is not a folder", out)
	}
	if _, err := os.Stat(filepath.Join(out, MarkerFile)); err == nil {
		return out, nil
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return "", err
	}
	if len(ents) > 0 {
		return "", fmt.Errorf("site: %s holds files but no %s: not replacing a folder this command did not build", out, MarkerFile)
	}
	return out, nil
}

// swapIn puts the built folder tmp in place of out in one rename (exchanging the two when out
// exists, then removing the old site), so out is always a whole site.
func swapIn(tmp, out string, exists bool) error {
	if err := result.SyncDir(tmp); err != nil {
		return err
	}
	if !exists {
		if err := os.Rename(tmp, out); err != nil {
			return err
		}
		return result.SyncDir(filepath.Dir(out))
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE); err != nil {
		return fmt.Errorf("site: replacing %s: %w", out, err)
	}
	if err := result.SyncDir(filepath.Dir(out)); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

// build writes the whole site into dir, reusing the night pages of the site in old ("" for none).
func build(st baseline.Store, o Options, old, dir string) (*Result, error) {
	b := &builder{st: st, o: o, old: old, dir: dir}
	keys, err := b.listKeys()
	if err != nil {
		return nil, err
	}
	// Verifying decodes every stored log: it runs beside the change-point searches, which do
	// not need its verdict, and the keys wait for it before they mark damaged nights.
	verified := make(chan []string, 1)
	go func() { verified <- verify(st) }()
	b.problems = sync.OnceValue(func() []string { return <-verified })
	rows := make([]indexRow, len(keys))
	errs := make([]error, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Workers, max(len(keys), 1)) {
		wg.Go(func() {
			for i := range next {
				rows[i], errs[i] = b.buildKey(keys[i])
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	problems := b.problems()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res := &Result{Keys: len(keys), Problems: problems}
	for _, r := range rows {
		res.Nights += r.Nights
		res.Pages += r.pages
		res.Reused += r.reused
		res.Problems = append(res.Problems, r.nightProblems...)
	}
	idx := indexView{page: b.page("tailgate: nightly dashboard", ""), Rows: rows, Problems: res.Problems, Store: st.Spec().String()}
	if err := writePage(filepath.Join(dir, "index.html"), indexTmpl, idx); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, MarkerFile), []byte(markerJSON), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// builder is one build's shared state. Store calls go one at a time through mu (a git store's
// clone is not for concurrent readers); decoding the logs they open runs in parallel.
type builder struct {
	st       baseline.Store
	o        Options
	old, dir string
	mu       sync.Mutex
	// problems waits for the store's verification and returns its problems, one a line.
	problems func() []string
}

func (b *builder) locked(fn func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fn()
}

// suiteKey is one suite and environment key of the store.
type suiteKey struct{ suite, key string }

// listKeys lists every suite and key (the first read, which brings a git store up to date).
func (b *builder) listKeys() ([]suiteKey, error) {
	suites, err := b.st.Suites()
	if err != nil {
		return nil, err
	}
	var keys []suiteKey
	for _, s := range suites {
		ks, err := b.st.Keys(s)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			keys = append(keys, suiteKey{s, k})
		}
	}
	return keys, nil
}

// verify checks the whole store and returns its problems, one a line, sorted.
func verify(st baseline.Store) []string {
	var problems []string
	for _, e := range leafErrors(st.Verify()) {
		problems = append(problems, e.Error())
	}
	sort.Strings(problems)
	return problems
}

// leafErrors flattens errors.Join trees into their leaves.
func leafErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// keyProblems picks the problems about suite and key out of all: those naming its folder or
// "SUITE/KEY".
func keyProblems(all []string, k suiteKey) []string {
	var out []string
	for _, p := range all {
		if strings.Contains(p, string(filepath.Separator)+k.suite+string(filepath.Separator)+k.key) || strings.Contains(p, " "+k.suite+"/"+k.key) {
			out = append(out, p)
		}
	}
	return out
}

// reuse links the night page rel of the earlier build into the new one, reporting whether
// there was one to keep.
func (b *builder) reuse(rel string) bool {
	if b.old == "" {
		return false
	}
	src, dst := filepath.Join(b.old, rel), filepath.Join(b.dir, rel)
	if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false
	}
	if os.Link(src, dst) == nil {
		return true
	}
	in, err := os.Open(src)
	if err != nil {
		return false
	}
	defer in.Close()
	f, err := os.Create(dst)
	if err != nil {
		return false
	}
	_, err = io.Copy(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil
}

// writePage executes t with v into the file p, creating its folder.
func writePage(p string, t interface {
	Execute(io.Writer, any) error
}, v any) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return fmt.Errorf("site: %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, buf.Bytes(), 0o644)
}

// sortedFields is m's entries sorted by name.
func sortedFields(m map[string]string) []field {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{n, strings.Trim(m[n], `"`)}
	}
	return out
}
