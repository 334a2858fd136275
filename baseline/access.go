package baseline

import "fmt"

// access is what differs between store kinds: how a read and a write get exclusive, current
// access to the tree. msg describes a write (a git store's commit message).
type access interface {
	read(fn func() error) error
	write(msg string, fn func() error) error
}

// store implements Store for every kind: the layout lives in tree, the kind in acc.
type store struct {
	spec Spec
	t    *tree
	acc  access
}

func readVal[T any](s *store, fn func() (T, error)) (T, error) {
	var v T
	err := s.acc.read(func() (err error) { v, err = fn(); return err })
	return v, err
}

func writeVal[T any](s *store, msg string, fn func() (T, error)) (T, error) {
	var v T
	err := s.acc.write(msg, func() (err error) { v, err = fn(); return err })
	return v, err
}

func (s *store) Spec() Spec { return s.spec }

func (s *store) Suites() ([]string, error) { return readVal(s, s.t.suites) }

func (s *store) Keys(suite string) ([]string, error) {
	return readVal(s, func() ([]string, error) { return s.t.keys(suite) })
}

func (s *store) Runs(suite, key string) ([]RunInfo, error) {
	return readVal(s, func() ([]RunInfo, error) { return s.t.runs(suite, key) })
}

func (s *store) Add(dir string) (RunInfo, error) {
	return writeVal(s, "tailgate: add a run", func() (RunInfo, error) { return s.t.add(dir) })
}

func (s *store) OpenRun(suite, key, id string) (*RunReader, error) {
	return readVal(s, func() (*RunReader, error) { return s.t.openRun(suite, key, id) })
}

func (s *store) OpenBaseline(suite, key string) (*RunReader, error) {
	return readVal(s, func() (*RunReader, error) { return s.t.openBaseline(suite, key) })
}

func (s *store) Pointer(suite, key string) (*Pointer, error) {
	return readVal(s, func() (*Pointer, error) { return s.t.pointer(suite, key) })
}

func (s *store) Promote(p Promotion) (HistoryEntry, error) {
	msg := fmt.Sprintf("tailgate: promote %s/%s run %s", p.Suite, p.Key, p.Run)
	return writeVal(s, msg, func() (HistoryEntry, error) { return s.t.promote(p) })
}

func (s *store) Append(e HistoryEntry) error {
	msg := fmt.Sprintf("tailgate: %s %s/%s %s", e.Kind, e.Suite, e.Key, e.Run)
	return s.acc.write(msg, func() error { return s.t.appendHistory(e) })
}

func (s *store) History(suite, key string) (*History, error) {
	return readVal(s, func() (*History, error) { return s.t.history(suite, key) })
}

func (s *store) Prune(suite, key string, keep int) ([]string, error) {
	msg := fmt.Sprintf("tailgate: prune %s/%s keeping %d", suite, key, keep)
	return writeVal(s, msg, func() ([]string, error) { return s.t.prune(suite, key, keep) })
}

func (s *store) Verify() error { return s.acc.read(s.t.verify) }

func (s *store) Close() error { return nil }
