package doctor

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tailgate-ci/tailgate/runner/host"
)

// DetailWidth is where WriteTable wraps the detail column, so a row fits a 120-column terminal
// or CI log.
const DetailWidth = 72

// wrapText breaks s into lines of at most width runes at spaces, splitting a longer word
// where it must.
func wrapText(s string, width int) string {
	var lines []string
	var line []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(line) > 0 && len(line)+1+len(w) > width {
			lines = append(lines, string(line))
			line = line[:0]
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		for len(line)+len(w) > width {
			n := width - len(line)
			lines = append(lines, string(append(line, w[:n]...)))
			line, w = line[:0], w[n:]
		}
		line = append(line, w...)
	}
	if len(line) > 0 {
		lines = append(lines, string(line))
	}
	return strings.Join(lines, "\n")
}

// WriteTable writes the report for a terminal or a CI log: a host header, a table of checks
// (details wrapped at DetailWidth) and the fix of each check that did not pass, failures first.
func WriteTable(w io.Writer, rep Report) error {
	h := rep.Host
	board := h.Board
	if board == "" {
		board = "unknown board"
	}
	fmt.Fprintf(w, "host    %s · %s ×%d · %s\n", board, h.CPUModel, h.CPUCount, h.Arch)
	rt := "not PREEMPT_RT"
	if h.PreemptRT {
		rt = "PREEMPT_RT"
	}
	fmt.Fprintf(w, "kernel  %s (%s)\n", h.KernelRelease, rt)
	fmt.Fprintf(w, "cpus    measured %s · root %s\n\n", host.FormatCPUList(rep.CPUs), rep.Root)

	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		// Wrapped here, not by tablewriter: its word wrap drops characters around words
		// longer than the column (sysfs paths).
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header([]string{"CHECK", "STATUS", "DETAIL"})
	for _, c := range rep.Checks {
		if err := t.Append([]string{c.ID, c.Status.String(), wrapText(c.Detail, DetailWidth)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	var fixes []Check
	for _, c := range rep.Checks {
		if c.Status != Pass {
			fixes = append(fixes, c)
		}
	}
	// Failures first: they are what stops a run.
	sort.SliceStable(fixes, func(i, j int) bool { return fixes[i].Status > fixes[j].Status })
	if len(fixes) > 0 {
		fmt.Fprintln(w, "\nfixes:")
		for _, c := range fixes {
			fmt.Fprintf(w, "  %s %s\n      %s\n", c.Status, c.ID, c.Fix)
		}
	}
	p, wn, f := rep.Counts()
	fmt.Fprintf(w, "\n%d checks: %d pass, %d warn, %d fail", len(rep.Checks), p, wn, f)
	if rep.PinsFailed() {
		fmt.Fprint(w, " · pins FAILED: `tailgate ci` stops before running")
	}
	fmt.Fprintln(w)
	return nil
}
