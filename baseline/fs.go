package baseline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fsStore is the access of a store in a local folder. Writers hold an exclusive flock on the
// folder's lock file and readers a shared one, so concurrent runners on one board serialize
// their changes.
type fsStore struct {
	t *tree
}

func openFS(spec Spec, opt Options) (Store, error) {
	root, err := filepath.Abs(spec.Path)
	if err != nil {
		return nil, err
	}
	t := &tree{root: root, warn: opt.Warn, now: opt.Now}
	if _, err := t.checkMarker(); err != nil {
		return nil, err
	}
	return &store{spec: spec, t: t, acc: &fsStore{t: t}}, nil
}

// flock takes a lock on path (creating it), returning the function that releases it.
func flock(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the descriptor releases the flock
}

// lock takes the store's lock; a reader of a store that does not exist yet takes none.
func (s *fsStore) lock(write bool) (func(), error) {
	if !write {
		if _, err := os.Stat(s.t.root); errors.Is(err, os.ErrNotExist) {
			return func() {}, nil
		}
		return flock(filepath.Join(s.t.root, LockFile), unix.LOCK_SH)
	}
	if err := mkdirAllSync(s.t.root); err != nil {
		return nil, err
	}
	unlock, err := flock(filepath.Join(s.t.root, LockFile), unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	s.t.cleanup()
	return unlock, nil
}

func (s *fsStore) read(fn func() error) error {
	unlock, err := s.lock(false)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

func (s *fsStore) write(_ string, fn func() error) error {
	unlock, err := s.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}
