package baseline

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// twoRuns stores two runs of suite v, the first promoted, and returns the store and the runs.
func twoRuns(t *testing.T) (Store, RunInfo, RunInfo) {
	t.Helper()
	st := mustOpen(t, t.TempDir())
	a := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	b := mustAdd(t, st, mkResult(t, "v", 2, 1e6, nil))
	if _, err := st.Promote(Promotion{Suite: "v", Key: a.Key, Run: a.ID}); err != nil {
		t.Fatal(err)
	}
	return st, a, b
}

func TestResolveKeyAndLatestRun(t *testing.T) {
	st, a, b := twoRuns(t)
	other := piEnv()
	other.Board = "Jetson Orin Nano"
	mustAdd(t, st, mkResult(t, "multi", 3, 1e6, nil))
	mustAdd(t, st, mkResult(t, "multi", 4, 1e6, func(s *resulttest.Synthetic) { s.Env = other }))
	for _, tc := range []struct {
		name, suite, key, want string
		err                    string
		is                     error
	}{
		{name: "the only key", suite: "v", want: a.Key},
		{name: "given key", suite: "v", key: "abc", want: "abc"},
		{name: "invalid key", suite: "v", key: "../x", err: "invalid key"},
		{name: "unknown suite", suite: "nosuch", err: "no runs of suite nosuch", is: ErrNotFound},
		{name: "several keys", suite: "multi", err: "pick one with --key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveKey(st, tc.suite, tc.key)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if tc.is != nil {
				wantIs(t, err, tc.is)
			}
		})
	}
	t.Run("latest", func(t *testing.T) {
		if id, err := LatestRun(st, "v", a.Key); err != nil || id != b.ID {
			t.Fatalf("LatestRun = %q, %v; want %q", id, err, b.ID)
		}
		if _, err := LatestRun(st, "v", "0000000000000000"); err == nil {
			t.Fatal("a key without runs has a latest run")
		}
	})
}

func TestOpenRunRef(t *testing.T) {
	st, a, b := twoRuns(t)
	for _, tc := range []struct{ name, id, want string }{
		{"baseline", "", a.ID},
		{"latest", "latest", b.ID},
		{"named", a.ID, a.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, ptr, err := OpenRunRef(st, "v", a.Key, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := filepath.Base(r.Dir); got != tc.want || ptr == nil || ptr.Run != a.ID {
				t.Fatalf("run %s, pointer %+v; want run %s, pointer to %s", got, ptr, tc.want, a.ID)
			}
		})
	}
	t.Run("no baseline", func(t *testing.T) {
		st := mustOpen(t, t.TempDir())
		ri := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
		_, _, err := OpenRunRef(st, "v", ri.Key, "")
		wantIs(t, err, ErrNoBaseline)
		r, ptr, err := OpenRunRef(st, "v", ri.Key, "latest")
		if err != nil || ptr != nil || filepath.Base(r.Dir) != ri.ID {
			t.Fatalf("latest without a baseline: %v, %v, %v", r, ptr, err)
		}
		r.Close()
	})
}

func TestOpenBaselineFor(t *testing.T) {
	st, a, _ := twoRuns(t)
	other := piEnv()
	other.ORTVersion = "1.29.0"
	for _, tc := range []struct {
		name, suite string
		env         result.Fingerprint
		nearest     bool
		contains    []string
	}{
		{name: "same environment", suite: "v", env: piEnv()},
		{name: "other environment", suite: "v", env: other, nearest: true,
			contains: []string{"on this environment (key " + other.Key() + ")", "nearest baseline is v/" + a.Key, `ort_version (this run "1.29.0", baseline "1.30.0")`}},
		{name: "no baseline anywhere", suite: "nosuch", env: piEnv(),
			contains: []string{"no baseline for suite nosuch on any environment", "tailgate baseline promote"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := OpenBaselineFor(st, tc.suite, tc.env)
			if tc.contains == nil {
				if err != nil || filepath.Base(r.Dir) != a.ID {
					t.Fatalf("got %v, %v; want run %s", r, err, a.ID)
				}
				r.Close()
				return
			}
			wantIs(t, err, ErrNoBaseline)
			var nb *NoBaselineError
			if !errors.As(err, &nb) || (nb.Nearest != nil) != tc.nearest {
				t.Fatalf("error %#v, want a *NoBaselineError with nearest %v", err, tc.nearest)
			}
			for _, c := range tc.contains {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("%q lacks %q", err, c)
				}
			}
		})
	}
}

func TestCheckVerdict(t *testing.T) {
	for _, v := range append([]string{""}, Verdicts...) {
		if err := CheckVerdict(v); err != nil {
			t.Errorf("CheckVerdict(%q) = %v", v, err)
		}
	}
	if err := CheckVerdict("ok"); err == nil || !strings.Contains(err.Error(), `verdict "ok": want one of pass, fail`) {
		t.Errorf("CheckVerdict(ok) = %v", err)
	}
}

func TestRecordNight(t *testing.T) {
	st, a, b := twoRuns(t)
	if err := RecordNight(st, b, "pass"); err != nil {
		t.Fatal(err)
	}
	h, err := st.History("v", b.Key)
	if err != nil {
		t.Fatal(err)
	}
	n := h.Nightly()
	if len(n) != 1 || n[0].Run != b.ID || n[0].Baseline != a.ID || n[0].Verdict != "pass" {
		t.Fatalf("nights %+v, want one of run %s against %s, pass", n, b.ID, a.ID)
	}
}

func TestPromoteDirAndRun(t *testing.T) {
	st := mustOpen(t, t.TempDir())
	first, err := PromoteDir(st, mkResult(t, "v", 1, 1e6, nil), Promotion{By: "test"})
	if err != nil || first.Rule != RuleBootstrap {
		t.Fatalf("PromoteDir: %+v, %v", first, err)
	}
	second := mustAdd(t, st, mkResult(t, "v", 2, 1e6, nil))
	for _, tc := range []struct {
		name string
		p    Promotion
		err  string
	}{
		{name: "unknown suite", p: Promotion{Suite: "nosuch", Run: "latest"}, err: "no runs of suite nosuch"},
		{name: "unknown run", p: Promotion{Suite: "v", Run: "nosuch", Verdict: "pass"}, err: "nosuch"},
		{name: "latest on the only key", p: Promotion{Suite: "v", Run: "latest", Verdict: "pass"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := PromoteRun(st, tc.p)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || h.Run != second.ID || h.Baseline != first.Run {
				t.Fatalf("PromoteRun: %+v, %v; want run %s replacing %s", h, err, second.ID, first.Run)
			}
		})
	}
}

func TestPruneSuites(t *testing.T) {
	st, a, _ := twoRuns(t)
	c := mustAdd(t, st, mkResult(t, "v", 3, 1e6, nil))
	w := mustAdd(t, st, mkResult(t, "w", 4, 1e6, nil))
	mustAdd(t, st, mkResult(t, "w", 5, 1e6, nil))
	removed, err := PruneSuites(st, []string{"v", "w"}, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := st.Runs("v", a.Key)
	var kept []string
	for _, r := range runs {
		kept = append(kept, r.ID)
	}
	if want := []string{a.ID, c.ID}; !reflect.DeepEqual(kept, want) {
		t.Errorf("suite v kept %v, want the baseline and the newest %v", kept, want)
	}
	var got []string
	for _, r := range removed {
		got = append(got, r.String())
	}
	if len(got) != 2 || got[1] != "w/"+w.Key+"/"+w.ID {
		t.Errorf("removed %v, want one run of v, then w/%s/%s", got, w.Key, w.ID)
	}
	if _, err := PruneSuites(st, []string{"v"}, "../x", 1); err == nil {
		t.Error("an invalid key was pruned")
	}
}
