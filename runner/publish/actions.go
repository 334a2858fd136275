package publish

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxStepSummaryBytes is the Actions limit on one step's job summary (1 MiB).
const MaxStepSummaryBytes = 1 << 20

// AppendStepSummary appends md to the job summary file ($GITHUB_STEP_SUMMARY). The runner owns
// the file and reads it after the step, so it is appended to in one write and synced, not
// replaced.
func AppendStepSummary(path, md string) error {
	if len(md) > MaxStepSummaryBytes-1 {
		md = cutAtLine(md, MaxStepSummaryBytes-200) + "\n\n_… summary truncated to the 1 MiB job summary limit._"
	}
	return appendSync(path, []byte(md+"\n"))
}

func appendSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("actions file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("actions file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("actions file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("actions file %s: %w", path, err)
	}
	return nil
}

// Output is one step output.
type Output struct{ Name, Value string }

// FormatOutputs renders outputs for $GITHUB_OUTPUT. Every value uses the heredoc form with a
// random delimiter (name<<DELIM … DELIM), so a value can span lines and cannot end itself early
// and smuggle in another output; rnd supplies the randomness (crypto/rand when nil).
func FormatOutputs(outs []Output, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b strings.Builder
	for _, o := range outs {
		if o.Name == "" || strings.ContainsAny(o.Name, "=<\r\n") {
			return "", fmt.Errorf("step output name %q: must be non-empty without '=', '<' or newlines", o.Name)
		}
		var delim string
		for {
			buf := make([]byte, 16)
			if _, err := io.ReadFull(rnd, buf); err != nil {
				return "", fmt.Errorf("step output delimiter: %w", err)
			}
			delim = "ghadelimiter_" + hex.EncodeToString(buf)
			if !strings.Contains(o.Value, delim) {
				break
			}
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim)
	}
	return b.String(), nil
}

// WriteOutputs appends outputs to the $GITHUB_OUTPUT file.
func WriteOutputs(path string, outs []Output, rnd io.Reader) error {
	s, err := FormatOutputs(outs, rnd)
	if err != nil {
		return err
	}
	return appendSync(path, []byte(s))
}

// EscapeData escapes a workflow command's message (after the final ::), so that a value with a
// newline cannot start a command of its own.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a workflow command's property value (title=…), where ':' and ','
// also end the value.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Annotations are the workflow commands for the input: ::error for failing rules and for suites
// that failed without one (errors, incomparable baselines, a regression the rules do not show),
// ::warning for warning and inconclusive rules and inconclusive suites.
func Annotations(in Input) []string {
	var out []string
	add := func(level, title, msg string) {
		out = append(out, fmt.Sprintf("::%s title=%s::%s", level, EscapeProperty(title), EscapeData(msg)))
	}
	for _, s := range in.Suites {
		title := "tailgate/" + s.Name
		shown := false
		for _, r := range s.Rules {
			msg := r.Rule
			if r.Change != "" {
				msg += ": " + r.Change
			} else if r.Candidate != "" {
				msg += ": " + r.Candidate
			}
			if r.Note != "" {
				msg += " (" + r.Note + ")"
			}
			switch strings.ToLower(r.Verdict) {
			case RuleFail:
				add("error", title, "rule failed: "+msg)
				shown = true
			case RuleWarn:
				add("warning", title, "rule warned: "+msg)
				shown = true
			case RuleInconclusive:
				add("warning", title, "rule inconclusive: "+msg)
				shown = true
			}
		}
		if shown {
			continue
		}
		msg := s.Headline
		if s.Reason != "" {
			msg = strings.TrimPrefix(msg+": "+s.Reason, ": ")
		}
		switch s.verdict() {
		case VerdictRegression, VerdictError, VerdictIncomparable:
			add("error", title, s.verdict()+": "+msg)
		case VerdictInconclusive:
			add("warning", title, "inconclusive: "+msg)
		}
	}
	return out
}
