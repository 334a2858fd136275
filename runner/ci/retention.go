package ci

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// PruneWork removes run folders from work, oldest first, until at most keep remain besides
// the folders in inUse (this job's). Only folders that hold a checkpoint (or are a folder
// moved aside by the pipeline) are touched: anything else in work is not tailgate's to delete.
// It returns the removed folders.
func PruneWork(work string, keep int, inUse []string) ([]string, error) {
	ents, err := os.ReadDir(work)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	type folder struct {
		path string
		mod  time.Time
	}
	var old []folder
	for _, e := range ents {
		path := filepath.Join(work, e.Name())
		if !e.IsDir() || slices.Contains(inUse, path) {
			continue
		}
		info, err := os.Stat(filepath.Join(path, StateFile))
		if err != nil {
			continue
		}
		old = append(old, folder{path, info.ModTime()})
	}
	if len(old) <= keep {
		return nil, nil
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod.After(old[j].mod) })
	var removed []string
	var errs []error
	for _, f := range old[keep:] {
		if err := os.RemoveAll(f.path); err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", f.path, err))
			continue
		}
		removed = append(removed, f.path)
	}
	return removed, errors.Join(errs...)
}
