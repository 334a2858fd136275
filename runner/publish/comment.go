package publish

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/gate"
)

// MaxCommentBytes is GitHub's limit on an issue comment body (65,536 characters). Bodies are
// measured in bytes, never fewer than characters, so a body under it is always accepted.
const MaxCommentBytes = 65536

// MaxHistoryNights is how many nights the comment's history chart shows.
const MaxHistoryNights = 30

// Marker is the hidden HTML comment that identifies the config's PR comment.
func Marker(config string) string { return "<!-- tailgate:" + config + " -->" }

// RenderOptions tune the comment body.
type RenderOptions struct {
	// SHA is the commit the comment speaks for; it is shown shortened in the footer.
	SHA string
	// Limit is the largest body in bytes; zero means MaxCommentBytes.
	Limit int
}

var verdictIcon = map[string]string{
	VerdictPass:         "✅",
	VerdictRegression:   "❌",
	VerdictInconclusive: "⚠️",
	VerdictIncomparable: "⛔",
	VerdictError:        "💥",
}

var ruleIcon = map[string]string{
	RulePass:         "✅ pass",
	RuleFail:         "❌ fail",
	RuleWarn:         "⚠️ warn",
	RuleInconclusive: "❔ inconclusive",
	RuleSkip:         "➖ skip",
}

func verdictLabel(v string) string { v = normVerdict(v); return verdictIcon[v] + " " + v }

// RenderComment builds the PR comment for in: the marker, the verdict per suite, each suite's
// rule table, environment changes, sample counts and history chart, the gate's full report
// folded away, and links to the run. A body over the limit loses the gate's report first, then
// the charts, then rule rows, and says so; the verdicts are always kept.
func RenderComment(in Input, opt RenderOptions) string {
	limit := opt.Limit
	if limit <= 0 {
		limit = MaxCommentBytes
	}
	head := renderHead(in)
	foot := renderFoot(in, opt.SHA)
	full := func(charts bool, maxRows int, details []string) string {
		var b strings.Builder
		b.WriteString(head)
		for i, s := range in.Suites {
			b.WriteString(renderSuite(s, charts, maxRows))
			if details != nil && details[i] != "" {
				b.WriteString(details[i])
			}
		}
		if !charts {
			b.WriteString("\n_The gate's full reports and history charts are left out to stay under GitHub's comment size limit; they are in the run's artifacts._\n")
		}
		b.WriteString(foot)
		return b.String()
	}
	details := make([]string, len(in.Suites))
	for i, s := range in.Suites {
		details[i] = renderDetails(s.Markdown, -1)
	}
	if body := full(true, -1, details); len(body) <= limit {
		return body
	}
	// Share what is left after the fixed part evenly between the suites that have a report.
	fixed := len(full(true, -1, nil))
	withReport := 0
	for _, s := range in.Suites {
		if strings.TrimSpace(s.Markdown) != "" {
			withReport++
		}
	}
	if room := limit - fixed; room > 0 && withReport > 0 {
		share := room / withReport
		for i, s := range in.Suites {
			details[i] = renderDetails(s.Markdown, share)
		}
		if body := full(true, -1, details); len(body) <= limit {
			return body
		}
	}
	if body := full(false, -1, nil); len(body) <= limit {
		return body
	}
	for rows := 50; rows >= 0; rows -= 10 {
		if body := full(false, rows, nil); len(body) <= limit {
			return body
		}
	}
	// Only the head and foot are left; they are bounded by the number of suites, so this is
	// reached by thousands of suites alone: cut at a line and say so.
	body := full(false, 0, nil)
	note := "\n\n_… comment truncated to GitHub's size limit; the full report is in the run's artifacts._\n"
	cut := cutAtLine(body, limit-len(note))
	return cut + note
}

func renderHead(in Input) string {
	var b strings.Builder
	b.WriteString(Marker(in.Config) + "\n")
	fmt.Fprintf(&b, "## tailgate · %s: %s\n\n", in.Config, verdictLabel(in.Verdict()))
	b.WriteString("| suite | verdict | headline | samples (baseline → candidate) |\n|---|---|---|---|\n")
	for _, s := range in.Suites {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(s.Name), verdictLabel(s.Verdict), cell(s.Headline), samples(s))
	}
	return b.String()
}

func samples(s Suite) string {
	if s.BaselineSamples == 0 && s.CandidateSamples == 0 {
		return "–"
	}
	return gate.GroupDigits(s.BaselineSamples) + " → " + gate.GroupDigits(s.CandidateSamples)
}

func renderSuite(s Suite, charts bool, maxRows int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### %s — %s\n\n", s.Name, verdictLabel(s.Verdict))
	if s.Headline != "" {
		fmt.Fprintf(&b, "**%s**\n\n", oneLine(s.Headline))
	}
	if s.Reason != "" {
		fmt.Fprintf(&b, "%s\n\n", oneLine(s.Reason))
	}
	if len(s.Rules) > 0 {
		b.WriteString("| rule | verdict | baseline | candidate | change [interval] | note |\n|---|---|---|---|---|---|\n")
		rows := s.Rules
		if maxRows >= 0 && len(rows) > maxRows {
			rows = worstRules(rows, maxRows)
		}
		for _, r := range rows {
			icon, ok := ruleIcon[strings.ToLower(r.Verdict)]
			if !ok {
				icon = cell(r.Verdict)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", strings.ReplaceAll(oneLine(r.Rule), "`", "'"), icon,
				cell(r.Baseline), cell(r.Candidate), cell(r.Change), cell(r.Note))
		}
		if len(rows) < len(s.Rules) {
			fmt.Fprintf(&b, "\n_%d of %d rules shown (failing first) to stay under GitHub's comment size limit._\n", len(rows), len(s.Rules))
		}
		b.WriteString("\n")
	}
	if len(s.EnvChanges) > 0 {
		b.WriteString("**Environment changed:**\n")
		for _, c := range s.EnvChanges {
			fmt.Fprintf(&b, "- %s\n", oneLine(c))
		}
		b.WriteString("\n")
	}
	if charts {
		b.WriteString(renderHistory(s))
	}
	if s.Dashboard != "" {
		fmt.Fprintf(&b, "[%s on the nightly dashboard](%s)\n\n", cell(s.Name), s.Dashboard)
	}
	return b.String()
}

// worstRules keeps up to n rules, failing ones first, in their original order within a rank.
func worstRules(rules []RuleLine, n int) []RuleLine {
	rank := map[string]int{RuleFail: 0, RuleWarn: 1, RuleInconclusive: 2}
	out := make([]RuleLine, 0, n)
	for r := 0; r <= 3 && len(out) < n; r++ {
		for _, l := range rules {
			lr, ok := rank[strings.ToLower(l.Verdict)]
			if !ok {
				lr = 3
			}
			if lr == r && len(out) < n {
				out = append(out, l)
			}
		}
	}
	return out
}

// renderHistory draws the last nights' p99 and p99.9 as a mermaid xychart, which GitHub renders
// in comments; one night is not a trend, so it needs two.
func renderHistory(s Suite) string {
	h := s.History
	if len(h) > MaxHistoryNights {
		h = h[len(h)-MaxHistoryNights:]
	}
	if len(h) < 2 {
		return ""
	}
	labels := make([]string, len(h))
	p99 := make([]string, len(h))
	p999 := make([]string, len(h))
	for i, p := range h {
		labels[i] = strconv.Quote(strings.ReplaceAll(oneLine(p.Label), `"`, "'"))
		p99[i] = strconv.FormatFloat(p.P99ms, 'g', 6, 64)
		p999[i] = strconv.FormatFloat(p.P999ms, 'g', 6, 64)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary>Nightly history: last %d nights (p99, p99.9)</summary>\n\n", len(h))
	b.WriteString("```mermaid\nxychart-beta\n")
	fmt.Fprintf(&b, "    title \"%s: p99 and p99.9 per night\"\n", strings.ReplaceAll(s.Name, `"`, "'"))
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	b.WriteString("    y-axis \"latency (ms)\"\n")
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(p99, ", "))
	fmt.Fprintf(&b, "    line [%s]\n", strings.Join(p999, ", "))
	b.WriteString("```\n\nLower line p99, upper line p99.9.\n\n</details>\n")
	return b.String()
}

// renderDetails folds the gate's report away; max < 0 keeps all of it, otherwise the whole
// section, note included, stays within max bytes (and is dropped when even the note is too big).
func renderDetails(md string, max int) string {
	md = strings.TrimSpace(md)
	if md == "" {
		return ""
	}
	const open, close = "<details><summary>Full report</summary>\n\n", "\n\n</details>\n"
	whole := open + md + close
	if max < 0 || len(whole) <= max {
		return whole
	}
	note := fmt.Sprintf("\n\n_… report truncated (%s of %s bytes shown) to stay under GitHub's comment size limit; the full report is in the run's artifacts._", "%d", gate.GroupDigits(int64(len(md))))
	room := max - len(open) - len(close) - len(note) - 16
	if room <= 0 {
		return ""
	}
	cut := cutAtLine(md, room)
	if strings.Count(cut, "```")%2 == 1 {
		cut += "\n```"
	}
	return open + cut + fmt.Sprintf(note, len(cut)) + close
}

// cutAtLine returns the longest prefix of s within max bytes that ends at a line break (or at a
// rune boundary when the first line alone is too long).
func cutAtLine(s string, max int) string {
	if len(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	cut := s[:max]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		return cut[:i]
	}
	for max > 0 && !isRuneStart(s[max]) {
		max--
	}
	return s[:max]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func renderFoot(in Input, sha string) string {
	var links []string
	if in.RunURL != "" {
		links = append(links, "[run]("+in.RunURL+")")
	}
	if in.ArtifactsURL != "" {
		links = append(links, "[artifacts]("+in.ArtifactsURL+")")
	}
	var b strings.Builder
	b.WriteString("\n---\n")
	if len(links) > 0 {
		b.WriteString(strings.Join(links, " · ") + " · ")
	}
	b.WriteString("<sub>tailgate")
	if sha != "" {
		short := sha
		if len(short) > 12 {
			short = short[:12]
		}
		fmt.Fprintf(&b, " for `%s`", cell(short))
	}
	b.WriteString("; this comment is edited in place on every run.</sub>\n")
	return b.String()
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = oneLine(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	if s == "" {
		return "–"
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
