package publish_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/runner/publish"
)

// seeded is a deterministic randomness source for delimiters.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded() seeded { return seeded{rand.NewChaCha8([32]byte{1})} }

func TestFormatOutputs(t *testing.T) {
	outs := []publish.Output{{"verdict", "regression"}, {"exit-code", "1"}, {"report", "line 1\nline 2\nexit-code<<EOF\n"}}
	got, err := publish.FormatOutputs(outs, newSeeded())
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "outputs.txt", got)
	// Parse it back the way the runner does: name<<DELIM, lines, DELIM.
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	parsed := map[string]string{}
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("line %d %q is not a heredoc start", i+1, lines[i])
		}
		var val []string
		for i++; lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		parsed[name] = strings.Join(val, "\n")
	}
	for _, o := range outs {
		if parsed[o.Name] != o.Value {
			t.Errorf("output %s read back as %q, want %q", o.Name, parsed[o.Name], o.Value)
		}
	}
	if len(parsed) != len(outs) {
		t.Errorf("read back %d outputs, want %d: a value smuggled one in", len(parsed), len(outs))
	}
}

func TestFormatOutputsAvoidsDelimiterInValue(t *testing.T) {
	// The first delimiter the seeded source draws is put in the value: a second one must be drawn.
	first, err := publish.FormatOutputs([]publish.Output{{"x", ""}}, newSeeded())
	if err != nil {
		t.Fatal(err)
	}
	delim := strings.TrimPrefix(strings.SplitN(first, "\n", 2)[0], "x<<")
	got, err := publish.FormatOutputs([]publish.Output{{"x", "a\n" + delim + "\nb"}}, newSeeded())
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(got, "x<<"+delim+"\n") {
		t.Fatalf("delimiter found in the value was used:\n%s", got)
	}
}

func TestFormatOutputsRejectsBadNames(t *testing.T) {
	for _, n := range []string{"", "a=b", "a\nb", "x<<y"} {
		if _, err := publish.FormatOutputs([]publish.Output{{n, "v"}}, newSeeded()); err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
}

func TestWriteOutputsAndSummaryAppend(t *testing.T) {
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	if err := os.WriteFile(out, []byte("earlier=step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := publish.WriteOutputs(out, []publish.Output{{"verdict", "pass"}}, newSeeded()); err != nil {
		t.Fatal(err)
	}
	for _, md := range []string{"# one", "# two"} {
		if err := publish.AppendStepSummary(sum, md); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(b), "earlier=step\nverdict<<ghadelimiter_") {
		t.Errorf("output file:\n%s", b)
	}
	b, _ = os.ReadFile(sum)
	if string(b) != "# one\n# two\n" {
		t.Errorf("summary file %q", b)
	}
	if err := publish.AppendStepSummary(filepath.Join(dir, "missing", "summary"), "x"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unwritable summary: error %v", err)
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"50% slower", "50%25 slower", "50%25 slower"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"x\n::set-output name=a::b", "x%0A::set-output name=a::b", "x%0A%3A%3Aset-output name=a%3A%3Ab"},
		{"tailgate/a,b:c", "tailgate/a,b:c", "tailgate/a%2Cb%3Ac"},
		{"%0A", "%250A", "%250A"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := publish.EscapeData(tc.in); got != tc.data {
				t.Errorf("EscapeData = %q, want %q", got, tc.data)
			}
			if got := publish.EscapeProperty(tc.in); got != tc.prop {
				t.Errorf("EscapeProperty = %q, want %q", got, tc.prop)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	in := sampleInput()
	in.Suites = append(in.Suites,
		publish.Suite{Name: "npu", Verdict: "incomparable", Reason: "kernel pin differs"},
		publish.Suite{Name: "asr", Verdict: "inconclusive", Headline: "p99.9 needs 4,603 samples, has 900"},
		publish.Suite{Name: "evil", Verdict: "regression", Rules: []publish.RuleLine{{Rule: "p99 < +5%", Verdict: "fail", Change: "+50%\n::error::injected"}}},
	)
	got := strings.Join(publish.Annotations(in), "\n") + "\n"
	goldenFile(t, "annotations.txt", got)
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		if !strings.HasPrefix(l, "::error title=tailgate/") && !strings.HasPrefix(l, "::warning title=tailgate/") {
			t.Errorf("line %q is not an annotation", l)
		}
	}
	if bytes.Count([]byte(got), []byte("\n")) != 6 {
		t.Errorf("want 6 annotations (fail, warn, inconclusive rules; incomparable; inconclusive; injected fail), got:\n%s", got)
	}
}
