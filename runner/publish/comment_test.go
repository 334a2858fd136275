package publish_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

// sampleInput is a PR gate of two suites: one regressed with a rule of each kind, one passed.
func sampleInput() publish.Input {
	rng := rand.New(rand.NewPCG(7, 7))
	var hist []publish.HistoryPoint
	for i := 0; i < 35; i++ {
		p99 := 11.5 + rng.Float64()
		hist = append(hist, publish.HistoryPoint{Label: fmt.Sprintf("11-%02d", i%30+1), P99ms: float64(int(p99*100)) / 100, P999ms: float64(int((p99+2+rng.Float64())*100)) / 100})
	}
	return publish.Input{
		Config:       "pr",
		RunURL:       "https://github.com/pi-fleet/vision/actions/runs/123456",
		ArtifactsURL: "https://github.com/pi-fleet/vision/actions/runs/123456#artifacts",
		Suites: []publish.Suite{
			{
				Name: "vision-int8", Verdict: "regression", ExitCode: 1,
				Headline:        "p99 +7.2% [+5.1%, +9.0%] > +5%",
				BaselineSamples: 46050, CandidateSamples: 46112,
				Rules: []publish.RuleLine{
					{Rule: "p50 < +5%", Verdict: "pass", Baseline: "8.41ms", Candidate: "8.47ms", Change: "+0.7% [-0.2%, +1.5%]"},
					{Rule: "p99 < +5%", Verdict: "fail", Baseline: "11.9ms", Candidate: "12.8ms", Change: "+7.2% [+5.1%, +9.0%]"},
					{Rule: "p99.9 < +10% @ 0.95", Verdict: "warn", Baseline: "14.0ms", Candidate: "15.1ms", Change: "+7.9% [+1.0%, +14.2%]", Note: "warn only"},
					{Rule: "pwcet(1e-9) < 50ms", Verdict: "inconclusive", Note: "Ljung-Box rejects independence (p=0.003)"},
					{Rule: "max < 40ms", Verdict: "pass", Candidate: "21.7ms"},
				},
				EnvChanges: []string{"onnxruntime 1.29.0 → 1.30.0", "model_sha256 3f2a… → 9b1c…"},
				Markdown:   "#### Rules\n\nThe gate's own report | with a pipe.\n\n```\nraw table\n```\n",
				History:    hist,
			},
			{
				Name: "kws-fp32", Verdict: "pass", ExitCode: 0,
				Headline:        "p99 -0.4% [-1.2%, +0.3%]",
				BaselineSamples: 4603, CandidateSamples: 4710,
				Rules: []publish.RuleLine{
					{Rule: "p99 < +5%", Verdict: "pass", Baseline: "2.10ms", Candidate: "2.09ms", Change: "-0.4% [-1.2%, +0.3%]"},
				},
			},
		},
	}
}

func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), []byte(got))
}

func TestRenderCommentGolden(t *testing.T) {
	bigMD := func() string {
		var b strings.Builder
		for i := 0; b.Len() < 200_000; i++ {
			fmt.Fprintf(&b, "| interval %d | 12.%03d ms |\n", i, i%1000)
		}
		return b.String()
	}()
	for _, tc := range []struct {
		name   string
		golden string
		edit   func(*publish.Input)
		limit  int
	}{
		{"full", "comment_full.md", func(*publish.Input) {}, 0},
		{"error suite without rules", "comment_error.md", func(in *publish.Input) {
			in.Suites = []publish.Suite{{Name: "npu", Verdict: "bogus-verdict", Reason: "no baseline for environment 3fa9c2"}}
			in.RunURL, in.ArtifactsURL = "", ""
		}, 0},
		{"report truncated", "comment_truncated.md", func(in *publish.Input) { in.Suites[0].Markdown = bigMD }, 6000},
		{"rules cut", "comment_rules_cut.md", func(in *publish.Input) {
			for i := 0; i < 300; i++ {
				in.Suites[1].Rules = append(in.Suites[1].Rules, publish.RuleLine{Rule: fmt.Sprintf("p%d < +5%%", i), Verdict: "pass"})
			}
			in.Suites[1].Rules = append(in.Suites[1].Rules, publish.RuleLine{Rule: "p99.99 < +5%", Verdict: "fail", Change: "+9%"})
		}, 6000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := sampleInput()
			tc.edit(&in)
			body := publish.RenderComment(in, publish.RenderOptions{SHA: target.SHA, Limit: tc.limit})
			limit := tc.limit
			if limit == 0 {
				limit = publish.MaxCommentBytes
			}
			if len(body) > limit {
				t.Errorf("body of %d bytes, limit %d", len(body), limit)
			}
			if !strings.HasPrefix(body, publish.Marker(in.Config)+"\n") {
				t.Errorf("body does not start with the marker")
			}
			goldenFile(t, tc.golden, body)
		})
	}
}

func TestRenderCommentUnderGitHubLimit(t *testing.T) {
	in := sampleInput()
	in.Suites[0].Markdown = strings.Repeat("| é | long row of the gate's report with some unicode ✓ |\n", 20_000)
	in.Suites[1].Markdown = "```\n" + strings.Repeat("x", 300_000) + "\n```\n"
	body := publish.RenderComment(in, publish.RenderOptions{})
	if len(body) > publish.MaxCommentBytes {
		t.Fatalf("body of %d bytes", len(body))
	}
	for _, want := range []string{"## tailgate · pr: ❌ regression", "| `p99 < +5%` | ❌ fail |", "report truncated", "xychart-beta"} {
		if !strings.Contains(body, want) {
			t.Errorf("truncated body lost %q", want)
		}
	}
	if strings.Count(body, "```")%2 != 0 {
		t.Errorf("truncation left a code fence open")
	}
}

// TestCommentLinksTheDashboard: with a site URL each suite with a known key links its page on
// the nightly dashboard; without one, or without the suite's key, nothing is linked.
func TestCommentLinksTheDashboard(t *testing.T) {
	for _, tc := range []struct {
		name, site string
		keys       map[string]string
		want       string
	}{
		{"linked", "https://o.github.io/r/", map[string]string{"vision": "0123456789abcdef"}, "[vision on the nightly dashboard](https://o.github.io/r/suites/vision/0123456789abcdef/)"},
		{"no site", "", map[string]string{"vision": "0123456789abcdef"}, ""},
		{"no key", "https://o.github.io/r", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := publish.Input{Config: "tailgate.yaml", Suites: []publish.Suite{{Name: "vision", Verdict: publish.VerdictPass}}}
			publish.AddSiteLinks(&in, tc.site, tc.keys)
			body := publish.RenderComment(in, publish.RenderOptions{})
			if got := strings.Contains(body, "nightly dashboard"); got != (tc.want != "") || !strings.Contains(body, tc.want) {
				t.Errorf("body:\n%s\nwant %q", body, tc.want)
			}
		})
	}
}
