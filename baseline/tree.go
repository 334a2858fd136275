package baseline

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// tree implements the store layout on a folder, without locking: the folder store wraps it in
// flock, the git store in its clone's lock plus fetch, commit and push.
type tree struct {
	root string
	warn io.Writer
	now  func() time.Time
}

// Prefixes of the hidden, transient folders a write leaves behind if it is killed: a run being
// copied in, and a run being pruned. Readers ignore them; the next write removes them.
const (
	tmpPrefix   = ".tmp-"
	trashPrefix = ".trash-"
)

// storedFiles are the result files a run keeps, in the order they are copied.
var storedFiles = []string{result.MetaFile, result.LatencyFile, result.TelemetryFile}

// path joins validated names under the root and refuses symlinks on the way, so neither a
// hostile name nor a planted link leads outside the store.
func (t *tree) path(parts ...string) (string, error) {
	p := t.root
	for _, part := range parts {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%w: %s is a symbolic link; a store holds none", ErrIntegrity, p)
		}
	}
	return p, nil
}

func (t *tree) keyDir(suite, key string) (string, error) {
	if errs := validateNames(suite, key, ""); len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return t.path(suitesDir, suite, key)
}

func (t *tree) runDir(suite, key, id string) (string, error) {
	if errs := validateNames(suite, key, id); len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	return t.path(suitesDir, suite, key, runsDir, id)
}

// checkMarker accepts a missing or empty root (a store not written yet) and a root with a
// marker of a version this package reads; anything else is not a store to write into.
func (t *tree) checkMarker() (exists bool, err error) {
	b, err := os.ReadFile(filepath.Join(t.root, MarkerFile))
	if errors.Is(err, fs.ErrNotExist) {
		names, derr := os.ReadDir(t.root)
		if errors.Is(derr, fs.ErrNotExist) {
			return false, nil
		}
		if derr != nil {
			return false, derr
		}
		for _, n := range names {
			if !strings.HasPrefix(n.Name(), ".") {
				return false, fmt.Errorf("%s is not a tailgate store (no %s) and is not empty; refusing to use it", t.root, MarkerFile)
			}
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var m marker
	if err := decodeStrict(filepath.Join(t.root, MarkerFile), b, &m); err != nil {
		return false, fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	if m.Format != "tailgate-store" || m.Version < 1 || m.Version > StoreVersion {
		return false, fmt.Errorf("%s: format %q version %d not supported (this tailgate reads tailgate-store 1..%d)", filepath.Join(t.root, MarkerFile), m.Format, m.Version, StoreVersion)
	}
	return true, nil
}

func (t *tree) ensureMarker() error {
	exists, err := t.checkMarker()
	if err != nil || exists {
		return err
	}
	if err := mkdirAllSync(t.root); err != nil {
		return err
	}
	b, _ := encodeJSON(marker{Format: "tailgate-store", Version: StoreVersion})
	return result.WriteFileAtomic(filepath.Join(t.root, MarkerFile), b, 0o644)
}

// mkdirAllSync creates dir and its missing parents, fsyncing each parent so the new entries
// survive a power cut.
func mkdirAllSync(dir string) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a folder", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllSync(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return result.SyncDir(parent)
}

// listNames lists the visible entries of dir, sorted; hidden entries (transient files, the lock)
// are skipped. A missing dir is empty. A visible entry that is not a valid name is an integrity
// problem: nothing but tailgate writes here.
func listNames(dir, what string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") {
			continue
		}
		if err := ValidateName(what, n); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrIntegrity, filepath.Join(dir, n), err)
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (t *tree) suites() ([]string, error) {
	if _, err := t.checkMarker(); err != nil {
		return nil, err
	}
	p, err := t.path(suitesDir)
	if err != nil {
		return nil, err
	}
	return listNames(p, "suite")
}

func (t *tree) keys(suite string) ([]string, error) {
	if err := ValidateName("suite", suite); err != nil {
		return nil, err
	}
	p, err := t.path(suitesDir, suite)
	if err != nil {
		return nil, err
	}
	return listNames(p, "key")
}

// readRegular reads a file that must be a regular file (not a link or a folder).
func readRegular(p string) ([]byte, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrIntegrity, p)
	}
	return os.ReadFile(p)
}

// loadManifest reads a run's manifest and checks it names this run.
func loadManifest(dir, suite, key, id string) (*Manifest, string, error) {
	p := filepath.Join(dir, ManifestFile)
	b, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("run %s/%s/%s: %w", suite, key, id, ErrNotFound)
		}
		return nil, "", fmt.Errorf("%w: %s is missing", ErrIntegrity, p)
	}
	if err != nil {
		return nil, "", err
	}
	m, err := parseManifest(p, b)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	if m.Suite != suite || m.Key != key || m.Run != id {
		return nil, "", fmt.Errorf("%w: %s names run %s/%s/%s but sits at %s/%s/%s", ErrIntegrity, p, m.Suite, m.Key, m.Run, suite, key, id)
	}
	return m, sha256Hex(b), nil
}

// verifiedFile reads name from a run folder and checks it against the manifest: for small
// files (meta.json); a log is streamed (RunReader).
func verifiedFile(dir string, f FileEntry) ([]byte, error) {
	p := filepath.Join(dir, f.Name)
	b, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s is missing (the manifest lists it)", ErrIntegrity, p)
	}
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != f.Size {
		what := "changed size"
		if int64(len(b)) < f.Size {
			what = "is truncated"
		}
		return nil, fmt.Errorf("%w: %s %s: %d bytes, the manifest recorded %d", ErrIntegrity, p, what, len(b), f.Size)
	}
	if got := sha256Hex(b); got != f.SHA256 {
		return nil, fmt.Errorf("%w: %s was modified: sha256 %s, the manifest recorded %s", ErrIntegrity, p, got, f.SHA256)
	}
	return b, nil
}

// readRunMeta verifies every file of a stored run against its manifest, the log by hashing it
// as it streams past without decoding it (it was parsed in full when the run was added), and
// returns the run's meta and the manifest's SHA-256.
func (t *tree) readRunMeta(suite, key, id string) (*result.Meta, string, error) {
	r, err := t.openRun(suite, key, id)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		return nil, "", err
	}
	return r.Meta, r.ManifestSHA256, nil
}

// checkRun verifies a stored run as a reader would use it: every file against the manifest and
// the log parsed, streamed, against meta.json's counts.
func (t *tree) checkRun(suite, key, id string) error {
	r, err := t.openRun(suite, key, id)
	if err != nil {
		return err
	}
	defer r.Close()
	var c result.LogCounter
	err = r.Scan(func(log io.Reader) error {
		_, err := result.ScanLogBuckets(r.path, log, func(iv result.IntervalBuckets) error { c.Add(iv); return nil })
		return err
	})
	if err == nil {
		err = c.Check(r.Dir, r.Meta)
	}
	if err != nil && !errors.Is(err, ErrIntegrity) {
		err = fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	return err
}

func checkBelongs(dir string, m *result.Meta, suite, key string) error {
	if m.Suite != suite || m.Env.Key() != key {
		return fmt.Errorf("%w: run %s: meta.json says suite %s key %s but the run is stored under %s/%s", ErrIntegrity, dir, m.Suite, m.Env.Key(), suite, key)
	}
	return nil
}

// runInfo reads a run's manifest and verified meta.json (not its log: listing stays cheap).
func (t *tree) runInfo(suite, key, id string, ptr *Pointer) (RunInfo, error) {
	dir, err := t.runDir(suite, key, id)
	if err != nil {
		return RunInfo{}, err
	}
	man, _, err := loadManifest(dir, suite, key, id)
	if err != nil {
		return RunInfo{}, err
	}
	var mb []byte
	for _, f := range man.Files {
		if f.Name == result.MetaFile {
			if mb, err = verifiedFile(dir, f); err != nil {
				return RunInfo{}, err
			}
		}
	}
	if mb == nil {
		return RunInfo{}, fmt.Errorf("%w: %s lists no %s", ErrIntegrity, filepath.Join(dir, ManifestFile), result.MetaFile)
	}
	m, err := result.ParseMeta(filepath.Join(dir, result.MetaFile), mb)
	if err != nil {
		return RunInfo{}, fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	ri := RunInfo{Suite: suite, Key: key, ID: id, Start: m.Start, Git: m.Git, Env: m.Env, Summary: m.Summary, Healthy: m.Health.Healthy}
	if ptr != nil {
		ri.Baseline = ptr.Run == id
		for _, e := range ptr.Ever {
			ri.EverBaseline = ri.EverBaseline || e == id
		}
	}
	return ri, nil
}

func (t *tree) runs(suite, key string) ([]RunInfo, error) {
	if _, err := t.keyDir(suite, key); err != nil {
		return nil, err
	}
	rd, err := t.path(suitesDir, suite, key, runsDir)
	if err != nil {
		return nil, err
	}
	ids, err := listNames(rd, "run")
	if err != nil {
		return nil, err
	}
	ptr, err := t.pointer(suite, key)
	if err != nil && !errors.Is(err, ErrNoBaseline) {
		return nil, err
	}
	out := make([]RunInfo, 0, len(ids))
	for _, id := range ids {
		ri, err := t.runInfo(suite, key, id, ptr)
		if err != nil {
			return nil, err
		}
		out = append(out, ri)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RunID names a stored run: its start time (so names sort by time) and a digest of its
// meta.json (so the same result always gets the same name and two results never share one).
func RunID(m *result.Meta, metaBytes []byte) string {
	return m.Start.UTC().Format("20060102T150405Z") + "-" + sha256Hex(metaBytes)[:12]
}

// add copies a result folder into the store. The copy is built in a hidden folder and renamed
// into place, so a reader sees the whole run or none of it. The log is streamed twice, never
// held: once parsed and checked against meta.json, once copied, each time hashed (a log that
// changes in between is refused).
func (t *tree) add(src string) (RunInfo, error) {
	mb, err := readResultFile(filepath.Join(src, result.MetaFile))
	if err != nil {
		return RunInfo{}, fmt.Errorf("result %s: %w", src, err)
	}
	m, err := result.ParseMeta(filepath.Join(src, result.MetaFile), mb)
	if err != nil {
		return RunInfo{}, err
	}
	if m.IsAB() {
		// Its log holds two arms: stored, it would read as one run of both models.
		return RunInfo{}, fmt.Errorf("result %s is an interleaved A/B result (arms A and B in one log): a store keeps single runs; gate it with `tailgate compare %s`", src, src)
	}
	logSum, err := checkSourceLog(src, m)
	if err != nil {
		return RunInfo{}, err
	}
	suite, key := m.Suite, m.Env.Key()
	id := RunID(m, mb)
	dir, err := t.runDir(suite, key, id)
	if err != nil {
		return RunInfo{}, fmt.Errorf("result %s: %w", src, err)
	}
	if err := t.ensureMarker(); err != nil {
		return RunInfo{}, err
	}
	ptr, perr := t.pointer(suite, key)
	if perr != nil && !errors.Is(perr, ErrNoBaseline) {
		return RunInfo{}, perr
	}
	if _, err := os.Lstat(dir); err == nil {
		// Same name means same meta.json; make sure the stored copy is whole before saying so.
		if _, _, err := t.readRunMeta(suite, key, id); err != nil {
			return RunInfo{}, fmt.Errorf("result %s is already stored as %s, but the stored copy is damaged: %w", src, id, err)
		}
		return t.runInfo(suite, key, id, ptr)
	}
	parent := filepath.Dir(dir)
	if err := mkdirAllSync(parent); err != nil {
		return RunInfo{}, err
	}
	tmp := filepath.Join(parent, tmpPrefix+id+"-"+randHex())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return RunInfo{}, err
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	man := Manifest{Version: StoreVersion, Suite: suite, Key: key, Run: id}
	for _, name := range storedFiles {
		var e FileEntry
		if name == result.MetaFile {
			e = FileEntry{Name: name, Size: int64(len(mb)), SHA256: sha256Hex(mb)}
			err = writeSynced(filepath.Join(tmp, name), mb)
		} else {
			e, err = copySynced(filepath.Join(src, name), filepath.Join(tmp, name))
		}
		if errors.Is(err, fs.ErrNotExist) && name == result.TelemetryFile {
			continue
		}
		if err != nil {
			return RunInfo{}, fmt.Errorf("result %s: %w", src, err)
		}
		if name == result.LatencyFile && e.SHA256 != logSum {
			return RunInfo{}, fmt.Errorf("result %s: %s changed while it was being stored", src, result.LatencyFile)
		}
		man.Files = append(man.Files, e)
	}
	sort.Slice(man.Files, func(i, j int) bool { return man.Files[i].Name < man.Files[j].Name })
	manb, _ := encodeJSON(man)
	if err := writeSynced(filepath.Join(tmp, ManifestFile), manb); err != nil {
		return RunInfo{}, err
	}
	if err := result.SyncDir(tmp); err != nil {
		return RunInfo{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return RunInfo{}, err
	}
	if err := result.SyncDir(parent); err != nil {
		return RunInfo{}, err
	}
	return t.runInfo(suite, key, id, ptr)
}

// checkSourceLog streams the log of a result being added through its parser, checks it
// against meta.json's counts as result.Read does, and returns its SHA-256.
func checkSourceLog(src string, m *result.Meta) (string, error) {
	p := filepath.Join(src, result.LatencyFile)
	f, err := result.OpenRegular(p)
	if err != nil {
		return "", fmt.Errorf("result %s: %w", src, err)
	}
	defer f.Close()
	h := sha256.New()
	var c result.LogCounter
	if _, err := result.ScanLogBuckets(p, io.TeeReader(f, h), func(iv result.IntervalBuckets) error { c.Add(iv); return nil }); err != nil {
		return "", fmt.Errorf("result %s: %w", src, err)
	}
	if err := c.Check(src, m); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copySynced copies the regular file src to a new file dst, fsyncs it and returns its manifest
// entry.
func copySynced(src, dst string) (FileEntry, error) {
	in, err := result.OpenRegular(src)
	if err != nil {
		return FileEntry{}, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return FileEntry{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileEntry{}, err
	}
	return FileEntry{Name: filepath.Base(src), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeSynced(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func randHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (t *tree) pointer(suite, key string) (*Pointer, error) {
	kd, err := t.keyDir(suite, key)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(kd, PointerFile)
	b, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("suite %s key %s: %w", suite, key, ErrNoBaseline)
	}
	if err != nil {
		return nil, err
	}
	ptr, err := parsePointer(p, b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIntegrity, err)
	}
	if ptr.Suite != suite || ptr.Key != key {
		return nil, fmt.Errorf("%w: %s names %s/%s", ErrIntegrity, p, ptr.Suite, ptr.Key)
	}
	return ptr, nil
}

// promote writes the new baseline record atomically, then appends the promotion to the
// history. A crash between the two leaves the new baseline without its history line; the
// record itself (rule, who, reason, Ever) is in baseline.json, so nothing prune relies on is lost.
func (t *tree) promote(p Promotion) (HistoryEntry, error) {
	if errs := validateNames(p.Suite, p.Key, p.Run); len(errs) > 0 {
		return HistoryEntry{}, errors.Join(errs...)
	}
	if err := t.ensureMarker(); err != nil {
		return HistoryEntry{}, err
	}
	meta, msum, err := t.readRunMeta(p.Suite, p.Key, p.Run)
	if err != nil {
		return HistoryEntry{}, err
	}
	old, err := t.pointer(p.Suite, p.Key)
	if err != nil && !errors.Is(err, ErrNoBaseline) {
		return HistoryEntry{}, err
	}
	rule, err := CheckPolicy(meta, old != nil, p)
	if err != nil {
		return HistoryEntry{}, err
	}
	at := p.Time
	if at.IsZero() {
		at = t.now()
	}
	at = at.UTC()
	np := Pointer{
		Version: StoreVersion, Suite: p.Suite, Key: p.Key, Run: p.Run, ManifestSHA256: msum,
		Commit: meta.Git.Commit, Ref: meta.Git.Ref, PromotedAt: at, Rule: rule, By: p.By, Reason: p.Reason,
	}
	prev := ""
	if old != nil {
		np.Ever = append(np.Ever, old.Ever...)
		prev = old.Run
	}
	if !slices.Contains(np.Ever, p.Run) {
		np.Ever = append(np.Ever, p.Run)
	}
	kd, err := t.keyDir(p.Suite, p.Key)
	if err != nil {
		return HistoryEntry{}, err
	}
	b, _ := encodeJSON(np)
	if err := result.WriteFileAtomic(filepath.Join(kd, PointerFile), b, 0o644); err != nil {
		return HistoryEntry{}, err
	}
	e := HistoryEntry{
		V: HistoryVersion, Kind: KindPromotion, Time: at, Suite: p.Suite, Key: p.Key, Run: p.Run,
		Commit: meta.Git.Commit, Ref: meta.Git.Ref, Samples: meta.Summary.Count,
		P50: meta.Summary.P50, P99: meta.Summary.P99, P999: meta.Summary.P999, Max: meta.Summary.Max,
		Verdict: p.Verdict, Baseline: prev, Rule: rule, By: p.By, Reason: p.Reason,
	}
	return e, t.appendHistory(e)
}

// appendHistory appends one line with a single write and fsyncs it. A torn tail left by an
// append that was killed is cut off first, so it can never glue onto this line.
func (t *tree) appendHistory(e HistoryEntry) error {
	if e.V == 0 {
		e.V = HistoryVersion
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("history entry: %w", err)
	}
	if err := t.ensureMarker(); err != nil {
		return err
	}
	kd, err := t.keyDir(e.Suite, e.Key)
	if err != nil {
		return err
	}
	if err := mkdirAllSync(kd); err != nil {
		return err
	}
	p, err := t.path(suitesDir, e.Suite, e.Key, HistoryFile)
	if err != nil {
		return err
	}
	line, err := encodeLine(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	complete, torn := splitTorn(old)
	if len(torn) > 0 {
		fmt.Fprintf(t.warn, "warning: %s: cutting off a torn last line (%d bytes) left by an interrupted append\n", p, len(torn))
	}
	if _, err := f.WriteAt(line, int64(len(complete))); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(complete) + len(line))); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if len(old) == 0 {
		return result.SyncDir(kd)
	}
	return nil
}

func (t *tree) history(suite, key string) (*History, error) {
	kd, err := t.keyDir(suite, key)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(kd, HistoryFile)
	b, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &History{}, nil
	}
	if err != nil {
		return nil, err
	}
	h, err := ParseHistory(p, b)
	if err != nil {
		return nil, err
	}
	for i, e := range h.Entries {
		if e.Suite != suite || e.Key != key {
			return nil, fmt.Errorf("%w: %s: entry %d is for %s/%s", ErrIntegrity, p, i+1, e.Suite, e.Key)
		}
	}
	return h, nil
}

// prune removes old runs. Each is renamed to a hidden trash name first, so a crash mid-removal
// leaves a folder readers ignore instead of a half-deleted run.
func (t *tree) prune(suite, key string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("prune: --keep must be at least 1, got %d", keep)
	}
	runs, err := t.runs(suite, key)
	if err != nil {
		return nil, err
	}
	h, err := t.history(suite, key)
	if err != nil {
		return nil, err
	}
	protected := map[string]bool{}
	for _, e := range h.Entries {
		if e.Kind == KindPromotion {
			protected[e.Run] = true
		}
	}
	var removed []string
	for i, r := range runs {
		if i >= len(runs)-keep || r.Baseline || r.EverBaseline || protected[r.ID] {
			continue
		}
		dir, err := t.runDir(suite, key, r.ID)
		if err != nil {
			return removed, err
		}
		trash := filepath.Join(filepath.Dir(dir), trashPrefix+r.ID+"-"+randHex())
		if err := os.Rename(dir, trash); err != nil {
			return removed, err
		}
		if err := result.SyncDir(filepath.Dir(dir)); err != nil {
			return removed, err
		}
		if err := os.RemoveAll(trash); err != nil {
			return removed, err
		}
		removed = append(removed, r.ID)
	}
	return removed, nil
}

// cleanup removes the transient folders left by killed writers. Only call it holding the
// write lock: otherwise it could remove a copy another writer is still building.
func (t *tree) cleanup() {
	sdir := filepath.Join(t.root, suitesDir)
	suites, _ := listNames(sdir, "suite")
	for _, s := range suites {
		keys, _ := listNames(filepath.Join(sdir, s), "key")
		for _, k := range keys {
			rd := filepath.Join(sdir, s, k, runsDir)
			ents, _ := os.ReadDir(rd)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), trashPrefix) {
					os.RemoveAll(filepath.Join(rd, e.Name()))
				}
			}
		}
	}
}

// verify checks everything and collects every problem.
func (t *tree) verify() error {
	var errs []error
	suites, err := t.suites()
	if err != nil {
		return err
	}
	for _, s := range suites {
		keys, err := t.keys(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, k := range keys {
			rd, err := t.path(suitesDir, s, k, runsDir)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ids, err := listNames(rd, "run")
			if err != nil {
				errs = append(errs, err)
			}
			for _, id := range ids {
				if err := t.checkRun(s, k, id); err != nil {
					errs = append(errs, err)
				}
			}
			// The runs were checked in full above: opening the baseline checks its record.
			br, berr := t.openBaseline(s, k)
			if berr == nil {
				br.Close()
			} else if !errors.Is(berr, ErrNoBaseline) {
				errs = append(errs, berr)
			}
			h, err := t.history(s, k)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			// A key whose history promoted a run but that has no baseline.json lost it: the next
			// nightly would silently become a new baseline and hide any regression since.
			if errors.Is(berr, ErrNoBaseline) {
				for i := len(h.Entries) - 1; i >= 0; i-- {
					if e := h.Entries[i]; e.Kind == KindPromotion {
						errs = append(errs, fmt.Errorf("%w: %s/%s has no %s, but its history promoted run %s on %s", ErrIntegrity, s, k, PointerFile, e.Run, e.Time.Format(time.DateOnly)))
						break
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// readResultFile reads a file of a result folder being added, refusing what is not a regular
// file (a FIFO, a device) by name.
func readResultFile(path string) ([]byte, error) {
	f, err := result.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
