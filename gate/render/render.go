// Package render turns a gate.Report into what people and machines read: a terminal table, the
// Markdown of a PR comment or job summary (kept under GitHub's 65,536-character limit), and
// JSON. It decides nothing (package gate does) and posts nothing (the GitHub publisher does).
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/tailgate-ci/tailgate/gate"
)

// Format names an output format.
type Format string

// Formats, as --format spells them.
const (
	FormatTable    Format = "table"
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
)

// DefaultFormat is the format when none is asked for.
const DefaultFormat = FormatTable

// Formats lists the supported formats for usage messages.
var Formats = []Format{FormatTable, FormatMarkdown, FormatJSON}

// Write renders rep in format f to w.
func Write(w io.Writer, f Format, rep *gate.Report) error {
	switch f {
	case FormatTable:
		return Table(w, rep)
	case FormatMarkdown:
		_, err := io.WriteString(w, Markdown(rep, MarkdownLimit))
		return err
	case FormatJSON:
		return JSON(w, rep)
	}
	return fmt.Errorf("unknown format %q (want table, markdown or json)", f)
}

// JSON writes the report as indented JSON with a trailing newline.
func JSON(w io.Writer, rep *gate.Report) error {
	// Rules are full of "<"; HTML escaping would make the JSON unreadable for no gain.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// header is the column set shared by the table and the Markdown.
var header = []string{"rule", "baseline", "candidate", "Δ", "interval of Δ", "limit", "verdict"}

// cells renders one row's columns.
func cells(r gate.RuleResult) []string {
	val := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return gate.FormatValue(*p, r.Unit)
	}
	delta, interval := "–", "–"
	switch {
	case r.Ratio != nil:
		// A run too short for its autocorrelation has a ratio but no interval.
		delta = gate.FormatRatio(*r.Ratio)
		if r.RatioLo != nil && r.RatioHi != nil {
			interval = "[" + gate.FormatRatio(*r.RatioLo) + ", " + gate.FormatRatio(*r.RatioHi) + "]"
		}
	case r.Baseline != nil && r.Candidate != nil && r.Unit == "share":
		// A change of a share is in percentage points: a ratio of two small shares misleads.
		delta = fmt.Sprintf("%+.3g pp", (*r.Candidate-*r.Baseline)*100)
	case r.Baseline != nil && r.Candidate != nil && *r.Baseline > 0:
		delta = gate.FormatRatio(*r.Candidate / *r.Baseline)
	}
	rule := r.Rule
	return []string{rule, val(r.Baseline), val(r.Candidate), delta, interval, r.Limit, verdictText(r)}
}

// reason is the row's reason with what else shaped its interval: the between-run variance.
func reason(r gate.RuleResult) string {
	if r.BetweenRunSD > 0 {
		return fmt.Sprintf("%s (interval includes a between-run SD of %.2g%% per run)", r.Reason, r.BetweenRunSD*100)
	}
	return r.Reason
}

func verdictText(r gate.RuleResult) string {
	v := string(r.Verdict)
	if r.Warn && r.Verdict != gate.RuleWarn {
		v += " (warn rule)"
	}
	return v
}

// Table writes the terminal rendering: the headline, the rule table, each rule's reason and the
// notes.
func Table(w io.Writer, rep *gate.Report) error {
	if _, err := fmt.Fprintf(w, "%s\n\n", rep.Headline); err != nil {
		return err
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}}),
	)
	t.Header(header)
	for _, r := range rep.Rules {
		if err := t.Append(cells(r)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, r := range rep.Rules {
		fmt.Fprintf(&b, "%s  (%s)\n    %s\n", r.Rule, r.Source, reason(r))
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	fmt.Fprintf(&b, "verdict: %s, exit %d", rep.Verdict, rep.ExitCode)
	if rep.Verdict == gate.VerdictInconclusive {
		fmt.Fprintf(&b, " (--inconclusive=%s)", rep.Policy)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// rate renders a sample rate.
func rate(r float64) string {
	if r <= 0 || math.IsNaN(r) {
		return "–"
	}
	return fmt.Sprintf("%.4g/s", r)
}
