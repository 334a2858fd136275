package ci_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// confirmYAML is a synthetic suite whose every sample takes d, gated on its median. A constant
// workload makes the verdicts the test's, not the machine's: the machine adds its noise to the
// samples, but it does not double a median. The run is a count of samples in short intervals:
// on this shared machine a loaded second once gave fewer intervals than the gate's bootstrap
// blocks; 1,500 samples of at least 1 ms in 20 ms intervals always give dozens, with enough
// samples in each for the median's interval to resolve +50 %.
func confirmYAML(d, extra string) string {
	return fmt.Sprintf(`version: 1
suites:
  synth:
    backend: synthetic
    synthetic: "const:d=%s"
    cpus: [1]
    warmup: "50"
    iterations: 1500
    interval: 20ms
    thresholds: ["p50 < +50%%"]
%s`, d, extra)
}

// rerunWith measures confirmation reruns (folders named -confirmN) from another configuration:
// it stands in for the board being itself again after whatever slowed the first run, which on
// a board is the machine's doing and cannot be summoned on demand.
type rerunWith struct {
	first, rerun ci.Measurer
}

func (r rerunWith) Measure(ctx context.Context, suite, dir string, resume *measure.Resume) (*result.Meta, error) {
	if strings.Contains(filepath.Base(dir), "-confirm") {
		return r.rerun.Measure(ctx, suite, dir, resume)
	}
	return r.first.Measure(ctx, suite, dir, resume)
}

// TestPipelineConfirmNightly drives the nightly pipeline through the confirmation rerun of a
// regression with seeded results (a 1 ms median, a 2 ms regression; `steady`): the verdicts are
// the test's, not this shared machine's, whose load once made a 1 ms constant workload's
// median wander by a quarter. The real measurer is exercised by the tests after it. The nights,
// in order, on main:
//
//	bootstrap (1 ms) → pass (1 ms) → confirmed regression (2 ms, rerun 2 ms)
//	→ unconfirmed regression (2 ms, rerun 1 ms) → confirm 0 → ci.confirm: 2
//	→ a pass under ci.default_branch: trunk (not promoted)
//
// and after them the store's history lists every night with its verdict.
func TestPipelineConfirmNightly(t *testing.T) {
	tmp := t.TempDir()
	st, err := baseline.OpenDir(filepath.Join(tmp, "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	work := filepath.Join(tmp, "work")
	baselineRun := func(t *testing.T) string {
		t.Helper()
		keys, err := st.Keys("synth")
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys %v, %v: want one environment", keys, err)
		}
		p, err := st.Pointer("synth", keys[0])
		if err != nil {
			t.Fatal(err)
		}
		return p.Run
	}
	nights := func(t *testing.T) []baseline.HistoryEntry {
		t.Helper()
		keys, _ := st.Keys("synth")
		h, err := st.History("synth", keys[0])
		if err != nil {
			t.Fatal(err)
		}
		return h.Nightly()
	}
	seed := uint64(0)
	measurer := func(t *testing.T, yaml string, g result.Git) (*config.Config, ci.Measurer) {
		t.Helper()
		cfg, err := config.Parse(filepath.Join(tmp, "tailgate.yaml"), []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		median := 1e6
		if strings.Contains(yaml, "d=2ms") {
			median = 2e6
		}
		seed++
		return cfg, steady{median: median, seed: seed * 1000, git: g}
	}

	cases := []struct {
		name    string
		d       string // the first run's constant
		rerun   string // the reruns' constant (default d)
		extra   string // appended to tailgate.yaml
		confirm int
		code    int
		// reruns is how many confirmation folders the night leaves.
		reruns   int
		verdict  string // in the history
		promoted bool
		says     []string // in the headline, notes and log
	}{
		{name: "bootstrap", d: "1ms", confirm: 1, code: gate.ExitPass, verdict: "bootstrap", promoted: true, says: []string{"became the baseline"}},
		{name: "pass", d: "1ms", confirm: 1, code: gate.ExitPass, verdict: "pass", promoted: true, says: []string{"is now the baseline"}},
		{name: "confirmed regression", d: "2ms", confirm: 1, code: gate.ExitRegression, reruns: 1, verdict: "regression",
			says: []string{"confirmation run 1 regressed too", "synth regression: p50 < +50%"}},
		{name: "unconfirmed regression", d: "2ms", rerun: "1ms", confirm: 1, code: gate.ExitInconclusive, reruns: 1, verdict: "inconclusive",
			says: []string{"the regression was not confirmed: confirmation run 1 says pass", "synth inconclusive: confirmation run 1 did not reproduce the regression (regression: p50 < +50%"}},
		{name: "confirm 0", d: "2ms", confirm: 0, code: gate.ExitRegression, verdict: "regression"},
		{name: "confirm 2", d: "2ms", confirm: 2, code: gate.ExitRegression, reruns: 2, verdict: "regression",
			says: []string{"confirmation run 2 regressed too"}},
		// A pass from main is not promoted when the config names another default branch.
		{name: "default branch trunk", d: "1ms", extra: "ci: { default_branch: trunk }\n", confirm: 1, code: gate.ExitPass, verdict: "pass"},
	}
	var commits []string
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := result.Git{Commit: fmt.Sprintf("%02x%038x", i+1, 0), Ref: "refs/heads/main"}
			commits = append(commits, g.Commit)
			cfg, m := measurer(t, confirmYAML(c.d, c.extra), g)
			if c.rerun != "" {
				_, again := measurer(t, confirmYAML(c.rerun, c.extra), g)
				m = rerunWith{first: m, rerun: again}
			}
			branch := baseline.DefaultBranch
			if cfg.CI.DefaultBranch != "" {
				branch = cfg.CI.DefaultBranch
			}
			before := ""
			if i > 0 {
				before = baselineRun(t)
			}
			var log bytes.Buffer
			p := &ci.Pipeline{Config: cfg, Profile: "nightly", Work: work, Store: st, Measurer: m, Confirm: c.confirm,
				DefaultBranch: branch, Git: g, Log: &log,
				// No between-run variance from the history: what is tested is the confirmation
				// logic, and on this shared machine the nights' medians wander with its load.
				Gate: gate.Options{Inconclusive: gate.InconclusiveFail, BetweenRun: map[string]float64{}},
				Now:  func() time.Time { return time.Date(2026, 12, 1+i, 3, 0, 0, 0, time.UTC) }}
			o := p.Run(context.Background(), "synth")
			if o.Err != nil {
				t.Fatalf("%v\n%s", o.Err, log.String())
			}
			if o.Code != c.code {
				t.Fatalf("exit %d, want %d: %s\n%s", o.Code, c.code, o.Report.Headline, log.String())
			}
			said := o.Report.Headline + "\n" + strings.Join(o.Notes, "\n") + "\n" + log.String()
			for _, w := range c.says {
				if !strings.Contains(said, w) {
					t.Errorf("the outcome does not say %q:\n%s", w, said)
				}
			}
			for a := 1; a <= 3; a++ {
				_, err := os.Stat(ci.RunDir(work, "synth", "nightly", g.Commit, a))
				if exists := err == nil; exists != (a <= c.reruns) {
					t.Errorf("confirmation folder %d exists: %v; want %d reruns", a, exists, c.reruns)
				}
			}
			n := nights(t)
			last := n[len(n)-1]
			if last.Commit != g.Commit || last.Verdict != c.verdict {
				t.Errorf("last night: commit %s verdict %q, want %s %q", last.Commit, last.Verdict, g.Commit, c.verdict)
			}
			if moved := baselineRun(t) != before; moved != c.promoted {
				t.Errorf("baseline moved: %v, want %v (was %s, now %s)", moved, c.promoted, before, baselineRun(t))
			}
			if c.promoted && baselineRun(t) != last.Run {
				t.Errorf("baseline %s is not tonight's run %s", baselineRun(t), last.Run)
			}
		})
	}
	// What an operator sees the morning after: every night, in order, with its verdict.
	n := nights(t)
	if len(n) != len(cases) {
		t.Fatalf("history has %d nights, want %d: %+v", len(n), len(cases), n)
	}
	for i, night := range n {
		if night.Commit != commits[i] || night.Verdict != cases[i].verdict {
			t.Errorf("night %d: commit %s verdict %q, want %s %q (%s)", i+1, night.Commit, night.Verdict, commits[i], cases[i].verdict, cases[i].name)
		}
	}
}

// steady "measures" a seeded log-normal result around median, recorded as commit git; every
// call is a new seed, as every run is new.
type steady struct {
	median float64
	seed   uint64
	git    result.Git
}

func (s steady) Measure(_ context.Context, suite, dir string, _ *measure.Resume) (*result.Meta, error) {
	seed := s.seed
	if _, n, ok := strings.Cut(filepath.Base(dir), "-confirm"); ok {
		seed += uint64(len(n)) + uint64(n[0]) // a rerun is a new run
	}
	r := gatetest.Write(nopTB{}, dir, gatetest.Spec{Suite: suite, Intervals: 60, PerIv: 1000, Seed: seed,
		Process: gatetest.Lognormal(s.median, 0.05)})
	m := *r.Meta
	m.Git = s.git
	if err := result.WriteMeta(dir, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// TestSuiteMeasurerValidatesAllSuites: every suite's plan is resolved before anything runs, and
// every problem of every suite is reported at once, naming the file and the suite. (The
// configuration may refuse a bad value at load already; one of the two must.)
func TestSuiteMeasurerValidatesAllSuites(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`version: 1
suites:
  a: { backend: synthetic, synthetic: "const:d=1ms", threads: 2, cpus: [1, 2, 3] }
  b: { backend: synthetic, synthetic: "const:d=1ms" }
`))
	want := []string{"t.yaml", "cpus"}
	if err == nil {
		_, err = ci.NewSuiteMeasurer(cfg, []string{"a", "b", "missing"}, measure.Request{Profile: "pr"}, measure.Options{})
		want = append(want, "suites.a", "missing")
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
}

// jobRunner runs the nightly pipeline of confirmYAML("1ms") on one main commit, a folder store
// and a work folder shared by every call, as CI job job (RUN_ID.ATTEMPT); nights reads the
// store's nightly history.
func jobRunner(t *testing.T, commit string) (run func(job string) (ci.Outcome, string), nights func() []baseline.HistoryEntry) {
	t.Helper()
	tmp := t.TempDir()
	st, err := baseline.OpenDir(filepath.Join(tmp, "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := result.Git{Commit: commit, Ref: "refs/heads/main"}
	cfg, err := config.Parse(filepath.Join(tmp, "tailgate.yaml"), []byte(confirmYAML("1ms", "")))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ci.NewSuiteMeasurer(cfg, []string{"synth"}, measure.Request{Profile: "nightly"}, measure.Options{Progress: progress.Quiet, Git: g})
	if err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(tmp, "work")
	run = func(job string) (ci.Outcome, string) {
		var log bytes.Buffer
		p := &ci.Pipeline{Config: cfg, Profile: "nightly", Work: work, Store: st, Measurer: m, Confirm: 1,
			DefaultBranch: "main", Git: g, Job: job, Gate: gate.Options{Inconclusive: gate.InconclusiveFail}, Log: &log}
		o := p.Run(context.Background(), "synth")
		if o.Err != nil {
			t.Fatalf("job %s: %v\n%s", job, o.Err, log.String())
		}
		return o, log.String() + strings.Join(o.Notes, "\n")
	}
	nights = func() []baseline.HistoryEntry {
		keys, _ := st.Keys("synth")
		h, err := st.History("synth", keys[0])
		if err != nil {
			t.Fatal(err)
		}
		return h.Nightly()
	}
	return run, nights
}

// TestPipelineReuseOnlyBySameJob: on one commit, a second step of the same job reuses the
// measurement and records no second night; a later job (a rerun of the nightly) measures again
// and never compares a measurement with itself.
func TestPipelineReuseOnlyBySameJob(t *testing.T) {
	run, nights := jobRunner(t, strings.Repeat("ab", 20))
	run("100.1")
	_, said := run("100.1")
	if !strings.Contains(said, "already measured by this job") || !strings.Contains(said, "not recorded twice") {
		t.Errorf("the same job did not reuse its measurement once:\n%s", said)
	}
	if n := len(nights()); n != 1 {
		t.Errorf("%d nights after one job run twice, want 1", n)
	}
	o, said := run("101.1")
	if !strings.Contains(said, "measured by an earlier job") {
		t.Errorf("a later job reused an earlier job's measurement:\n%s", said)
	}
	n := nights()
	if len(n) != 2 || n[1].Run == n[0].Run || n[1].Baseline != n[0].Run {
		t.Errorf("nights %+v: want a second, new run compared with the first", n)
	}
	if o.Report.Candidate.Dir == o.Report.Baseline.Dir {
		t.Errorf("compared %s with itself", o.Report.Candidate.Dir)
	}
}

// TestPipelineRerunAttemptRecordsOneNight: "Re-run jobs" on a finished nightly (the same
// workflow run, attempt 2) measures again, as any later job does, but the night is in the
// history once: attempt 1 recorded it. The next workflow run on the same commit is a new night.
func TestPipelineRerunAttemptRecordsOneNight(t *testing.T) {
	run, nights := jobRunner(t, strings.Repeat("cd", 20))
	run("300.1")
	_, said := run("300.2")
	if !strings.Contains(said, "measured by an earlier job") {
		t.Errorf("attempt 2 reused attempt 1's measurement:\n%s", said)
	}
	if n := nights(); len(n) != 1 {
		t.Errorf("%d nights after a workflow run and its re-run, want 1: %+v\n%s", len(n), n, said)
	}
	if !strings.Contains(said, "recorded by an earlier attempt") {
		t.Errorf("attempt 2 does not say why it records no night:\n%s", said)
	}
	run("301.1")
	if n := nights(); len(n) != 2 {
		t.Errorf("%d nights after the next workflow run on the same commit, want 2", len(n))
	}
}

// TestPruneWork: the newest keep run folders stay besides those in use; folders without a
// checkpoint are not tailgate's and stay.
func TestPruneWork(t *testing.T) {
	work := t.TempDir()
	mk := func(name string, age time.Duration, checkpoint bool) string {
		dir := filepath.Join(work, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if checkpoint {
			p := filepath.Join(dir, ci.StateFile)
			if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-age)
			if err := os.Chtimes(p, at, at); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	inUse := mk("a-old-in-use", 10*time.Hour, true)
	mk("b", 1*time.Hour, true)
	mk("c", 2*time.Hour, true)
	mk("d", 3*time.Hour, true)
	mk("notours", 9*time.Hour, false)
	removed, err := ci.PruneWork(work, 2, []string{inUse})
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || filepath.Base(removed[0]) != "d" {
		t.Errorf("removed %v, want only d", removed)
	}
	for _, keep := range []string{"a-old-in-use", "b", "c", "notours"} {
		if _, err := os.Stat(filepath.Join(work, keep)); err != nil {
			t.Errorf("%s: %v", keep, err)
		}
	}
}

// TestBetweenRunFromHistory: the run-to-run SD comes from the nights after the metric's last
// change point (a real step is not noise), needs enough of them, and is on the log scale.
func TestBetweenRunFromHistory(t *testing.T) {
	st, err := baseline.OpenDir(filepath.Join(t.TempDir(), "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rng := rand.New(rand.NewPCG(7, 7))
	env := result.Fingerprint{Arch: "arm64", OS: "linux", Backend: "synthetic"}
	key := env.Key()
	const sd = 0.02
	for i := range 40 {
		level := 1e6
		if i >= 20 {
			level *= 1.5 // a real step at night 20: it must not count as run-to-run noise
		}
		v := func() int64 { return int64(level * math.Exp(sd*rng.NormFloat64())) }
		p50 := v()
		e := baseline.HistoryEntry{V: baseline.HistoryVersion, Kind: baseline.KindNightly, Time: time.Date(2026, 10, 1+i, 3, 0, 0, 0, time.UTC),
			Suite: "s", Key: key, Run: fmt.Sprintf("r%02d", i), Commit: fmt.Sprintf("%040x", i), Samples: 1000,
			P50: p50, P99: 2 * p50, P999: 3 * p50, Max: 4 * p50, Verdict: "pass"}
		if err := st.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ci.BetweenRun(st, "s", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"p50", "p99", "p99.9"} {
		if s := got[m]; !(s > sd/2 && s < sd*2) {
			t.Errorf("%s: σ %.4f, want about %.2f (the step at night 20 must not inflate it)", m, s, sd)
		}
	}
	if got, err := ci.BetweenRun(st, "s", "otherkey"); err != nil || len(got) != 0 {
		t.Errorf("no history: %v, %v; want none", got, err)
	}
}

// TestPipelinePooledBaseline: with ci.baseline_runs: 3 the fourth night is compared with the
// baseline run and the two passing nights before it, pooled: three runs' samples.
func TestPipelinePooledBaseline(t *testing.T) {
	tmp := t.TempDir()
	st, err := baseline.OpenDir(filepath.Join(tmp, "store"), baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := result.Git{Commit: strings.Repeat("cd", 20), Ref: "refs/heads/main"}
	cfg, err := config.Parse(filepath.Join(tmp, "tailgate.yaml"), []byte(confirmYAML("1ms", "ci: { baseline_runs: 3 }\n")))
	if err != nil {
		t.Fatal(err)
	}
	var last ci.Outcome
	var log bytes.Buffer
	for night := range 4 {
		log.Reset()
		p := &ci.Pipeline{Config: cfg, Profile: "nightly", Work: filepath.Join(tmp, "work"), Store: st, Measurer: steady{median: 1e6, seed: uint64(night + 1), git: g}, Confirm: 0,
			DefaultBranch: "main", Git: g, Job: fmt.Sprint(night), Gate: gate.Options{Inconclusive: gate.InconclusiveFail}, Log: &log}
		if last = p.Run(context.Background(), "synth"); last.Err != nil || last.Report == nil {
			t.Fatalf("night %d: %v\n%s", night, last.Err, log.String())
		}
	}
	if b := last.Report.Baseline; b == nil || b.Samples != 3*60000 {
		t.Errorf("baseline side %+v: want 3 runs of 60,000 samples pooled", b)
	}
	if !strings.Contains(log.String(), "baseline pooled from 3 runs") {
		t.Errorf("the log does not say the baseline was pooled:\n%s", log.String())
	}
}
