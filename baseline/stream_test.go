package baseline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// scanSamples streams a run's log through the bucket decoder, as the gate does, and counts.
func scanSamples(r *RunReader) (int64, error) {
	var n int64
	err := r.Scan(func(log io.Reader) error {
		_, err := result.ScanLogBuckets(r.Dir, log, func(iv result.IntervalBuckets) error { n += iv.Buckets.Total; return nil })
		return err
	})
	return n, err
}

// TestRunReaderStreams: a stored run streams with its verdict withheld until the end of the
// log: intact, it reads to io.EOF with every sample; a log whose bytes change (same size) or
// that grows while it is read never reaches io.EOF and the scan is an integrity error, not a
// result; a run pruned while it is read still reads whole (its files stay open).
func TestRunReaderStreams(t *testing.T) {
	open := func(t *testing.T) (Store, RunInfo, string) {
		st := mustOpen(t, t.TempDir())
		ri := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
		if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(st.Spec().Path, suitesDir, ri.Suite, ri.Key, runsDir, ri.ID)
		return st, ri, dir
	}
	t.Run("intact", func(t *testing.T) {
		st, ri, _ := open(t)
		r, err := st.OpenBaseline(ri.Suite, ri.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		n, err := scanSamples(r)
		if err != nil || n != r.Meta.Counts.Samples || r.ID != ri.ID {
			t.Fatalf("%d samples, %v; want %d", n, err, r.Meta.Counts.Samples)
		}
		if err := r.Verify(); err != nil {
			t.Fatalf("verify after the scan: %v", err)
		}
	})
	t.Run("a byte changed", func(t *testing.T) {
		st, ri, dir := open(t)
		p := filepath.Join(dir, result.LatencyFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-3] ^= 1 // inside the last interval's payload: the size is unchanged
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := st.OpenBaseline(ri.Suite, ri.Key)
		if err != nil {
			t.Fatalf("the size matches: opening should succeed, the verdict wait for the end: %v", err)
		}
		defer r.Close()
		_, err = scanSamples(r)
		wantIs(t, err, ErrIntegrity)
		if _, err := r.Read(make([]byte, 1)); errors.Is(err, io.EOF) || !errors.Is(err, ErrIntegrity) {
			t.Errorf("read after the verdict: %v; want the integrity error again, never io.EOF", err)
		}
	})
	t.Run("grows while read", func(t *testing.T) {
		st, ri, dir := open(t)
		r, err := st.OpenRun(ri.Suite, ri.Key, ri.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		f, err := os.OpenFile(filepath.Join(dir, result.LatencyFile), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("#appended\n")
		f.Close()
		_, err = scanSamples(r)
		wantIs(t, err, ErrIntegrity)
	})
	t.Run("pruned while read", func(t *testing.T) {
		st, ri, dir := open(t)
		r, err := st.OpenRun(ri.Suite, ri.Key, ri.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if n, err := scanSamples(r); err != nil || n != r.Meta.Counts.Samples {
			t.Fatalf("%d samples, %v", n, err)
		}
	})
	t.Run("verify without decoding", func(t *testing.T) {
		st, ri, dir := open(t)
		r, err := st.OpenRun(ri.Suite, ri.Key, ri.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		if err := os.WriteFile(filepath.Join(dir, result.LatencyFile), []byte("short"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = st.OpenRun(ri.Suite, ri.Key, ri.ID)
		wantIs(t, err, ErrIntegrity) // a size that differs is refused at once
	})
}
