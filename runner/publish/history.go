package publish

import "github.com/tailgate-ci/tailgate/baseline"

// HistoryPoints turns a suite's nightly history (oldest first) into the points its chart shows:
// the last MaxHistoryNights nights, labelled by date and commit.
func HistoryPoints(nights []baseline.HistoryEntry) []HistoryPoint {
	if len(nights) > MaxHistoryNights {
		nights = nights[len(nights)-MaxHistoryNights:]
	}
	out := make([]HistoryPoint, 0, len(nights))
	for _, e := range nights {
		label := e.Time.UTC().Format("01-02")
		if len(e.Commit) >= 7 {
			label += " " + e.Commit[:7]
		}
		out = append(out, HistoryPoint{Label: label, P99ms: float64(e.P99) / 1e6, P999ms: float64(e.P999) / 1e6})
	}
	return out
}
