package baseline

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    Spec
		wantErr string
	}{
		{"", Spec{Kind: KindFS, Path: ".tailgate"}, ""},
		{"/var/lib/tailgate", Spec{Kind: KindFS, Path: "/var/lib/tailgate"}, ""},
		{"fs:rel/dir", Spec{Kind: KindFS, Path: "rel/dir"}, ""},
		{"git:.#tailgate-data", Spec{Kind: KindGit, Repo: ".", Branch: "tailgate-data"}, ""},
		{"git:https://github.com/acme/vision.git#perf/data", Spec{Kind: KindGit, Repo: "https://github.com/acme/vision.git", Branch: "perf/data"}, ""},
		{"git:git@github.com:acme/vision.git", Spec{Kind: KindGit, Repo: "git@github.com:acme/vision.git", Branch: DefaultDataBranch}, ""},
		{"git:#main", Spec{}, "repo is empty"},
		{"git:/srv/x.git#", Spec{}, "not a valid branch"},
		{"git:/srv/x.git#a..b", Spec{}, "not a valid branch"},
		{"git:--upload-pack=evil#b", Spec{}, "must not start with '-'"},
		{"git:/srv/x.git#-f", Spec{}, "not a valid branch"},
		{"fs:", Spec{}, "path is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseSpec(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
	t.Run("config form collects every error", func(t *testing.T) {
		err := Spec{Kind: KindGit, Path: "x", Branch: "a b"}.Validate()
		for _, want := range []string{"repo is empty", "not a valid branch", "path is for kind fs"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v lacks %q", err, want)
			}
		}
	})
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"vision-int8", true}, {"a", true}, {"V1.2_x", true}, {strings.Repeat("a", 64), true},
		{"", false}, {".", false}, {"..", false}, {"a..b", false}, {".hidden", false}, {"-x", false},
		{"a/b", false}, {`a\b`, false}, {"../etc", false}, {strings.Repeat("a", 65), false},
		{"a b", false}, {"a\x00b", false}, {"é", false}, {"a\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateName("suite", tc.name); (err == nil) != tc.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"vision", "..", "a/b", ".x", "a..b", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateName("suite", s) != nil {
			return
		}
		// A valid name must be one plain path component that stays inside its parent.
		root := "/store/suites"
		p := filepath.Join(root, s)
		if filepath.Dir(p) != root || filepath.Base(p) != s || strings.HasPrefix(s, ".") {
			t.Fatalf("valid name %q escapes or hides: %s", s, p)
		}
	})
}

func TestAddPromoteBaselineHistory(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), ".tailgate"))
	a := mustAdd(t, st, mkResult(t, "vision-int8", 1, 1e6, nil))
	b := mustAdd(t, st, mkResult(t, "vision-int8", 2, 1.01e6, nil))
	if a.Key != piEnv().Key() || a.Suite != "vision-int8" {
		t.Fatalf("run %+v stored under the wrong suite or key", a)
	}
	again := mustAdd(t, st, mkResult(t, "vision-int8", 1, 1e6, nil))
	if again.ID != a.ID {
		t.Fatalf("adding the same result twice gave ids %s and %s", a.ID, again.ID)
	}
	if _, err := readBaseline(st, "vision-int8", a.Key); !errors.Is(err, ErrNoBaseline) {
		t.Fatalf("baseline before any promotion: %v", err)
	}
	e, err := st.Promote(Promotion{Suite: a.Suite, Key: a.Key, Run: a.ID, By: "test", Time: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if e.Rule != RuleBootstrap || e.Kind != KindPromotion || e.Baseline != "" {
		t.Fatalf("first promotion recorded as %+v", e)
	}
	if _, err := st.Promote(Promotion{Suite: b.Suite, Key: b.Key, Run: b.ID, Verdict: "pass", By: "ci"}); err != nil {
		t.Fatal(err)
	}
	r, err := readBaseline(st, a.Suite, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Base(r.Dir); got != b.ID {
		t.Fatalf("baseline is %s, want %s", got, b.ID)
	}
	runs, err := st.Runs(a.Suite, a.Key)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	if runs[0].ID != a.ID || runs[0].Baseline || !runs[0].EverBaseline || !runs[1].Baseline {
		t.Fatalf("run flags wrong: %+v", runs)
	}
	h, err := st.History(a.Suite, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Entries) != 2 || h.Entries[1].Baseline != a.ID || h.Entries[1].Rule != RulePass {
		t.Fatalf("history %+v", h.Entries)
	}
	if err := st.Verify(); err != nil {
		t.Fatalf("verify a healthy store: %v", err)
	}
	tel, err := result.ReadTelemetry(r.Dir)
	if err != nil || len(tel) != 5 {
		t.Fatalf("telemetry of the stored run: %d lines, %v", len(tel), err)
	}
}

func TestPolicy(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "s"))
	base := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	if _, err := st.Promote(Promotion{Suite: "v", Key: base.Key, Run: base.ID}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mut     func(*resulttest.Synthetic)
		p       Promotion
		wantErr []string
		rule    string
	}{
		{"pass on main", nil, Promotion{Verdict: "pass"}, nil, RulePass},
		{"pass on custom default", func(s *resulttest.Synthetic) { s.Git.Ref = "trunk" }, Promotion{Verdict: "pass", DefaultBranch: "trunk"}, nil, RulePass},
		{"fail verdict", nil, Promotion{Verdict: "fail"}, []string{`verdict is "fail"`}, ""},
		{"no verdict with a baseline", nil, Promotion{}, []string{"no verdict"}, ""},
		{"feature branch, PR and unhealthy at once", func(s *resulttest.Synthetic) {
			s.Git.Ref = "refs/heads/feature"
			s.Git.PR = 42
			s.Unhealthy = []string{"throttled"}
		}, Promotion{Verdict: "pass"}, []string{`"refs/heads/feature"`, "pull request #42", "unhealthy: throttled"}, ""},
		{"no ref", func(s *resulttest.Synthetic) { s.Git.Ref = "" }, Promotion{Verdict: "pass"}, []string{"no git ref"}, ""},
		{"force without reason", nil, Promotion{Verdict: "fail", Force: true}, []string{"needs a --reason"}, ""},
		{"force with reason", nil, Promotion{Verdict: "fail", Force: true, Reason: "new kernel accepted"}, nil, RuleForce},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ri := mustAdd(t, st, mkResult(t, "v", uint64(10+i), 1e6, tc.mut))
			tc.p.Suite, tc.p.Key, tc.p.Run = "v", ri.Key, ri.ID
			before, _ := st.Pointer("v", ri.Key)
			e, err := st.Promote(tc.p)
			if len(tc.wantErr) > 0 {
				wantIs(t, err, ErrPolicy)
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				after, _ := st.Pointer("v", ri.Key)
				if after.Run != before.Run {
					t.Fatalf("refused promotion still moved the baseline to %s", after.Run)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Rule != tc.rule || e.Reason != tc.p.Reason {
				t.Fatalf("recorded rule %q reason %q, want %q", e.Rule, e.Reason, tc.rule)
			}
		})
	}
}

func TestHostileNames(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "store")
	st := mustOpen(t, root)
	good := mustAdd(t, st, mkResult(t, "ok", 1, 1e6, nil))
	before := snapshot(t, parent)
	for _, suite := range []string{"../escape", "..", "a/../../b", ".hidden", "/abs", "x\x00y", strings.Repeat("s", 65)} {
		t.Run("suite "+suite, func(t *testing.T) {
			dir := mkResult(t, "placeholder", 3, 1e6, nil)
			m, err := result.ReadMeta(dir)
			if err != nil {
				t.Fatal(err)
			}
			m.Suite = suite
			if err := result.WriteMeta(dir, m); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Add(dir); err == nil || !strings.Contains(err.Error(), "invalid suite name") {
				t.Fatalf("Add with suite %q: %v", suite, err)
			}
			if _, err := st.Runs(suite, good.Key); err == nil {
				t.Fatalf("Runs(%q) accepted", suite)
			}
			if _, err := st.Promote(Promotion{Suite: "ok", Key: good.Key, Run: "../../" + good.ID, Force: true, Reason: "x"}); err == nil {
				t.Fatal("promote of a hostile run id accepted")
			}
			if err := st.Append(HistoryEntry{V: 1, Kind: KindNightly, Time: time.Now(), Suite: suite, Key: good.Key}); err == nil {
				t.Fatal("append with a hostile suite accepted")
			}
		})
	}
	after := snapshot(t, parent)
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("hostile names created %s", p)
		}
	}
	t.Run("planted symlink", func(t *testing.T) {
		outside := t.TempDir()
		if err := os.Symlink(outside, filepath.Join(root, "suites", "linked")); err != nil {
			t.Fatal(err)
		}
		_, err := st.Keys("linked")
		wantIs(t, err, ErrIntegrity)
		if !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("error %v does not say symbolic link", err)
		}
	})
}

// TestTamper damages a stored baseline in every way a disk or a person can and checks that
// reading it fails closed, naming the file and what happened to it.
func TestTamper(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, runDir, keyDir string)
		want   string
	}{
		{"flipped byte in the log", func(t *testing.T, d, _ string) { flipByte(t, filepath.Join(d, result.LatencyFile)) }, "latency.hlog was modified"},
		{"truncated log", func(t *testing.T, d, _ string) { truncateBy(t, filepath.Join(d, result.LatencyFile), 100) }, "latency.hlog is truncated"},
		{"edited meta", func(t *testing.T, d, _ string) {
			p := filepath.Join(d, result.MetaFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte(`"p50_ns": `), []byte(`"p50_ns": 1`), 1), 0o644)
		}, "meta.json"},
		{"emptied telemetry", func(t *testing.T, d, _ string) { os.WriteFile(filepath.Join(d, result.TelemetryFile), nil, 0o644) }, "telemetry.jsonl is truncated"},
		{"deleted log", func(t *testing.T, d, _ string) { os.Remove(filepath.Join(d, result.LatencyFile)) }, "latency.hlog is missing"},
		{"extra file", func(t *testing.T, d, _ string) { os.WriteFile(filepath.Join(d, "evil.sh"), []byte("x"), 0o644) }, "evil.sh is not in the manifest"},
		{"log replaced by a symlink", func(t *testing.T, d, _ string) {
			p := filepath.Join(d, result.LatencyFile)
			moved := filepath.Join(t.TempDir(), "moved.hlog")
			os.Rename(p, moved)
			os.Symlink(moved, p)
		}, "not a regular file"},
		{"manifest rewritten to match a forged log", func(t *testing.T, d, _ string) {
			p := filepath.Join(d, result.LatencyFile)
			truncateBy(t, p, 0) // keep the log; forge the manifest's claim instead
			mp := filepath.Join(d, ManifestFile)
			b, _ := os.ReadFile(mp)
			os.WriteFile(mp, append(bytes.TrimSpace(b), ' ', '\n'), 0o644)
		}, "manifest changed since it was promoted"},
		{"garbage baseline.json", func(t *testing.T, _, k string) { os.WriteFile(filepath.Join(k, PointerFile), []byte("{"), 0o644) }, "baseline.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "s")
			st := mustOpen(t, root)
			ri := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
			if _, err := st.Promote(Promotion{Suite: "v", Key: ri.Key, Run: ri.ID}); err != nil {
				t.Fatal(err)
			}
			keyDir := filepath.Join(root, "suites", "v", ri.Key)
			tc.damage(t, filepath.Join(keyDir, "runs", ri.ID), keyDir)
			_, err := readBaseline(st, "v", ri.Key)
			wantIs(t, err, ErrIntegrity)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			verr := st.Verify()
			wantIs(t, verr, ErrIntegrity)
			t.Logf("reported: %v", err)
		})
	}
}

func flipByte(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateBy(t *testing.T, p string, n int64) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, fi.Size()-n); err != nil {
		t.Fatal(err)
	}
}

func TestTornHistory(t *testing.T) {
	root := filepath.Join(t.TempDir(), "s")
	var warn bytes.Buffer
	st, err := OpenDir(root, Options{Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	key := piEnv().Key()
	m := &result.Meta{Suite: "v", Env: piEnv(), Summary: result.Summary{Count: 10, P50: 5, P99: 9, P999: 10}}
	for i := 0; i < 3; i++ {
		if err := st.Append(NightlyEntry(m, "", "", "pass", time.Date(2026, 1, 1+i, 3, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
	}
	hp := filepath.Join(root, "suites", "v", key, HistoryFile)
	for _, tail := range []string{`{"v":1,"kind":"nigh`, "\x00\x00\x00\x00", `{"v":1}` + "\x00\x00"} {
		t.Run("tail "+strings.ToValidUTF8(tail, "?"), func(t *testing.T) {
			f, _ := os.OpenFile(hp, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(tail)
			f.Close()
			h, err := st.History("v", key)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Entries) < 3 || len(h.Warnings) != 1 || !strings.Contains(h.Warnings[0], "torn last line") {
				t.Fatalf("torn tail: %d entries, warnings %q", len(h.Entries), h.Warnings)
			}
			n := len(h.Entries)
			warn.Reset()
			if err := st.Append(NightlyEntry(m, "", "", "fail", time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC))); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warn.String(), "cutting off a torn last line") {
				t.Fatalf("repair not reported: %q", warn.String())
			}
			h, err = st.History("v", key)
			if err != nil || len(h.Warnings) != 0 || len(h.Entries) != n+1 || h.Entries[n].Verdict != "fail" {
				t.Fatalf("after repair: %+v, %v", h, err)
			}
		})
	}
	t.Run("corrupt middle line is an error naming the line", func(t *testing.T) {
		b, _ := os.ReadFile(hp)
		lines := strings.SplitAfter(string(b), "\n")
		lines[1] = "{not json}\n"
		os.WriteFile(hp, []byte(strings.Join(lines, "")), 0o644)
		_, err := st.History("v", key)
		wantIs(t, err, ErrIntegrity)
		if !strings.Contains(err.Error(), HistoryFile+":2:") {
			t.Fatalf("error %v does not name line 2", err)
		}
	})
}

func FuzzParseHistoryLine(f *testing.F) {
	good, _ := encodeLine(HistoryEntry{V: 1, Kind: KindNightly, Time: time.Unix(1e9, 0).UTC(), Suite: "s", Key: "0123456789abcdef", P50: 1})
	f.Add(bytes.TrimSpace(good))
	f.Add([]byte(`{"v":1,"kind":"promotion","time":"2026-01-01T00:00:00Z","suite":"../x","key":"k"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`{"v":1,"kind":"nightly","time":"2026-01-01T00:00:00Z","suite":"s","key":"k","gated_ns":{"p90":5,"p100":1}}`))
	f.Add([]byte("\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseHistoryLine(b)
		if err != nil {
			return
		}
		if e.Validate() != nil {
			t.Fatalf("accepted an invalid entry %+v", e)
		}
		// What parses must survive a write and a re-read unchanged.
		line, err := encodeLine(e)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHistory("fuzz", line)
		if err != nil || len(h.Entries) != 1 || !h.Entries[0].Time.Equal(e.Time) || h.Entries[0].Suite != e.Suite {
			t.Fatalf("round trip of %q: %+v, %v", line, h, err)
		}
	})
}

func TestPrune(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "s"))
	var ids []string
	for i := 0; i < 8; i++ {
		ri := mustAdd(t, st, mkResult(t, "v", uint64(i+1), 1e6, nil))
		ids = append(ids, ri.ID)
		if i == 1 || i == 4 { // runs 1 and 4 become baselines in turn
			if _, err := st.Promote(Promotion{Suite: "v", Key: ri.Key, Run: ri.ID, Verdict: "pass"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	key := piEnv().Key()
	removed, err := st.Prune("v", key, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ids[0], ids[2], ids[3], ids[5]}
	if strings.Join(removed, ",") != strings.Join(want, ",") {
		t.Fatalf("pruned %v, want %v", removed, want)
	}
	runs, _ := st.Runs("v", key)
	var left []string
	for _, r := range runs {
		left = append(left, r.ID)
	}
	if strings.Join(left, ",") != strings.Join([]string{ids[1], ids[4], ids[6], ids[7]}, ",") {
		t.Fatalf("left %v", left)
	}
	if _, err := st.Prune("v", key, 0); err == nil {
		t.Fatal("--keep 0 accepted")
	}
	if err := st.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestNearest(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "s"))
	variants := []func(*resulttest.Synthetic){
		func(s *resulttest.Synthetic) { s.Env.KernelRelease = "6.6.0"; s.Env.ORTVersion = "1.29.0" },
		func(s *resulttest.Synthetic) { s.Env.ORTVersion = "1.29.0" },
		func(s *resulttest.Synthetic) { s.Suite = "other" },
	}
	for i, v := range variants {
		ri := mustAdd(t, st, mkResult(t, "v", uint64(i+1), 1e6, v))
		if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := FindNearest(st, "v", piEnv())
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Diffs) != 1 || n.Diffs[0].Field != "ort_version" || n.Diffs[0].B != `"1.29.0"` {
		t.Fatalf("nearest %+v", n)
	}
	if !strings.Contains(n.Describe(), "ort_version") {
		t.Fatalf("describe: %s", n.Describe())
	}
	if _, err := FindNearest(st, "nosuch", piEnv()); !errors.Is(err, ErrNoBaseline) {
		t.Fatalf("nearest of an unknown suite: %v", err)
	}
}

func TestNotAStore(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README"), []byte("mine"), 0o644)
	if _, err := OpenDir(dir, Options{}); err == nil || !strings.Contains(err.Error(), "not a tailgate store") {
		t.Fatalf("opening a foreign folder: %v", err)
	}
}

func TestNightlyInTimeOrder(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 3, 0, 0, 0, time.UTC) }
	h := &History{Entries: []HistoryEntry{
		{Kind: KindNightly, Time: day(2), Run: "b"},
		{Kind: KindPromotion, Time: day(2), Run: "p"},
		{Kind: KindNightly, Time: day(1), Run: "a"},
		{Kind: KindNightly, Time: day(3), Run: "c"},
	}}
	var got []string
	for _, e := range h.Nightly() {
		got = append(got, e.Run)
	}
	if strings.Join(got, "") != "abc" {
		t.Fatalf("nights in order %v, want a b c", got)
	}
}

// TestVerifyReportsLostBaseline: a key whose history promoted a run but whose baseline.json was
// deleted fails verification (the next nightly would otherwise become the baseline silently);
// a key that never had a baseline passes.
func TestVerifyReportsLostBaseline(t *testing.T) {
	root := filepath.Join(t.TempDir(), "s")
	st := mustOpen(t, root)
	ri := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	if err := st.Verify(); err != nil {
		t.Fatalf("a key with runs and no baseline yet: %v", err)
	}
	if _, err := st.Promote(Promotion{Suite: "v", Key: ri.Key, Run: ri.ID}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "suites", "v", ri.Key, PointerFile)); err != nil {
		t.Fatal(err)
	}
	err := st.Verify()
	wantIs(t, err, ErrIntegrity)
	if !strings.Contains(err.Error(), "has no baseline.json, but its history promoted run "+ri.ID) {
		t.Errorf("error %q does not name the lost baseline", err)
	}
}

func TestHistoryGatedValidation(t *testing.T) {
	for _, tc := range []struct {
		gated map[string]int64
		ok    bool
	}{
		{map[string]int64{"p90": 1000, "p99.99": 5000, "p0.1": 1}, true},
		{map[string]int64{"p100": 1000}, false},
		{map[string]int64{"p0": 1000}, false},
		{map[string]int64{"mean": 1000}, false},
		{map[string]int64{"p90": 0}, false},
		{map[string]int64{"p90": -5}, false},
		{map[string]int64{"p9x": 5}, false},
	} {
		e := HistoryEntry{V: 1, Kind: KindNightly, Time: time.Unix(1e9, 0).UTC(), Suite: "s", Key: "0123456789abcdef", P50: 1, Gated: tc.gated}
		if err := e.Validate(); (err == nil) != tc.ok {
			t.Errorf("gated %v: Validate() = %v, want ok %v", tc.gated, err, tc.ok)
		}
	}
}
