package storeview

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
	"github.com/tailgate-ci/tailgate/fixtures/golden"
)

var promotedAt = time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)

// testStore stores two runs of suite vision-int8 (the first promoted by alice with a reason, the
// second from a pull request and unhealthy) and one of suite audio, with no baseline.
func testStore(t *testing.T) baseline.Store {
	t.Helper()
	st, err := baseline.OpenDir(t.TempDir(), baseline.Options{Now: func() time.Time { return promotedAt }})
	if err != nil {
		t.Fatal(err)
	}
	env := result.Fingerprint{Arch: "arm64", OS: "linux", KernelRelease: "6.12.25-rt-v8+", PreemptRT: true, CPUModel: "Cortex-A76",
		Board: "Raspberry Pi 5", Backend: "onnxruntime", ORTVersion: "1.30.0", Threads: 1, CPUs: []int{3}, Sched: "fifo:80"}
	add := func(suite string, night int, mut func(*resulttest.Synthetic)) baseline.RunInfo {
		dir := t.TempDir()
		s := resulttest.Synthetic{Suite: suite, Env: env, Seed: uint64(night + 1), Sigma: 0.03,
			Git:   result.Git{Repo: "acme/vision", Commit: strings.Repeat(string(rune('a'+night)), 40), Ref: "refs/heads/main"},
			Start: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC).AddDate(0, 0, night)}
		if mut != nil {
			mut(&s)
		}
		if _, err := resulttest.Lognormal(dir, s); err != nil {
			t.Fatal(err)
		}
		ri, err := st.Add(dir)
		if err != nil {
			t.Fatal(err)
		}
		return ri
	}
	first := add("vision-int8", 0, nil)
	add("vision-int8", 1, func(s *resulttest.Synthetic) { s.Git.PR = 7; s.Unhealthy = []string{"throttled"} })
	add("audio", 2, nil)
	p := baseline.Promotion{Suite: first.Suite, Key: first.Key, Run: first.ID, Force: true, Reason: "first board", By: "alice"}
	if _, err := st.Promote(p); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWriteList(t *testing.T) {
	st := testStore(t)
	for _, tc := range []struct {
		name   string
		suites []string
	}{
		{"all", []string{"audio", "vision-int8"}},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteList(&b, st, tc.suites); err != nil {
				t.Fatal(err)
			}
			out := strings.ReplaceAll(b.String(), st.Spec().String(), "STORE")
			golden.Check(t, filepath.Join("testdata", "list_"+tc.name+".golden"), []byte(out))
		})
	}
}

func TestWriteRun(t *testing.T) {
	st := testStore(t)
	key, err := baseline.ResolveKey(st, "vision-int8", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "latest"} {
		r, ptr, err := baseline.OpenRunRef(st, "vision-int8", key, id)
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		name := map[string]string{"": "baseline", "latest": "unhealthy_pr"}[id]
		run := filepath.Base(r.Dir)
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteRun(&b, "vision-int8", key, run, ptr, r.Meta); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "run_"+name+".golden"), b.Bytes())
		})
		t.Run(name+" json", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteRunJSON(&b, key, run, ptr, r.Meta); err != nil {
				t.Fatal(err)
			}
			var got struct {
				Run      string
				Baseline bool
				Pointer  *baseline.Pointer
				Meta     *result.Meta
			}
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Run != run || got.Baseline != (id == "") || got.Pointer == nil || got.Meta.Suite != "vision-int8" {
				t.Fatalf("JSON %s", b.Bytes())
			}
		})
	}
}

func TestCells(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Millis(0), "-"},
		{Millis(1234567), "1.235"},
		{Millis(999), "0.001"},
		{ShortCommit(""), "-"},
		{ShortCommit("abc"), "abc"},
		{ShortCommit("0123456789abcdef"), "0123456789"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
