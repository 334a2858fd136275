// Package storeview writes the text and JSON views of a baseline store that `tailgate baseline`
// prints: the list of suites, keys and baselines (WriteList) and one stored run (WriteRun,
// WriteRunJSON), and the cell formats they share with the nightly history's table (Millis,
// ShortCommit, NewTable). It reads the store and writes; it decides nothing.
package storeview

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// NewTable starts a table with header, left as written (not upper-cased or reformatted).
func NewTable(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(header)
	return t
}

// Millis renders nanoseconds as milliseconds with three decimals, "-" for 0 (not measured).
func Millis(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", float64(ns)/1e6)
}

// ShortCommit abbreviates a commit id to 10 characters, "-" when there is none.
func ShortCommit(commit string) string {
	if len(commit) > 10 {
		return commit[:10]
	}
	if commit == "" {
		return "-"
	}
	return commit
}

// WriteList writes one row per suite and environment key of suites: the number of runs and
// the baseline with its commit, summary and promotion. An empty suites says the store is empty.
func WriteList(w io.Writer, st baseline.Store, suites []string) error {
	if len(suites) == 0 {
		fmt.Fprintf(w, "store %s is empty\n", st.Spec())
		return nil
	}
	t := NewTable(w, "SUITE", "KEY", "RUNS", "BASELINE", "COMMIT", "P50 ms", "P99 ms", "P99.9 ms", "PROMOTED", "RULE")
	for _, s := range suites {
		keys, err := st.Keys(s)
		if err != nil {
			return err
		}
		for _, k := range keys {
			row, err := listRow(st, s, k)
			if err != nil {
				return err
			}
			if err := t.Append(row); err != nil {
				return err
			}
		}
	}
	return t.Render()
}

// listRow is the list's row of suite s and key k.
func listRow(st baseline.Store, s, k string) ([]string, error) {
	runs, err := st.Runs(s, k)
	if err != nil {
		return nil, err
	}
	row := []string{s, k, fmt.Sprint(len(runs)), "-", "-", "-", "-", "-", "-", "-"}
	for _, r := range runs {
		if r.Baseline {
			row[3], row[4], row[5], row[6], row[7] = r.ID, ShortCommit(r.Git.Commit), Millis(r.Summary.P50), Millis(r.Summary.P99), Millis(r.Summary.P999)
		}
	}
	if p, err := st.Pointer(s, k); err == nil {
		row[8], row[9] = p.PromotedAt.Format("2006-01-02 15:04"), p.Rule
	} else if !errors.Is(err, baseline.ErrNoBaseline) {
		return nil, err
	}
	return row, nil
}

// WriteRunJSON writes run id of key as JSON: its meta, whether it is the baseline, and the
// baseline record ptr (nil when the suite and key have none).
func WriteRunJSON(w io.Writer, key, id string, ptr *baseline.Pointer, m *result.Meta) error {
	out := struct {
		Run      string            `json:"run"`
		Key      string            `json:"key"`
		Baseline bool              `json:"baseline"`
		Pointer  *baseline.Pointer `json:"pointer,omitempty"`
		Meta     *result.Meta      `json:"meta"`
	}{id, key, ptr != nil && ptr.Run == id, ptr, m}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteRun writes a stored run as `baseline show` does: where it is, whether and how it became
// the baseline (ptr is the suite and key's baseline record, nil when none), its provenance and
// health, its summary and its pinned environment.
func WriteRun(w io.Writer, suite, key, id string, ptr *baseline.Pointer, m *result.Meta) error {
	fmt.Fprintf(w, "suite    %s\nkey      %s\nrun      %s (verified against its manifest)\n", suite, key, id)
	if ptr != nil && ptr.Run == id {
		fmt.Fprintf(w, "baseline since %s by rule %s", ptr.PromotedAt.Format(time.RFC3339), ptr.Rule)
		if ptr.By != "" {
			fmt.Fprintf(w, ", by %s", ptr.By)
		}
		if ptr.Reason != "" {
			fmt.Fprintf(w, ", reason: %s", ptr.Reason)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "measured %s .. %s\ngit      %s %s %s", m.Start.UTC().Format(time.RFC3339), m.End.UTC().Format(time.RFC3339), m.Git.Repo, m.Git.Ref, m.Git.Commit)
	if m.Git.PR != 0 {
		fmt.Fprintf(w, " (PR #%d)", m.Git.PR)
	}
	health := "healthy"
	if !m.Health.Healthy {
		health = "UNHEALTHY: " + strings.Join(m.Health.Reasons, "; ")
	}
	fmt.Fprintf(w, "\nhealth   %s\nsamples  %d in %d intervals\n\n", health, m.Counts.Samples, m.Counts.Intervals)
	t := NewTable(w, "MIN ms", "P50 ms", "P90 ms", "P99 ms", "P99.9 ms", "P99.99 ms", "MAX ms")
	s := m.Summary
	if err := t.Append([]string{Millis(s.Min), Millis(s.P50), Millis(s.P90), Millis(s.P99), Millis(s.P999), Millis(s.P9999), Millis(s.Max)}); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\npinned environment:")
	pinned := m.Env.Pinned()
	names := make([]string, 0, len(pinned))
	for n := range pinned {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-15s %s\n", n, pinned[n])
	}
	return nil
}
