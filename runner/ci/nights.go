package ci

import (
	"errors"
	"math"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/stats"
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
		nights[i] = history.Night{Time: n.Time, Commit: n.Commit, P50: n.P50, P99: n.P99, P999: n.P999, Gated: n.Gated, Verdict: n.Verdict}
	}
	return entries, nights, h.Warnings, nil
}

// Bounds of the nightly history BetweenRun estimates from.
const (
	// BetweenRunNights is how many of the newest nights the estimate reads.
	BetweenRunNights = 60
	// BetweenRunMinNights is the fewest nights, after the last change point, it needs.
	BetweenRunMinNights = 5
)

// BetweenRun estimates σ per metric (p50, p99, p99.9): the run-to-run standard deviation of the
// metric's logarithm that no within-run interval sees (process offsets, thermal state, drift
// slower than a run), from the nightly history of suite and key. It reads the newest
// BetweenRunNights nights, keeps those after the metric's last change point (a real change is
// not noise), and needs BetweenRunMinNights of them; a metric without enough has no entry. The
// gate adds it to a ratio's variance when two separate runs are compared.
func BetweenRun(st baseline.Store, suite, key string) (map[string]float64, error) {
	_, nights, _, err := Nights(st, suite, key, BetweenRunNights)
	if err != nil || len(nights) < BetweenRunMinNights {
		return nil, err
	}
	changes, err := history.Changes(nights, changepoint.Options{})
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range history.MetricsOf(nights) {
		from := 0
		for _, c := range changes {
			if c.Metric == m.Name {
				from = max(from, c.Night)
			}
		}
		var logs []float64
		for _, n := range nights[from:] {
			if v := m.Get(n); v > 0 {
				logs = append(logs, math.Log(float64(v)))
			}
		}
		if len(logs) < BetweenRunMinNights {
			continue
		}
		if sd := stats.BetweenRunSD(logs); sd > 0 && !math.IsNaN(sd) {
			out[m.Name] = sd
		}
	}
	return out, nil
}
