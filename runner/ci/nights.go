package ci

import (
	"errors"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/gate/history"
)

// Nights reads the newest last nights (all with 0) of suite and key from st's history, as stored
// and as the change analysis reads them, with the history's warnings. A suite and key without
// history has no nights, which is not an error.
func Nights(st baseline.Store, suite, key string, last int) ([]baseline.HistoryEntry, []history.Night, []string, error) {
	h, err := st.History(suite, key)
	if errors.Is(err, baseline.ErrNotFound) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	entries := h.Nightly()
	if last > 0 && len(entries) > last {
		entries = entries[len(entries)-last:]
	}
	nights := make([]history.Night, len(entries))
	for i, n := range entries {
		nights[i] = history.Night{Time: n.Time, Commit: n.Commit, P50: n.P50, P99: n.P99, P999: n.P999, Verdict: n.Verdict}
	}
	return entries, nights, h.Warnings, nil
}
