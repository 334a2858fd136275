package baseline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// ResolveKey picks the environment key of suite: key when given (and valid), else the suite's
// only key. A suite stored on several environments needs key.
func ResolveKey(st Store, suite, key string) (string, error) {
	if key != "" {
		return key, ValidateName("key", key)
	}
	keys, err := st.Keys(suite)
	if err != nil {
		return "", err
	}
	switch len(keys) {
	case 0:
		return "", fmt.Errorf("store %s has no runs of suite %s: %w", st.Spec(), suite, ErrNotFound)
	case 1:
		return keys[0], nil
	}
	return "", fmt.Errorf("suite %s has runs on %d environments (%s): pick one with --key", suite, len(keys), strings.Join(keys, ", "))
}

// LatestRun returns the id of the newest stored run of suite and key.
func LatestRun(st Store, suite, key string) (string, error) {
	runs, err := st.Runs(suite, key)
	if err != nil {
		return "", err
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("suite %s key %s has no runs: %w", suite, key, ErrNotFound)
	}
	return runs[len(runs)-1].ID, nil
}

// OpenRunRef opens run id of suite and key for streaming (Store.OpenRun), "latest" being the
// newest run and "" the baseline, with the suite and key's baseline record (nil when there is
// no baseline). The caller closes the run.
func OpenRunRef(st Store, suite, key, id string) (*RunReader, *Pointer, error) {
	ptr, err := st.Pointer(suite, key)
	if err != nil && !errors.Is(err, ErrNoBaseline) {
		return nil, nil, err
	}
	var r *RunReader
	switch {
	case id == "latest":
		if id, err = LatestRun(st, suite, key); err != nil {
			return nil, nil, err
		}
		r, err = st.OpenRun(suite, key, id)
	case id != "":
		r, err = st.OpenRun(suite, key, id)
	case ptr == nil:
		return nil, nil, fmt.Errorf("suite %s key %s: %w (name a run to show one)", suite, key, ErrNoBaseline)
	default:
		r, err = st.OpenBaseline(suite, key)
	}
	if err != nil {
		return nil, nil, err
	}
	return r, ptr, nil
}

// NoBaselineError says a store has no baseline of a suite for an environment key, and which
// baseline of the suite is nearest (nil when the suite has none on any environment). It wraps
// ErrNoBaseline.
type NoBaselineError struct {
	Spec    Spec
	Suite   string
	Key     string
	Nearest *Nearest
}

func (e *NoBaselineError) Error() string {
	if e.Nearest == nil {
		return fmt.Sprintf("store %s has no baseline for suite %s on any environment (this run's key is %s); promote one with `tailgate baseline promote`", e.Spec, e.Suite, e.Key)
	}
	return fmt.Sprintf("store %s has no baseline for suite %s on this environment (key %s); %s", e.Spec, e.Suite, e.Key, e.Nearest.Describe())
}

func (e *NoBaselineError) Unwrap() error { return ErrNoBaseline }

// OpenBaselineFor opens the baseline of suite for the environment fp for streaming
// (Store.OpenBaseline). When there is none the error is a *NoBaselineError naming the nearest
// baseline of the suite and the pinned fields that differ, so that an incomparable run says what
// it could have been compared with.
func OpenBaselineFor(st Store, suite string, fp result.Fingerprint) (*RunReader, error) {
	key := fp.Key()
	r, err := st.OpenBaseline(suite, key)
	if err == nil || !errors.Is(err, ErrNoBaseline) {
		return r, err
	}
	near, err := FindNearest(st, suite, fp)
	if errors.Is(err, ErrNoBaseline) {
		return nil, &NoBaselineError{Spec: st.Spec(), Suite: suite, Key: key}
	}
	if err != nil {
		return nil, err
	}
	return nil, &NoBaselineError{Spec: st.Spec(), Suite: suite, Key: key, Nearest: near}
}

// Verdicts are the verdicts a caller may record with a night or a promotion.
var Verdicts = []string{"pass", "fail", "inconclusive", "incomparable"}

// CheckVerdict accepts "" (no verdict) and the Verdicts.
func CheckVerdict(v string) error {
	if v == "" {
		return nil
	}
	for _, ok := range Verdicts {
		if v == ok {
			return nil
		}
	}
	return fmt.Errorf("verdict %q: want one of %s", v, strings.Join(Verdicts, ", "))
}

// RecordNight records the stored run ri in the history as a night with verdict, against the
// suite and key's current baseline (none when there is no baseline yet).
func RecordNight(st Store, ri RunInfo, verdict string) error {
	r, err := st.OpenRun(ri.Suite, ri.Key, ri.ID)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Verify(); err != nil {
		return err
	}
	base := ""
	if p, err := st.Pointer(ri.Suite, ri.Key); err == nil {
		base = p.Run
	} else if !errors.Is(err, ErrNoBaseline) {
		return err
	}
	return st.Append(NightlyEntry(r.Meta, ri.ID, base, verdict, r.Meta.End))
}

// PromoteDir stores the result folder dir and promotes it: p names no run, dir does.
func PromoteDir(st Store, dir string, p Promotion) (HistoryEntry, error) {
	ri, err := st.Add(dir)
	if err != nil {
		return HistoryEntry{}, err
	}
	p.Suite, p.Key, p.Run = ri.Suite, ri.Key, ri.ID
	return st.Promote(p)
}

// PromoteRun promotes a stored run of p.Suite: p.Key may be empty (the suite's only key, as
// ResolveKey) and p.Run "latest" (the newest run).
func PromoteRun(st Store, p Promotion) (HistoryEntry, error) {
	var err error
	if p.Key, err = ResolveKey(st, p.Suite, p.Key); err != nil {
		return HistoryEntry{}, err
	}
	if p.Run == "latest" {
		if p.Run, err = LatestRun(st, p.Suite, p.Key); err != nil {
			return HistoryEntry{}, err
		}
	}
	return st.Promote(p)
}

// RunRef names one stored run.
type RunRef struct{ Suite, Key, ID string }

func (r RunRef) String() string { return r.Suite + "/" + r.Key + "/" + r.ID }

// PruneSuites prunes every key of each of suites (only key when it is given) down to the newest
// keep runs and every baseline, as Store.Prune. It returns the runs removed, also those removed
// before an error.
func PruneSuites(st Store, suites []string, key string, keep int) ([]RunRef, error) {
	var removed []RunRef
	for _, s := range suites {
		keys := []string{key}
		if key == "" {
			var err error
			if keys, err = st.Keys(s); err != nil {
				return removed, err
			}
		}
		for _, k := range keys {
			ids, err := st.Prune(s, k, keep)
			for _, id := range ids {
				removed = append(removed, RunRef{s, k, id})
			}
			if err != nil {
				return removed, err
			}
		}
	}
	return removed, nil
}
