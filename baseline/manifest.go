package baseline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// File names a store writes.
const (
	// MarkerFile sits at the root of every store and names its format version.
	MarkerFile = "tailgate-store.json"
	// ManifestFile sits in every stored run and records each file's size and SHA-256.
	ManifestFile = "manifest.json"
	// PointerFile names the baseline of a suite and key.
	PointerFile = "baseline.json"
	// HistoryFile is the append-only history (JSON lines) of a suite and key.
	HistoryFile = "history.jsonl"
	// LockFile is the flock target of a folder store; it is never committed to a git store.
	LockFile  = ".lock"
	suitesDir = "suites"
	runsDir   = "runs"
)

// StoreVersion is the layout version written in MarkerFile.
const StoreVersion = 1

type marker struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// Manifest records every file of a stored run.
type Manifest struct {
	Version int         `json:"version"`
	Suite   string      `json:"suite"`
	Key     string      `json:"key"`
	Run     string      `json:"run"`
	Files   []FileEntry `json:"files"`
}

// FileEntry is one file of a stored run.
type FileEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Pointer is baseline.json: which run is the baseline of a suite and key, and how it got there.
type Pointer struct {
	Version int    `json:"version"`
	Suite   string `json:"suite"`
	Key     string `json:"key"`
	Run     string `json:"run"`
	// ManifestSHA256 pins the run's manifest, so swapping a run's files and manifest together
	// still does not pass as the baseline.
	ManifestSHA256 string    `json:"manifest_sha256"`
	Commit         string    `json:"commit,omitempty"`
	Ref            string    `json:"ref,omitempty"`
	PromotedAt     time.Time `json:"promoted_at"`
	Rule           string    `json:"rule"`
	By             string    `json:"by,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	// Ever lists every run that has been the baseline, oldest first; prune keeps them all.
	Ever []string `json:"ever"`
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func encodeJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func decodeStrict(name string, b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data after the JSON value", name)
	}
	return nil
}

func parseManifest(name string, b []byte) (*Manifest, error) {
	var m Manifest
	if err := decodeStrict(name, b, &m); err != nil {
		return nil, err
	}
	var errs []error
	if m.Version != StoreVersion {
		errs = append(errs, fmt.Errorf("version %d not supported", m.Version))
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := ValidateName("file", f.Name); err != nil || f.Name == ManifestFile {
			errs = append(errs, fmt.Errorf("bad file name %q", f.Name))
		}
		if seen[f.Name] {
			errs = append(errs, fmt.Errorf("file %q listed twice", f.Name))
		}
		seen[f.Name] = true
		if len(f.SHA256) != 64 || f.Size < 0 {
			errs = append(errs, fmt.Errorf("file %q: bad size or sha256", f.Name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
	return &m, nil
}

func parsePointer(name string, b []byte) (*Pointer, error) {
	var p Pointer
	if err := decodeStrict(name, b, &p); err != nil {
		return nil, err
	}
	var errs []error
	if p.Version != StoreVersion {
		errs = append(errs, fmt.Errorf("version %d not supported", p.Version))
	}
	errs = append(errs, validateNames(p.Suite, p.Key, p.Run)...)
	for _, id := range p.Ever {
		if err := ValidateName("run", id); err != nil {
			errs = append(errs, err)
		}
	}
	if len(p.ManifestSHA256) != 64 {
		errs = append(errs, fmt.Errorf("manifest_sha256 %q is not a SHA-256", p.ManifestSHA256))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	return &p, nil
}
