package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// RunReader is a stored run opened for streaming: its meta.json read and verified against the
// run's manifest (a small file), its latency.hlog open and hashed as it is read. Nothing of the
// log is held: a 48-hour nightly streams through a reader of a few kilobytes.
//
// The log's verdict is withheld until its end: Read returns io.EOF only once the bytes read
// match the manifest's size and SHA-256, and an error wrapping ErrIntegrity instead when they do
// not; a file longer than recorded fails as soon as it passes the recorded size. A caller
// streams the log through its parser with Scan, which reports a mismatch over the parser's
// own error, so anything computed from a damaged log is discarded.
//
// The files are opened under the store's lock and read after it is released: a run's files
// never change once stored, and a prune that removes the run meanwhile unlinks files this
// reader keeps open. Close releases them.
type RunReader struct {
	Suite, Key, ID string
	// Dir is the run's folder in the store (for a git store, in its private clone).
	Dir  string
	Meta *result.Meta
	// ManifestSHA256 is the SHA-256 of the run's manifest, which a baseline record pins.
	ManifestSHA256 string

	*hashedFile // the log
}

// hashedFile is a stored file read through SHA-256, its verdict given at its end.
type hashedFile struct {
	path string
	f    *os.File
	want FileEntry
	h    hash.Hash
	n    int64
	err  error // sticky: the integrity verdict once reached, or a read error
	done bool  // the whole file was read and matched
}

func newHashedFile(path string, f *os.File, want FileEntry) *hashedFile {
	return &hashedFile{path: path, f: f, want: want, h: sha256.New()}
}

// Read reads the file, hashing what it returns; at its end it returns io.EOF only when the
// file matched the manifest.
func (r *hashedFile) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.done {
		return 0, io.EOF
	}
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	if r.n > r.want.Size {
		r.err = r.mismatch()
		return n, r.err
	}
	if errors.Is(err, io.EOF) {
		if r.err = r.mismatch(); r.err != nil {
			return n, r.err
		}
		r.done = true
		return n, io.EOF
	}
	if err != nil {
		r.err = fmt.Errorf("%s: %w", r.path, err)
	}
	return n, r.err
}

// mismatch compares what was read, at its end, with the manifest (nil when it matches).
func (r *hashedFile) mismatch() error {
	if r.n != r.want.Size {
		what := "changed size"
		if r.n < r.want.Size {
			what = "is truncated"
		}
		return fmt.Errorf("%w: %s %s: %d bytes read, the manifest recorded %d", ErrIntegrity, r.path, what, r.n, r.want.Size)
	}
	if got := hex.EncodeToString(r.h.Sum(nil)); got != r.want.SHA256 {
		return fmt.Errorf("%w: %s was modified: sha256 %s, the manifest recorded %s", ErrIntegrity, r.path, got, r.want.SHA256)
	}
	return nil
}

// Verify reads what is left of the file (all of it when nothing was read) without decoding
// it, and returns the integrity verdict: nil when every byte matched the manifest.
func (r *hashedFile) Verify() error {
	if r.err == nil && !r.done {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
	return r.err
}

// Close releases the file.
func (r *hashedFile) Close() error { return r.f.Close() }

// Scan hands the log to read, which parses it to its end (through result.ScanLogBuckets, say),
// then verifies the log. A damaged log is the error whatever read returned: the bytes read
// did not match the manifest, so what read made of them must not be used.
func (r *RunReader) Scan(read func(log io.Reader) error) error {
	err := read(r.hashedFile)
	if verr := r.Verify(); verr != nil {
		return verr
	}
	return err
}

// openRun opens a stored run for streaming: the manifest names this run and every file in the
// folder, meta.json and telemetry.jsonl match it (the telemetry hashed as it is read, not
// kept), and latency.hlog is open for RunReader to hash as the caller reads it.
func (t *tree) openRun(suite, key, id string) (*RunReader, error) {
	dir, err := t.runDir(suite, key, id)
	if err != nil {
		return nil, err
	}
	man, msum, err := loadManifest(dir, suite, key, id)
	if err != nil {
		return nil, err
	}
	if err := checkListed(dir, man); err != nil {
		return nil, err
	}
	var errs []error
	var mb []byte
	var logEntry *FileEntry
	for _, f := range man.Files {
		switch f.Name {
		case result.MetaFile:
			mb, err = verifiedFile(dir, f)
		case result.LatencyFile:
			logEntry = &f
		default:
			err = verifiedStream(dir, f)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for name, missing := range map[string]bool{result.MetaFile: mb == nil, result.LatencyFile: logEntry == nil} {
		if missing {
			return nil, fmt.Errorf("%w: %s lists no %s", ErrIntegrity, filepath.Join(dir, ManifestFile), name)
		}
	}
	m, err := result.ParseMeta(filepath.Join(dir, result.MetaFile), mb)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	if err := checkBelongs(dir, m, suite, key); err != nil {
		return nil, err
	}
	f, err := openRegular(filepath.Join(dir, result.LatencyFile), *logEntry)
	if err != nil {
		return nil, err
	}
	return &RunReader{Suite: suite, Key: key, ID: id, Dir: dir, Meta: m, ManifestSHA256: msum,
		hashedFile: newHashedFile(filepath.Join(dir, result.LatencyFile), f, *logEntry)}, nil
}

// openBaseline opens the baseline run and checks that its manifest is the one promoted.
func (t *tree) openBaseline(suite, key string) (*RunReader, error) {
	ptr, err := t.pointer(suite, key)
	if err != nil {
		return nil, err
	}
	r, err := t.openRun(suite, key, ptr.Run)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: baseline of %s/%s is run %s, which is not in the store", ErrIntegrity, suite, key, ptr.Run)
	}
	if err != nil {
		return nil, fmt.Errorf("baseline of %s/%s: %w", suite, key, err)
	}
	if r.ManifestSHA256 != ptr.ManifestSHA256 {
		r.Close()
		return nil, fmt.Errorf("%w: baseline of %s/%s: run %s's manifest changed since it was promoted (sha256 %s, promoted %s)", ErrIntegrity, suite, key, ptr.Run, r.ManifestSHA256, ptr.ManifestSHA256)
	}
	return r, nil
}

// checkListed refuses a run folder holding a file its manifest does not list.
func checkListed(dir string, m *Manifest) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	listed := map[string]bool{ManifestFile: true}
	for _, f := range m.Files {
		listed[f.Name] = true
	}
	var errs []error
	for _, e := range ents {
		if !listed[e.Name()] {
			errs = append(errs, fmt.Errorf("%w: %s is not in the manifest", ErrIntegrity, filepath.Join(dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}

// openRegular opens a file a manifest lists, which must be a regular file (not a link, a FIFO
// or a folder) of the recorded size.
func openRegular(p string, f FileEntry) (*os.File, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing (the manifest lists it)", ErrIntegrity, p)
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrIntegrity, p)
	}
	if fi.Size() != f.Size {
		what := "changed size"
		if fi.Size() < f.Size {
			what = "is truncated"
		}
		return nil, fmt.Errorf("%w: %s %s: %d bytes, the manifest recorded %d", ErrIntegrity, p, what, fi.Size(), f.Size)
	}
	return result.OpenRegular(p)
}

// verifiedStream checks a listed file against the manifest by hashing it as it is read.
func verifiedStream(dir string, f FileEntry) error {
	p := filepath.Join(dir, f.Name)
	file, err := openRegular(p, f)
	if err != nil {
		return err
	}
	defer file.Close()
	return newHashedFile(p, file, f).Verify()
}
