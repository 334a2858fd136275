package render

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
)

// MarkdownLimit is GitHub's limit on a comment body, in characters. The publisher adds a hidden
// marker of its own, so Markdown keeps MarkdownReserve characters free below it.
const (
	MarkdownLimit   = 65536
	MarkdownReserve = 512
)

var verdictIcon = map[gate.Verdict]string{
	gate.VerdictPass:         "✅",
	gate.VerdictRegression:   "❌",
	gate.VerdictInconclusive: "⚠️",
	gate.VerdictIncomparable: "⛔",
	gate.VerdictError:        "💥",
}

// Markdown renders the report for a PR comment or job summary: the headline verdict, the rule
// table, notes, and collapsible details (reasons, sample counts, environment, calibration). The
// result is at most limit-MarkdownReserve characters: when it would be longer the details go
// first, then table rows, and the text says what was cut.
func Markdown(rep *gate.Report, limit int) string {
	budget := limit - MarkdownReserve
	head := mdHead(rep)
	rows := make([]string, len(rep.Rules))
	for i, r := range rep.Rules {
		rows[i] = mdRow(cells(r))
	}
	tail := mdTail(rep)
	details := []string{mdReasons(rep), mdSides(rep)}
	const cut = "\n_Details were cut to stay under GitHub's 65,536-character limit; `--format json` has the full report._\n"
	build := func(rows []string, details []string, note string) string {
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(mdRow(header))
		b.WriteString("|" + strings.Repeat("---|", len(header)) + "\n")
		for _, r := range rows {
			b.WriteString(r)
		}
		b.WriteString(note)
		b.WriteString(tail)
		for _, d := range details {
			b.WriteString(d)
		}
		b.WriteString(mdFooter(rep))
		return b.String()
	}
	out := build(rows, details, "")
	for len(details) > 0 && utf8.RuneCountInString(out) > budget {
		details = details[:len(details)-1]
		out = build(rows, details, cut)
	}
	for len(rows) > 0 && utf8.RuneCountInString(out) > budget {
		// Halve until it fits, then the note says how many rows are missing.
		keep := len(rows) / 2
		note := fmt.Sprintf("\n_%d of %d rules shown to stay under GitHub's 65,536-character limit; `--format json` has them all._\n", keep, len(rep.Rules))
		rows = rows[:keep]
		out = build(rows, details, note)
	}
	return out
}

func mdHead(rep *gate.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s tailgate `%s`: %s\n\n", verdictIcon[rep.Verdict], mdEscape(rep.Suite), rep.Verdict)
	fmt.Fprintf(&b, "**%s**\n\n", mdEscape(rep.Headline))
	return b.String()
}

func mdTail(rep *gate.Report) string {
	var b strings.Builder
	if len(rep.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
	}
	if len(rep.Pins.Diffs) > 0 {
		title := "Pinned fields that differ"
		if rep.Pins.Ignored {
			title += " (ignored with `--ignore-pins`)"
		}
		fmt.Fprintf(&b, "\n%s:\n\n| field | baseline | candidate |\n|---|---|---|\n", title)
		for _, d := range rep.Pins.Diffs {
			fmt.Fprintf(&b, "| %s | `%s` | `%s` |\n", d.Field, mdEscape(d.A), mdEscape(d.B))
		}
	}
	return b.String()
}

func mdReasons(rep *gate.Report) string {
	var b strings.Builder
	b.WriteString("\n<details><summary>Why each rule decided as it did</summary>\n\n")
	for _, r := range rep.Rules {
		fmt.Fprintf(&b, "- `%s` (%s): **%s**: %s\n", r.Rule, mdEscape(r.Source), r.Verdict, mdEscape(reason(r)))
	}
	if rep.DefaultRules {
		b.WriteString("\nNo thresholds were configured; these are tailgate's defaults.\n")
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// mdSides is the environment, sample counts and calibration of both runs side by side.
func mdSides(rep *gate.Report) string {
	sides := []*gate.Side{rep.Baseline, &rep.Candidate}
	line := func(b *strings.Builder, name string, f func(s *gate.Side) string) {
		fmt.Fprintf(b, "| %s |", name)
		for _, s := range sides {
			v := "–"
			if s != nil {
				v = f(s)
			}
			fmt.Fprintf(b, " %s |", mdEscape(v))
		}
		b.WriteString("\n")
	}
	var b strings.Builder
	b.WriteString("\n<details><summary>Samples, environment and calibration</summary>\n\n")
	b.WriteString("| | baseline | candidate |\n|---|---|---|\n")
	line(&b, "result", func(s *gate.Side) string { return s.Dir })
	line(&b, "suite", func(s *gate.Side) string { return s.Suite })
	if (rep.Baseline != nil && rep.Baseline.Import != nil) || rep.Candidate.Import != nil {
		line(&b, "source", imported)
	}
	line(&b, "commit", func(s *gate.Side) string { return short(s.Git.Commit) + " " + s.Git.Ref })
	line(&b, "samples", func(s *gate.Side) string { return fmt.Sprint(s.Samples) })
	line(&b, "intervals", func(s *gate.Side) string { return fmt.Sprint(s.Intervals) })
	line(&b, "rate", func(s *gate.Side) string { return rate(s.RatePerSec) })
	line(&b, "p50 / p99 / p99.9 / max", func(s *gate.Side) string {
		m := s.Summary
		return strings.Join([]string{ns(m.P50), ns(m.P99), ns(m.P999), ns(m.Max)}, " / ")
	})
	line(&b, "mean / jitter (p99/p50)", func(s *gate.Side) string {
		return gate.FormatNs(s.Summary.Mean) + fmt.Sprintf(" / %.2f×", s.Summary.Jitter())
	})
	line(&b, "health", func(s *gate.Side) string { return health(s.Health) })
	line(&b, "clock read / loop+record / timer", func(s *gate.Side) string {
		c := s.Calibration
		return gate.FormatNs(c.ClockReadNs) + " / " + gate.FormatNs(c.LoopRecordNs) + " / " + gate.FormatNs(c.TimerResolveNs)
	})
	env := func(f func(e result.Fingerprint) string) func(s *gate.Side) string {
		return func(s *gate.Side) string { return f(s.Env) }
	}
	line(&b, "board / cpu", env(func(e result.Fingerprint) string { return e.Board + " / " + e.CPUModel }))
	line(&b, "kernel", env(func(e result.Fingerprint) string {
		rt := ""
		if e.PreemptRT {
			rt = " (PREEMPT_RT)"
		}
		return e.KernelRelease + rt
	}))
	line(&b, "isolcpus / nohz_full", env(func(e result.Fingerprint) string { return dash(e.Isolcpus) + " / " + dash(e.NohzFull) }))
	line(&b, "backend / runtime", env(func(e result.Fingerprint) string {
		if e.Runtime != "" {
			return e.Backend + " / " + e.RuntimeLabel()
		}
		return e.Backend + " " + e.ORTVersion
	}))
	line(&b, "threads / cpus / sched", env(func(e result.Fingerprint) string {
		return fmt.Sprintf("%d / %v / %s", e.Threads, e.CPUs, e.Sched)
	}))
	line(&b, "model sha256", env(func(e result.Fingerprint) string { return short(e.ModelSHA256) }))
	line(&b, "environment key", func(s *gate.Side) string { return s.Env.Key() })
	line(&b, "tool", func(s *gate.Side) string { return s.Tool.Version })
	b.WriteString("\n</details>\n")
	return b.String()
}

// imported labels a side's data: measured by tailgate, or imported from which file.
func imported(s *gate.Side) string {
	i := s.Import
	if i == nil {
		return "measured by tailgate"
	}
	return fmt.Sprintf("imported from %s %s (%s, sha256 %s)", i.Format, i.File, i.Unit, short(i.SHA256))
}

func mdFooter(rep *gate.Report) string {
	return fmt.Sprintf("\n<sub>%s %s · exit %d · inconclusive policy %s · report schema %d</sub>\n",
		rep.Tool.Name, rep.Tool.Version, rep.ExitCode, rep.Policy, rep.Schema)
}

func mdRow(cells []string) string {
	var b strings.Builder
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n")
	return b.String()
}

// mdEscape keeps a value inside its table cell and out of Markdown and HTML syntax.
var mdEscaper = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'")

func mdEscape(s string) string { return mdEscaper.Replace(s) }

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func ns(v int64) string { return gate.FormatNs(float64(v)) }

func health(h result.Health) string {
	switch {
	case h.Healthy:
		return "healthy"
	case h.Overridden:
		return "unhealthy, overridden: " + strings.Join(h.Reasons, "; ")
	}
	return "unhealthy: " + strings.Join(h.Reasons, "; ")
}
