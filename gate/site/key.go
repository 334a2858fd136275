package site

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/storeview"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/htmlreport"
)

// night is one nightly history entry as the pages show it.
type night struct {
	I int
	E baseline.HistoryEntry
	// Page is the night's report page relative to the key's page; "" when it has none.
	Page string
	// Damaged says what is wrong with the night's run; Note why it has no page otherwise.
	Damaged, Note string
	// Change lists the metrics that moved at this night ("p99 +8.1%").
	Change string
}

// Date is the night's day.
func (n night) Date() string { return n.E.Time.UTC().Format("2006-01-02") }

// field is one pinned environment field.
type field struct{ Name, Value string }

// step is a change point as the key page lists it.
type step struct {
	Good, Bad night
	Changes   []string
	// Range is "GOOD...BAD" (short commits) and Compare its link; either may be empty.
	Range, Compare string
}

// keyView is a suite and key's page.
type keyView struct {
	page
	Suite, Key string
	Env        []field
	Baseline   *baseline.Pointer
	Nights     []night
	Promotions []baseline.HistoryEntry
	Steps      []step
	Chart      *chart
	// Analysis says how and over which nights the change points were sought.
	Analysis string
	Problems []string
}

// indexRow is a suite and key's row of the index.
type indexRow struct {
	Suite, Key, Href string
	Env              string
	Baseline         *baseline.Pointer
	Last             *night
	Nights           int
	Spark            *spark
	Problems         int
	// Steps counts the change points on the key's page.
	Steps int

	pages, reused int
	nightProblems []string
}

// commitRe is what a commit id looks like; anything else is shown, not linked.
var commitRe = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// buildKey writes the page of k and the report pages of its nights, and returns its index row.
// The store's problems are matched to k and its nights; a night whose report cannot be built
// because its run is damaged becomes one more problem.
func (b *builder) buildKey(k suiteKey) (indexRow, error) {
	o := b.o
	v := keyView{page: b.page(fmt.Sprintf("%s on %s", k.suite, k.key), "../../../"), Suite: k.suite, Key: k.key}
	row := indexRow{Suite: k.suite, Key: k.key, Href: KeyPath(k.suite, k.key) + "index.html"}
	var h *baseline.History
	err := b.locked(func() (err error) {
		if v.Baseline, err = b.st.Pointer(k.suite, k.key); errors.Is(err, baseline.ErrNoBaseline) {
			err = nil
		}
		if err != nil {
			return err
		}
		h, err = b.st.History(k.suite, k.key)
		return err
	})
	var historyErr error
	if err != nil {
		if !errors.Is(err, baseline.ErrIntegrity) {
			return row, err
		}
		// The page says so and shows what is left.
		h, historyErr = &baseline.History{}, err
	}
	row.Baseline = v.Baseline
	for _, e := range h.Entries {
		if e.Kind == baseline.KindPromotion {
			v.Promotions = append(v.Promotions, e)
		}
	}
	for i, e := range h.Nightly() {
		v.Nights = append(v.Nights, night{I: i, E: e})
	}
	row.Nights = len(v.Nights)
	hn := make([]history.Night, len(v.Nights))
	for i, n := range v.Nights {
		hn[i] = history.Night{Time: n.E.Time, Commit: n.E.Commit, P50: n.E.P50, P99: n.E.P99, P999: n.E.P999, Verdict: n.E.Verdict}
	}
	if err := b.changes(&v, hn); err != nil {
		return row, fmt.Errorf("%s/%s: change points: %w", k.suite, k.key, err)
	}
	v.Problems = keyProblems(b.problems(), k)
	if historyErr != nil && len(v.Problems) == 0 {
		v.Problems = append(v.Problems, historyErr.Error())
		row.nightProblems = append(row.nightProblems, historyErr.Error())
	}
	row.Problems = len(v.Problems)
	for i := range v.Nights {
		for _, p := range v.Problems {
			if run := v.Nights[i].E.Run; run != "" && strings.Contains(p, run) {
				v.Nights[i].Damaged = p
			}
		}
	}
	env, err := b.nightPages(k, &v, &row)
	if err != nil {
		return row, err
	}
	if env != nil {
		v.Env = sortedFields(env.Pinned())
		row.Env = envSummary(*env)
	}
	v.Chart = trendChart(&v)
	if len(v.Nights) > 0 {
		last := v.Nights[len(v.Nights)-1]
		row.Last = &last
		row.Spark = sparkline(v.Nights[max(0, len(v.Nights)-o.SparkNights):])
	}
	row.Steps = len(v.Steps)
	p := filepath.Join(b.dir, filepath.FromSlash(KeyPath(k.suite, k.key)), "index.html")
	return row, writePage(p, keyTmpl, v)
}

// changes finds the change points of the newest ChangeNights nights and lists them as steps.
func (b *builder) changes(v *keyView, nights []history.Night) error {
	opt := changepoint.Options{Seed: history.DefaultSeed}
	from := max(0, len(nights)-b.o.ChangeNights)
	v.Analysis = fmt.Sprintf("over all %d nights by %s", len(nights), history.Method(opt))
	if from > 0 {
		v.Analysis = fmt.Sprintf("over the newest %d of %d nights by %s", len(nights)-from, len(nights), history.Method(opt))
	}
	if len(nights)-from < 2 {
		return nil
	}
	cs, err := history.Changes(nights[from:], opt)
	if err != nil {
		return err
	}
	for _, st := range history.Steps(cs) {
		i := from + st.Night
		s := step{Good: v.Nights[i-1], Bad: v.Nights[i]}
		for _, c := range st.Changes {
			s.Changes = append(s.Changes, fmt.Sprintf("%s %s → %s (%+.1f%%, p=%.3f)", c.Metric, gate.FormatNs(c.Before), gate.FormatNs(c.After), 100*c.Shift, c.PValue))
			v.Nights[i].Change = strings.TrimPrefix(v.Nights[i].Change+fmt.Sprintf(", %s %+.1f%%", c.Metric, 100*c.Shift), ", ")
		}
		s.Bad.Change = v.Nights[i].Change
		gc, bc := s.Good.E.Commit, s.Bad.E.Commit
		if gc != "" && bc != "" {
			s.Range = storeview.ShortCommit(gc) + "..." + storeview.ShortCommit(bc)
			if b.o.RepoURL != "" && commitRe.MatchString(gc) && commitRe.MatchString(bc) {
				s.Compare = strings.TrimSuffix(b.o.RepoURL, "/") + "/compare/" + gc + "..." + bc
			}
		}
		v.Steps = append(v.Steps, s)
	}
	return nil
}

// nightPages gives the newest ReportNights nights, and every night the earlier build made a
// page for, their report pages, and returns the key's environment as the newest night's run
// (else the baseline) records it.
func (b *builder) nightPages(k suiteKey, v *keyView, row *indexRow) (*result.Fingerprint, error) {
	rules, isDefault, err := b.o.Rules(k.suite)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.suite, err)
	}
	parsed, err := gate.ParseRules(rules)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.suite, err)
	}
	nb := &nightBuilder{b: b, k: k, rules: parsed, isDefault: isDefault, ruleText: ruleText(rules)}
	defer nb.close()
	for i := len(v.Nights) - 1; i >= 0; i-- {
		n := &v.Nights[i]
		if n.E.Run == "" || n.Damaged != "" {
			continue
		}
		rel := path.Join(KeyPath(k.suite, k.key), "nights", n.E.Run+".html")
		switch {
		case b.reuse(filepath.FromSlash(rel)):
			row.reused++
		case i >= len(v.Nights)-b.o.ReportNights:
			err := nb.write(n, filepath.Join(b.dir, filepath.FromSlash(rel)))
			var d *damaged
			switch {
			case errors.As(err, &d):
				n.Damaged = d.Error()
				row.nightProblems = append(row.nightProblems, d.Error())
				continue
			case errors.Is(err, baseline.ErrNotFound):
				n.Note = "its run is no longer in the store (pruned)"
				continue
			case err != nil:
				return nil, err
			}
			row.pages++
		default:
			continue
		}
		n.Page = "nights/" + n.E.Run + ".html"
	}
	if nb.env != nil {
		return nb.env, nil
	}
	return b.keyEnv(k, v)
}

// keyEnv reads the key's environment from the newest night's run or the baseline, whichever
// opens (it is the same for every run of the key: it is what the key hashes).
func (b *builder) keyEnv(k suiteKey, v *keyView) (*result.Fingerprint, error) {
	var ids []string
	if len(v.Nights) > 0 {
		ids = append(ids, v.Nights[len(v.Nights)-1].E.Run)
	}
	if v.Baseline != nil {
		ids = append(ids, v.Baseline.Run)
	}
	for _, id := range ids {
		var env *result.Fingerprint
		_ = b.locked(func() error {
			r, err := b.st.OpenRun(k.suite, k.key, id)
			if err == nil {
				env = &r.Meta.Env
				r.Close()
			}
			return err
		})
		if env != nil {
			return env, nil
		}
	}
	return nil, nil
}

// envSummary is the index's one-line description of an environment.
func envSummary(f result.Fingerprint) string {
	board := f.Board
	if board == "" {
		board = f.CPUModel
	}
	parts := []string{board, f.Arch, f.KernelRelease}
	if f.PreemptRT {
		parts = append(parts, "PREEMPT_RT")
	}
	rt := f.Backend
	if f.ORTVersion != "" {
		rt += " " + f.ORTVersion
	}
	parts = append(parts, rt)
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

func ruleText(rs []gate.RuleSource) string {
	t := make([]string, len(rs))
	for i, r := range rs {
		t[i] = r.Text
	}
	return strings.Join(t, "; ")
}

// damaged is a night whose run failed its integrity check.
type damaged struct {
	night string
	err   error
}

func (d *damaged) Error() string { return fmt.Sprintf("night %s: %v", d.night, d.err) }
func (d *damaged) Unwrap() error { return d.err }

// nightBuilder writes one key's night pages, keeping the last baseline it loaded (nights in a
// row share one).
type nightBuilder struct {
	b         *builder
	k         suiteKey
	rules     []gate.Rule
	isDefault bool
	ruleText  string
	baseID    string
	base      *htmlreport.Result
	env       *result.Fingerprint
}

func (nb *nightBuilder) close() { nb.base = nil }

// load streams one stored run into what the report draws, its log verified as it is read.
func (nb *nightBuilder) load(id string) (*htmlreport.Result, error) {
	var r *baseline.RunReader
	if err := nb.b.locked(func() (err error) { r, err = nb.b.st.OpenRun(nb.k.suite, nb.k.key, id); return err }); err != nil {
		return nil, err
	}
	defer r.Close()
	res, err := htmlreport.LoadStored(r)
	if err != nil {
		return nil, err
	}
	// The page names the run by its place in the store, not by the building machine's path.
	res.Run.Dir = path.Join(nb.k.suite, nb.k.key, id)
	return res, nil
}

// write builds night n's report against the baseline it was compared with into p. A damaged
// run is a *damaged error; a pruned one wraps baseline.ErrNotFound.
func (nb *nightBuilder) write(n *night, p string) error {
	e := n.E
	cand, err := nb.load(e.Run)
	if err != nil {
		return nb.classify(e, e.Run, err)
	}
	if nb.env == nil {
		nb.env = &cand.Run.Meta.Env
	}
	notes := []string{fmt.Sprintf("Recorded verdict of this night: %s (by the nightly's own rules, against baseline %s).", orDash(e.Verdict), orDash(e.Baseline))}
	var base *gate.Run
	if e.Baseline != "" && e.Baseline != nb.baseID {
		nb.base, nb.baseID = nil, ""
		b, err := nb.load(e.Baseline)
		if err != nil && !errors.Is(err, baseline.ErrNotFound) {
			return nb.classify(e, e.Baseline, err)
		}
		if err == nil {
			nb.base, nb.baseID = b, e.Baseline
		}
	}
	in := htmlreport.Input{Cand: cand, Generator: nb.b.o.Generator,
		Title: fmt.Sprintf("%s, night of %s", e.Suite, n.Date())}
	if e.Baseline != "" && nb.baseID == e.Baseline {
		in.Base, base = nb.base, nb.base.Run
		notes = append(notes, "The rule table re-applies "+nb.ruleText+" to the stored runs.")
	} else if e.Baseline != "" {
		notes = append(notes, "Its baseline run "+e.Baseline+" is no longer in the store: the night is shown alone.")
	}
	opt := nb.b.o.Gate
	opt.DefaultRules = nb.isDefault
	rep, err := gate.Compare(base, cand.Run, nb.rules, opt)
	if err != nil {
		return fmt.Errorf("night %s: %w", e.Run, err)
	}
	in.Report, in.Decided, in.Notes = rep, base != nil, notes
	page, _, err := htmlreport.Build(in)
	if err != nil {
		return fmt.Errorf("night %s: %w", e.Run, err)
	}
	return writeReport(p, page)
}

// classify turns a failure to read run id of night e into a *damaged error when the store says
// the run is damaged.
func (nb *nightBuilder) classify(e baseline.HistoryEntry, id string, err error) error {
	if errors.Is(err, baseline.ErrIntegrity) {
		return &damaged{night: fmt.Sprintf("%s %s/%s run %s", e.Time.UTC().Format("2006-01-02"), e.Suite, e.Key, id), err: err}
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
