package baseline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// piEnv is a Raspberry Pi 5 fingerprint; variants change one pinned field.
func piEnv() result.Fingerprint {
	return result.Fingerprint{
		Arch: "arm64", OS: "linux", KernelRelease: "6.12.25-rt-v8+", PreemptRT: true,
		CPUModel: "Cortex-A76", CPUCount: 4, Board: "Raspberry Pi 5 Model B Rev 1.0",
		Backend: "onnxruntime", ORTVersion: "1.30.0", Threads: 1, CPUs: []int{3}, Sched: "fifo:80",
	}
}

// mkResult writes a synthetic result into a new temp folder and returns the folder.
func mkResult(t testing.TB, suite string, seed uint64, median float64, mut func(*resulttest.Synthetic)) string {
	t.Helper()
	dir := t.TempDir()
	s := resulttest.Synthetic{
		Suite: suite, Env: piEnv(), Seed: seed, MedianNs: median,
		Git:   result.Git{Repo: "acme/vision", Commit: commitFor(seed), Ref: "refs/heads/main"},
		Start: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC).Add(time.Duration(seed) * 24 * time.Hour),
	}
	if mut != nil {
		mut(&s)
	}
	if _, err := resulttest.Lognormal(dir, s); err != nil {
		t.Fatal(err)
	}
	return dir
}

func commitFor(seed uint64) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 40)
	x := seed*0x9E3779B97F4A7C15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = hexd[x%16]
	}
	return string(b)
}

func mustOpen(t testing.TB, dir string) Store {
	t.Helper()
	st, err := OpenDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mustAdd(t testing.TB, st Store, dir string) RunInfo {
	t.Helper()
	ri, err := st.Add(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ri
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one wrapping %v", err, target)
	}
}

// snapshot lists every file under root with its contents, for "nothing changed" checks.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

// nightlyFor is the nightly history entry of a stored run.
func nightlyFor(ri RunInfo, verdict string) HistoryEntry {
	return HistoryEntry{
		V: HistoryVersion, Kind: KindNightly, Time: ri.Start, Suite: ri.Suite, Key: ri.Key, Run: ri.ID,
		Commit: ri.Git.Commit, P50: ri.Summary.P50, P99: ri.Summary.P99, P999: ri.Summary.P999, Verdict: verdict,
	}
}

// longTests is set (TAILGATE_LONG_TESTS=1, `make test-long`) to run the crash and concurrency
// tests with many more rounds than the default, quick, ones.
var longTests = os.Getenv("TAILGATE_LONG_TESTS") == "1"

// rounds returns quick, or long under TAILGATE_LONG_TESTS=1.
func rounds(quick, long int) int {
	if longTests {
		return long
	}
	return quick
}

// readBaseline reads the baseline of suite and key whole, verified (Store.OpenBaseline).
func readBaseline(st Store, suite, key string) (*result.Result, error) {
	r, err := st.OpenBaseline(suite, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readWhole(r)
}

// readRun reads a stored run whole, verified (Store.OpenRun).
func readRun(st Store, suite, key, id string) (*result.Result, error) {
	r, err := st.OpenRun(suite, key, id)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readWhole(r)
}

// readWhole reads a stored run into memory, every interval histogram of it, and verifies it:
// the tests compare whole runs; the product streams them.
func readWhole(r *RunReader) (*result.Result, error) {
	var log *result.Log
	err := r.Scan(func(l io.Reader) (err error) {
		log, err = result.ParseLog(r.path, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &result.Result{Dir: r.Dir, Meta: r.Meta, Log: log}
	if n := res.Merged().TotalCount(); n != r.Meta.Counts.Samples {
		return nil, fmt.Errorf("%w: result %s: %s holds %d samples but %s says %d", ErrIntegrity, r.Dir, result.LatencyFile, n, result.MetaFile, r.Meta.Counts.Samples)
	}
	return res, nil
}
