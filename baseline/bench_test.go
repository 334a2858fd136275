package baseline

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// BenchmarkFolderStore measures the store operations a nightly job makes on a local folder:
// each includes its fsyncs, so the numbers are dominated by the disk.
func BenchmarkFolderStore(b *testing.B) {
	st := mustOpen(b, filepath.Join(b.TempDir(), "s"))
	src := mkResult(b, "v", 1, 1e6, func(s *resulttest.Synthetic) { s.Intervals = 60 })
	ri := mustAdd(b, st, src)
	if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID}); err != nil {
		b.Fatal(err)
	}
	b.Run("Baseline read+verify (60 intervals)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readBaseline(st, ri.Suite, ri.Key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Promote", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Verdict: "pass"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		e := nightlyFor(ri, "pass")
		for b.Loop() {
			e.Time = e.Time.Add(24 * time.Hour)
			if err := st.Append(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGitStorePromote is one promotion on a git branch: fetch, reset, write, commit, push.
func BenchmarkGitStorePromote(b *testing.B) {
	st := openGitStore(b, bareRepo(b), "data")
	ri := mustAdd(b, st, mkResult(b, "v", 1, 1e6, nil))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
