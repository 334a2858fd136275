package ci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/harness/progress"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// DefaultConfirm is how many confirmation reruns a nightly regression gets before it fails.
const DefaultConfirm = 1

// Measurer measures one suite into a run folder (which exists), continuing a killed run when
// resume is set. A board's measurer is a SuiteMeasurer; a test may inject another, e.g. to make
// a confirmation rerun differ from the first run as the machine would.
type Measurer interface {
	Measure(ctx context.Context, suite, dir string, resume *measure.Resume) (*result.Meta, error)
}

// Pipeline is the per-suite job of `tailgate ci`: measure (or resume, or reuse a finished run of
// the same commit), compare with the store's baseline, rerun to confirm a nightly regression,
// keep the run and the night's verdict in the store, and promote per policy. Publishing the
// outcomes is the caller's (PublishInput).
type Pipeline struct {
	Config *config.Config
	// Profile is pr or nightly.
	Profile string
	// Work holds the run folders and their checkpoints.
	Work     string
	Store    baseline.Store
	Measurer Measurer
	// Confirm is the number of confirmation reruns of a nightly regression.
	Confirm       int
	DefaultBranch string
	Git           result.Git
	// Job identifies this CI job (e.g. the Actions run id and attempt); empty outside CI. A
	// finished measurement is reused only by the job that made it (a step run twice), never
	// by a later job on the same commit: a rerun of a nightly measures again.
	Job string
	// Gate is the comparison's options (policy, pWCET, tool identity); DefaultRules is set
	// per suite.
	Gate gate.Options
	// Log receives what the pipeline did, one "tailgate ci: SUITE: …" line at a time.
	Log io.Writer
	// Now stamps history entries and promotions; nil means time.Now.
	Now func() time.Time
	// MergeBase is the pull request's merge base (a commit): a pr suite whose model or session
	// settings it changed is measured interleaved with the merge base's (see abDecision). Empty:
	// every suite is compared with its stored baseline. Repo is the repository's folder ("":
	// the working directory).
	MergeBase, Repo string

	used []string // run folders this pipeline measured into or reused
	// recorded maps a suite to the stored run an earlier attempt of this workflow run
	// recorded as the night, found when its measured folder was moved aside.
	recorded map[string]string
}

// Used returns the run folders this pipeline worked in, for PruneWork to keep.
func (p *Pipeline) Used() []string { return slices.Clone(p.used) }

// Outcome is one suite's gate report and what the pipeline did with it.
type Outcome struct {
	Suite  string
	Report *gate.Report
	Code   int
	Err    error
	Notes  []string
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) logf(suite, format string, a ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, "tailgate ci: %s: %s\n", suite, fmt.Sprintf(format, a...))
	}
}

// Run runs the pipeline for one suite. An Outcome whose Err wraps measure.ErrInterrupted ends
// the job: the run folder keeps what was measured for the next job to resume.
func (p *Pipeline) Run(ctx context.Context, name string) Outcome {
	out := Outcome{Suite: name, Code: gate.ExitError}
	if ab, err := p.abDecision(ctx, name); err != nil {
		out.Err = err
		return out
	} else if ab != nil {
		return p.runAB(ctx, name, ab)
	}
	dir := RunDir(p.Work, name, p.Profile, p.Git.Commit, 0)
	cand, err := p.measure(ctx, name, dir)
	if err != nil {
		out.Err = err
		if errors.Is(err, measure.ErrInterrupted) {
			out.Code = gate.ExitInconclusive
		}
		return out
	}
	base, baseRun, err := p.baseline(cand.Meta)
	if err != nil {
		out.Err = err
		return out
	}
	rep, err := p.compare(name, base, cand)
	if err != nil {
		out.Err = err
		return out
	}
	if p.Profile == "nightly" && rep.Verdict == gate.VerdictRegression {
		if rep, err = p.confirm(ctx, name, base, rep, &out); err != nil {
			out.Err = err
			return out
		}
	}
	out.Report, out.Code = rep, rep.ExitCode
	p.keep(dir, cand.Meta, base != nil, baseRun, &out)
	return out
}

// RunAll runs the pipeline for each named suite in order, calling done with each outcome, and
// returns the outcomes and the worst exit code. An interrupted suite ends the job: the suites
// after it are not started.
func (p *Pipeline) RunAll(ctx context.Context, names []string, done func(Outcome)) ([]Outcome, int) {
	var outcomes []Outcome
	worst := gate.ExitPass
	for _, name := range names {
		o := p.Run(ctx, name)
		if done != nil {
			done(o)
		}
		outcomes = append(outcomes, o)
		worst = gate.WorseExit(worst, o.Code)
		if errors.Is(o.Err, measure.ErrInterrupted) {
			break
		}
	}
	return outcomes, worst
}

// Prune keeps the work folder bounded: the folders this pipeline used, and the newest keep
// others (config.DefaultKeep when keep is nil).
func (p *Pipeline) Prune(keep *int) (removed []string, kept int, err error) {
	kept = config.DefaultKeep
	if keep != nil {
		kept = *keep
	}
	removed, err = PruneWork(p.Work, kept, p.used)
	return removed, kept, err
}

// confirm measures a nightly regression again before it fails the night: a one-off (a cron job,
// a thermal event the telemetry missed) should not page anyone.
func (p *Pipeline) confirm(ctx context.Context, name string, base *gate.Run, rep *gate.Report, out *Outcome) (*gate.Report, error) {
	for i := 1; i <= p.Confirm; i++ {
		again, err := p.measure(ctx, name, RunDir(p.Work, name, p.Profile, p.Git.Commit, i))
		if err != nil {
			return nil, fmt.Errorf("confirmation run %d: %w", i, err)
		}
		crep, err := p.compare(name, base, again)
		if err != nil {
			return nil, err
		}
		if crep.Verdict != gate.VerdictRegression {
			out.Notes = append(out.Notes, fmt.Sprintf("the regression was not confirmed: confirmation run %d says %s (%s)", i, crep.Verdict, crep.Headline))
			crep.Unconfirmed(rep, i)
			return crep, nil
		}
		out.Notes = append(out.Notes, fmt.Sprintf("confirmation run %d regressed too: %s", i, crep.Headline))
	}
	return rep, nil
}

// keep stores what the store needs: every nightly (its history) and every run that may become
// the baseline; pull-request runs stay in the work folder (and the job's artifacts).
func (p *Pipeline) keep(dir string, m *result.Meta, hasBase bool, baseRun string, out *Outcome) {
	rep := out.Report
	verdict := string(rep.Verdict)
	if !hasBase {
		verdict = ""
	}
	promotable, _ := baseline.CheckPolicy(m, hasBase, baseline.Promotion{Verdict: verdict, DefaultBranch: p.DefaultBranch})
	if p.Profile != "nightly" && promotable == "" {
		if !hasBase {
			out.Notes = append(out.Notes, "no baseline for this suite and environment; this run is not from the default branch, so it does not become one")
		}
		return
	}
	fail := func(what string, err error) {
		out.Err = errors.Join(out.Err, fmt.Errorf("%s: %w", what, err))
		out.Code = gate.WorseExit(out.Code, gate.ExitError)
	}
	info, err := p.Store.Add(dir)
	if err != nil {
		fail("store", err)
		return
	}
	if p.Profile == "nightly" {
		// The first night of an environment is compared with nothing: it is the baseline to be,
		// not an incomparable night.
		night := string(rep.Verdict)
		if !hasBase && promotable != "" {
			night = "bootstrap"
		}
		entry := baseline.NightlyEntry(m, info.ID, baseRun, night, p.now())
		entry.Gated = rep.GatedQuantiles()
		if err := p.recordNight(dir, entry, out); err != nil {
			fail("history", err)
		}
	}
	if promotable == "" {
		return
	}
	h, err := p.Store.Promote(baseline.Promotion{Suite: m.Suite, Key: info.Key, Run: info.ID, Verdict: verdict,
		DefaultBranch: p.DefaultBranch, By: "tailgate ci", Time: p.now()})
	switch {
	case errors.Is(err, baseline.ErrPolicy):
		out.Notes = append(out.Notes, err.Error())
	case err != nil:
		fail("promote", err)
	default:
		out.Notes = append(out.Notes, fmt.Sprintf("run %s is now the baseline (%s)", info.ID, h.Rule))
		if !hasBase {
			rep.Bootstrapped()
			if out.Err == nil {
				out.Code = rep.ExitCode
			}
		}
	}
}

// recordNight appends the night e to the history, once: not when the history holds its run
// already, nor when an earlier attempt of this workflow run recorded the night; the run folder's
// checkpoint remembers the night it recorded, for a re-run of this job.
func (p *Pipeline) recordNight(dir string, e baseline.HistoryEntry, out *Outcome) error {
	id := e.Run
	if p.inHistory(e.Suite, e.Key, id) {
		out.Notes = append(out.Notes, fmt.Sprintf("run %s is in the history already; not recorded twice", id))
		return nil
	}
	if night := p.recorded[e.Suite]; night != "" {
		out.Notes = append(out.Notes, fmt.Sprintf("this night was recorded by an earlier attempt of this workflow run (run %s); run %s is kept in the store but not recorded as a second night", night, id))
		return nil
	}
	if err := p.Store.Append(e); err != nil {
		return err
	}
	if st, err := ReadState(dir); err == nil {
		st.Night = id
		if err := WriteState(dir, st); err != nil {
			p.logf(e.Suite, "%s: %v (a re-run of this job would record the night again)", dir, err)
		}
	}
	return nil
}

// inHistory reports whether the history of suite and key holds run id already.
func (p *Pipeline) inHistory(suite, key, id string) bool {
	h, err := p.Store.History(suite, key)
	if err != nil {
		return false
	}
	for _, e := range h.Nightly() {
		if e.Run == id {
			return true
		}
	}
	return false
}

// baseline streams the stored baseline of the candidate's suite and environment into a gate.Run
// (pooled per ci.baseline_runs), its log verified against the store's manifest as it is read;
// none is not an error (the comparison says incomparable, and a default-branch run bootstraps
// it).
func (p *Pipeline) baseline(m *result.Meta) (*gate.Run, string, error) {
	r, err := p.Store.OpenBaseline(m.Suite, m.Env.Key())
	if errors.Is(err, baseline.ErrNoBaseline) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	run, err := gate.LoadStored(r)
	if err != nil {
		return nil, "", fmt.Errorf("baseline: %w", err)
	}
	if n := p.Config.CI.BaselineRuns; n > 1 {
		if err := p.pool(run, r.ID, n); err != nil {
			return nil, "", fmt.Errorf("pooled baseline: %w", err)
		}
	}
	return run, r.ID, nil
}

// pool appends to the baseline run base (stored as id) the newest nights of its suite and
// environment before it that passed or bootstrapped, up to n runs in all, streamed one after
// another into base, whose meta then counts them all. Runs the store no longer holds (pruned)
// and unhealthy ones are skipped; a pooled run that fails its integrity check fails the
// comparison (part of it may be in base already).
func (p *Pipeline) pool(base *gate.Run, id string, n int) error {
	m := base.Meta
	h, err := p.Store.History(m.Suite, m.Env.Key())
	if err != nil {
		return nil
	}
	meta := *m
	base.Meta = &meta
	runs := []string{id}
	nights := h.Nightly()
	for i := len(nights) - 1; i >= 0 && len(runs) < n; i-- {
		e := nights[i]
		if e.Run == "" || slices.Contains(runs, e.Run) || (e.Verdict != string(gate.VerdictPass) && e.Verdict != "bootstrap") {
			continue
		}
		r, err := p.Store.OpenRun(m.Suite, e.Key, e.Run)
		if errors.Is(err, baseline.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if r.Meta.Health.Healthy {
			err = r.Scan(func(log io.Reader) error { return base.AddLog(r.Dir, r.Meta, log) })
			meta.Counts.Samples += r.Meta.Counts.Samples
			meta.Counts.Intervals += r.Meta.Counts.Intervals
			runs = append(runs, e.Run)
		}
		r.Close()
		if err != nil {
			return err
		}
	}
	if len(runs) > 1 {
		p.logf(m.Suite, "baseline pooled from %d runs: %s", len(runs), strings.Join(runs, ", "))
	}
	return nil
}

func (p *Pipeline) compare(name string, base, cand *gate.Run) (*gate.Report, error) {
	s, err := p.Config.Suite(name)
	if err != nil {
		return nil, err
	}
	srcs, isDefault := s.Rules(p.Config.Path)
	rules, err := gate.ParseRules(srcs)
	if err != nil {
		return nil, err
	}
	o := p.Gate
	o.DefaultRules = isDefault
	if base != nil && o.BetweenRun == nil {
		// Two separate runs differ by what no within-run interval sees; the nightly history
		// of this suite and environment says by how much.
		if o.BetweenRun, err = BetweenRun(p.Store, cand.Meta.Suite, cand.Meta.Env.Key()); err != nil {
			p.logf(name, "no between-run variance from the history: %v", err)
		}
	}
	return gate.Compare(base, cand, rules, o)
}

// measure measures suite name into dir, resuming a killed run of the same commit, profile and
// configuration, or reuses a finished one, and streams the result into a gate.Run.
func (p *Pipeline) measure(ctx context.Context, name, dir string) (*gate.Run, error) {
	var rec *Recovered
	state, err := ReadState(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			return nil, fmt.Errorf("%s exists without %s: not a tailgate ci run folder; move it away", dir, StateFile)
		}
	case err != nil:
		return nil, err
	default:
		if why := state.Matches(name, p.Profile, p.Git.Commit, p.Config.Digest); why != "" {
			old, err := p.moveAside(dir, "stale")
			if err != nil {
				return nil, err
			}
			p.logf(name, "%s: %s; moved to %s, starting over", dir, why, old)
			state = nil
		} else if state.State == StateMeasured && p.Job != "" && state.Job == p.Job {
			p.logf(name, "%s: already measured by this job; reusing it", dir)
			p.used = append(p.used, dir)
			return gate.LoadRun(dir)
		} else if state.State == StateMeasured {
			// A later job must not compare the same measurement again (a nightly on an
			// unchanged commit would compare the baseline with itself and pass).
			if state.Night != "" && SameWorkflowRun(state.Job, p.Job) {
				if p.recorded == nil {
					p.recorded = map[string]string{}
				}
				p.recorded[name] = state.Night
			}
			old, err := p.moveAside(dir, "done")
			if err != nil {
				return nil, err
			}
			p.logf(name, "%s: measured by an earlier job; moved to %s, measuring again", dir, old)
			state = nil
		} else {
			if rec, err = Recover(dir); err != nil {
				return nil, fmt.Errorf("%s: cannot resume: %w", dir, err)
			}
			state.Resumes++
			p.logf(name, "%s: resuming after %d intervals (%s measured)%s", dir, rec.Intervals,
				rec.Elapsed.Round(time.Millisecond), cutNote(rec.Cut))
		}
	}
	if state == nil {
		state = &State{Suite: name, Profile: p.Profile, Commit: p.Git.Commit, ConfigDigest: p.Config.Digest, State: StateRunning}
	}
	state.Job = p.Job
	if state.Duration == 0 {
		if s, err := p.Config.Suite(name); err == nil {
			state.Duration = s.Duration.For(p.Profile)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p.used = append(p.used, dir)
	if err := WriteState(dir, state); err != nil {
		return nil, err
	}
	var resume *measure.Resume
	if rec != nil {
		resume = &rec.Resume
	}
	m, err := p.Measurer.Measure(ctx, name, dir, resume)
	if err != nil {
		return nil, err
	}
	state.State = StateMeasured
	if err := WriteState(dir, state); err != nil {
		return nil, err
	}
	r, err := gate.LoadRun(dir)
	if err != nil {
		return nil, err
	}
	s := m.Summary
	p.logf(name, "%d samples in %d intervals  p50 %s  p99 %s  max %s  → %s", s.Count,
		m.Counts.Intervals, progress.Ns(s.P50), progress.Ns(s.P99), progress.Ns(s.Max), dir)
	return r, nil
}

// moveAside renames dir to dir.WHY-TIME (with a counter when two jobs move the same folder
// within a second) and returns the new name.
func (p *Pipeline) moveAside(dir, why string) (string, error) {
	base := dir + "." + why + "-" + p.now().UTC().Format("20060102T150405")
	for i := 1; ; i++ {
		old := base
		if i > 1 {
			old = fmt.Sprintf("%s-%d", base, i)
		}
		if _, err := os.Lstat(old); err == nil {
			continue
		}
		if err := os.Rename(dir, old); err != nil {
			return "", err
		}
		return old, nil
	}
}

func cutNote(cut []string) string {
	if len(cut) == 0 {
		return ""
	}
	return "; cut " + strings.Join(cut, "; ")
}

// SuiteMeasurer measures a configuration's suites with measure.Measure, from plans resolved and
// validated once, before anything runs.
type SuiteMeasurer struct {
	plans   map[string]*measure.Plan
	options measure.Options
}

// NewSuiteMeasurer resolves the plan of every named suite of cfg, returning every problem of
// every suite at once. req gives what the suites share (the profile, the host's online CPUs);
// its suite, digest and result folder are each suite's.
func NewSuiteMeasurer(cfg *config.Config, names []string, req measure.Request, o measure.Options) (*SuiteMeasurer, error) {
	m := &SuiteMeasurer{plans: map[string]*measure.Plan{}, options: o}
	var errs []error
	for _, n := range names {
		s, err := cfg.Suite(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Out is set per run folder; a placeholder keeps Resolve from naming a default one.
		req.Suite, req.ConfigDigest, req.Out = s, cfg.Digest, "-"
		p, err := measure.Resolve(req)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: suites.%s: %w", cfg.Path, n, err))
			continue
		}
		m.plans[n] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Measure implements Measurer.
func (m *SuiteMeasurer) Measure(ctx context.Context, suite, dir string, resume *measure.Resume) (*result.Meta, error) {
	p, ok := m.plans[suite]
	if !ok {
		return nil, fmt.Errorf("suite %s was not planned", suite)
	}
	plan := *p
	plan.Out = dir
	o := m.options
	o.Resume = resume
	return measure.Measure(ctx, &plan, o)
}
