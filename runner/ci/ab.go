package ci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// ABMeasurer measures an interleaved A/B run of a suite into dir: arm B is the suite as
// configured, arm A is base (the merge base's model and session settings). A SuiteMeasurer is
// one; a pipeline whose Measurer is not never runs A/B.
type ABMeasurer interface {
	MeasureAB(ctx context.Context, suite, dir string, base measure.Arm) (*result.Meta, error)
}

// abBase is arm A of a pull request's A/B run and why the run is interleaved.
type abBase struct {
	arm measure.Arm
	why string
}

// abDecision decides whether suite name of a pull request is measured interleaved with the merge
// base (Pipeline.MergeBase): always with compare: ab, never with compare: baseline, and by
// default (auto) when the pull request changed the suite's model file or its session settings
// (threads, spinning). Arm A's model is fetched with `git show MERGE_BASE:path` into the work
// folder; nothing is checked out. It returns nil when the suite is compared with its baseline.
func (p *Pipeline) abDecision(ctx context.Context, name string) (*abBase, error) {
	if p.Profile != "pr" || p.MergeBase == "" {
		return nil, nil
	}
	if _, ok := p.Measurer.(ABMeasurer); !ok {
		return nil, nil
	}
	s, err := p.Config.Suite(name)
	if err != nil {
		return nil, err
	}
	mode := s.Compare
	if mode == "" {
		mode = config.CompareAuto
	}
	if mode == config.CompareBaseline || s.Backend == "synthetic" {
		return nil, nil
	}
	if _, err := p.git(ctx, "rev-parse", "--verify", "--quiet", p.MergeBase+"^{commit}"); err != nil {
		return nil, fmt.Errorf("merge base %q is not a commit of the repository: %w", p.MergeBase, err)
	}
	model, err := p.gitPath(ctx, s.Model)
	if err != nil {
		return nil, err
	}
	blob, err := p.git(ctx, "rev-parse", "--verify", "--quiet", p.MergeBase+":"+model)
	if err != nil {
		if mode == config.CompareAB {
			return nil, fmt.Errorf("compare: ab: %s has no %s at the merge base %s", p.Config.Path, s.Model, p.MergeBase)
		}
		p.logf(name, "%s is new since the merge base %s: compared with the stored baseline", s.Model, short(p.MergeBase))
		return nil, nil
	}
	head, err := p.git(ctx, "hash-object", "--", s.Model)
	if err != nil {
		return nil, err
	}
	threads, spinning := s.Threads, s.Spinning
	var changed []string
	if blob != head {
		changed = append(changed, "the model "+s.Model)
	}
	if bs, ok := p.baseSuite(ctx, name); ok {
		threads, spinning = bs.Threads, bs.Spinning
		if threads != s.Threads {
			changed = append(changed, fmt.Sprintf("threads %d → %d", bs.Threads, s.Threads))
		}
		if (spinning == nil) != (s.Spinning == nil) || (spinning != nil && *spinning != *s.Spinning) {
			changed = append(changed, "spinning")
		}
	}
	if len(changed) == 0 && mode == config.CompareAuto {
		return nil, nil
	}
	why := "compare: ab"
	if len(changed) > 0 {
		why = "the pull request changed " + strings.Join(changed, ", ")
	}
	dir := filepath.Join(p.Work, "merge-base-"+short(p.MergeBase))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s", sanitize(name), filepath.Base(s.Model)))
	if err := p.gitShow(ctx, p.MergeBase+":"+model, path); err != nil {
		return nil, err
	}
	if threads == 0 {
		threads = s.Threads
	}
	return &abBase{arm: measure.Arm{Model: path, Threads: threads}, why: why}, nil
}

// runAB measures suite name interleaved with base and gates arm B against arm A. The A/B result
// is not stored: the store's runs are single runs of the branch.
func (p *Pipeline) runAB(ctx context.Context, name string, base *abBase) Outcome {
	out := Outcome{Suite: name, Code: gate.ExitError}
	p.logf(name, "interleaved A/B with the merge base %s: %s", short(p.MergeBase), base.why)
	dir := RunDir(p.Work, name, "pr-ab", p.Git.Commit, 0)
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		old, err := p.moveAside(dir, "done")
		if err != nil {
			out.Err = err
			return out
		}
		p.logf(name, "%s: moved to %s, measuring again", dir, old)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		out.Err = err
		return out
	}
	p.used = append(p.used, dir)
	if _, err := p.Measurer.(ABMeasurer).MeasureAB(ctx, name, dir, base.arm); err != nil {
		out.Err = err
		if errors.Is(err, measure.ErrInterrupted) {
			out.Code = gate.ExitInconclusive
		}
		return out
	}
	a, b, err := gate.LoadAB(dir)
	if err != nil {
		out.Err = err
		return out
	}
	s, err := p.Config.Suite(name)
	if err != nil {
		out.Err = err
		return out
	}
	srcs, isDefault := s.Rules(p.Config.Path)
	rules, err := gate.ParseRules(srcs)
	if err != nil {
		out.Err = err
		return out
	}
	o := p.Gate
	o.DefaultRules = isDefault
	rep, err := gate.CompareAB(a, b, rules, o)
	if err != nil {
		out.Err = err
		return out
	}
	out.Report, out.Code = rep, rep.ExitCode
	out.Notes = append(out.Notes, fmt.Sprintf("interleaved A/B with the merge base %s (%s); result in %s", short(p.MergeBase), base.why, dir))
	return out
}

// baseSuite is suite name as the merge base's configuration has it, when it has one that parses.
func (p *Pipeline) baseSuite(ctx context.Context, name string) (*config.Suite, bool) {
	cfgPath, err := p.gitPath(ctx, p.Config.Path)
	if err != nil {
		return nil, false
	}
	cmd := baseline.GitCommand(ctx, p.Repo, nil, "show", p.MergeBase+":"+cfgPath)
	b, err := cmd.Output()
	if err != nil {
		return nil, false
	}
	cfg, err := config.Parse(p.MergeBase+":"+cfgPath, b)
	if err != nil {
		return nil, false
	}
	s, err := cfg.Suite(name)
	return s, err == nil
}

// gitPath is path as `git show REV:PATH` takes it: relative to the repository's top.
func (p *Pipeline) gitPath(ctx context.Context, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	top, err := p.git(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	if top, err = filepath.EvalSymlinks(top); err != nil {
		return "", err
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(d, filepath.Base(abs))
	}
	rel, err := filepath.Rel(top, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s is outside the repository %s: no merge-base version of it", path, top)
	}
	return filepath.ToSlash(rel), nil
}

// git runs the hardened git in the repository and returns its trimmed output.
func (p *Pipeline) git(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := baseline.GitCommand(ctx, p.Repo, nil, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// gitShow writes the object at rev:path to dst, atomically.
func (p *Pipeline) gitShow(ctx context.Context, object, dst string) error {
	f, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	var stderr bytes.Buffer
	cmd := baseline.GitCommand(ctx, p.Repo, nil, "show", object)
	cmd.Stdout, cmd.Stderr = f, &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("git show %s: %w: %s", object, err, strings.TrimSpace(stderr.String()))
	}
	return os.Rename(f.Name(), dst)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func sanitize(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// MeasureAB implements ABMeasurer: the suite's plan is arm B; arm A takes base's model and
// threads with the plan's inputs, and both arms run the plan's duration each, in automatic
// rounds (harness.AutoSchedule).
func (m *SuiteMeasurer) MeasureAB(ctx context.Context, suite, dir string, base measure.Arm) (*result.Meta, error) {
	p, ok := m.plans[suite]
	if !ok {
		return nil, fmt.Errorf("suite %s was not planned", suite)
	}
	in := *p
	in.Out = dir
	plan, err := measure.ABPlanFrom(&in, base, 0)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", suite, err)
	}
	// The round order is seeded by the run folder, which names the suite and the commit: every
	// commit of a pull request gets its own order, and a re-run of the job the same one.
	h := fnv.New64a()
	h.Write([]byte(filepath.Base(dir)))
	plan.OrderSeed = int64(h.Sum64() >> 1)
	return measure.MeasureAB(ctx, plan, m.options)
}
