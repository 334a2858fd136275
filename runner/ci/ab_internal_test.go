package ci

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// abFake stands in for the board: MeasureAB records arm A and writes a seeded A/B result;
// a single-run measurement is not expected.
type abFake struct {
	t    *testing.T
	base *measure.Arm
}

func (f *abFake) Measure(context.Context, string, string, *measure.Resume) (*result.Meta, error) {
	return nil, errors.New("measured as a single run")
}

func (f *abFake) MeasureAB(_ context.Context, _, dir string, base measure.Arm) (*result.Meta, error) {
	f.base = &base
	r := gatetest.WriteAB(f.t, dir, gatetest.ABSpec{Rounds: 10, PerRound: 500, A: gatetest.Lognormal(1e6, 0.05),
		B: gatetest.Lognormal(1e6, 0.05), Seed: 1})
	return r.Meta, nil
}

// abRepo commits a configuration and a model (the merge base), then applies edit as the pull
// request's commit with prThreads; it returns the repository, the merge base and the pull request's config.
func abRepo(t *testing.T, compare, prThreads string, edit func(dir string)) (string, string, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	yaml := func(threads string) string {
		return "version: 1\nsuites:\n  vision:\n    model: " + filepath.Join(dir, "m.onnx") + "\n    threads: " + threads + "\n    compare: " + compare + "\n    thresholds: [\"p50 < +5%\"]\n"
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("m.onnx", "model v1")
	write("tailgate.yaml", yaml("1"))
	git("add", ".")
	git("commit", "-qm", "base")
	base := git("rev-parse", "HEAD")
	edit(dir)
	write("tailgate.yaml", yaml(prThreads))
	git("add", ".")
	git("commit", "-qm", "pr", "--allow-empty")
	cfg, err := config.Load(filepath.Join(dir, "tailgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, base, cfg
}

// TestPRABDecision: a pull request that changes a suite's model (or its threads) is measured
// interleaved with the merge base's model, fetched by git show; compare: ab always is, compare:
// baseline never, and an unchanged suite under auto is compared with its baseline.
func TestPRABDecision(t *testing.T) {
	newModel := func(dir string) { _ = os.WriteFile(filepath.Join(dir, "m.onnx"), []byte("model v2"), 0o644) }
	same := func(string) {}
	cases := []struct {
		name, compare string
		edit          func(string)
		why           string // "" when compared with the stored baseline
		threadsA      int
	}{
		{"model changed", "auto", newModel, "changed the model", 1},
		{"unchanged", "auto", same, "", 0},
		{"unchanged, compare ab", "ab", same, "compare: ab", 1},
		{"changed, compare baseline", "baseline", newModel, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo, base, cfg := abRepo(t, c.compare, "1", c.edit)
			p := &Pipeline{Config: cfg, Profile: "pr", Work: t.TempDir(), Measurer: &abFake{t: t}, MergeBase: base, Repo: repo}
			ab, err := p.abDecision(context.Background(), "vision")
			if err != nil {
				t.Fatal(err)
			}
			if c.why == "" {
				if ab != nil {
					t.Fatalf("A/B (%s), want the stored baseline", ab.why)
				}
				return
			}
			if ab == nil || !strings.Contains(ab.why, c.why) || ab.arm.Threads != c.threadsA {
				t.Fatalf("decision %+v, want A/B because %q", ab, c.why)
			}
			if b, err := os.ReadFile(ab.arm.Model); err != nil || string(b) != "model v1" {
				t.Fatalf("arm A's model %s holds %q (%v), want the merge base's", ab.arm.Model, b, err)
			}
		})
	}
	t.Run("threads changed", func(t *testing.T) {
		repo, base, cfg := abRepo(t, "auto", "2", same)
		p := &Pipeline{Config: cfg, Profile: "pr", Work: t.TempDir(), Measurer: &abFake{t: t}, MergeBase: base, Repo: repo}
		ab, err := p.abDecision(context.Background(), "vision")
		if err != nil || ab == nil || !strings.Contains(ab.why, "threads 1 → 2") || ab.arm.Threads != 1 {
			t.Fatalf("decision %+v, %v: want A/B with arm A at the merge base's 1 thread", ab, err)
		}
	})
	t.Run("bad merge base", func(t *testing.T) {
		repo, _, cfg := abRepo(t, "auto", "1", newModel)
		p := &Pipeline{Config: cfg, Profile: "pr", Work: t.TempDir(), Measurer: &abFake{t: t}, MergeBase: "0000000000000000000000000000000000000000", Repo: repo}
		if _, err := p.abDecision(context.Background(), "vision"); err == nil || !strings.Contains(err.Error(), "not a commit") {
			t.Fatalf("err = %v, want the merge base refused", err)
		}
	})
}

// TestPRABRun: the pipeline gates an interleaved run's arms and says so in the outcome.
func TestPRABRun(t *testing.T) {
	repo, base, cfg := abRepo(t, "auto", "1", func(dir string) { _ = os.WriteFile(filepath.Join(dir, "m.onnx"), []byte("model v2"), 0o644) })
	fake := &abFake{t: t}
	p := &Pipeline{Config: cfg, Profile: "pr", Work: t.TempDir(), Measurer: fake, MergeBase: base, Repo: repo, Git: result.Git{Commit: "abc"}}
	out := p.Run(context.Background(), "vision")
	if out.Err != nil || out.Report == nil || out.Report.Design != "interleaved, 10 rounds" || fake.base == nil {
		t.Fatalf("outcome %+v (err %v), want the arms gated interleaved", out, out.Err)
	}
	if len(out.Notes) == 0 || !strings.Contains(out.Notes[0], "interleaved A/B with the merge base") {
		t.Errorf("notes %q do not say the suite was interleaved", out.Notes)
	}
}
