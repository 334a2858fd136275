package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxStatusDescription is GitHub's limit on a commit status description, in characters.
const MaxStatusDescription = 140

// MaxCheckSummary is GitHub's limit on a check run's output summary, in characters.
const MaxCheckSummary = 65535

// StatusContextPrefix starts every commit status context: tailgate/<suite>.
const StatusContextPrefix = "tailgate/"

// Options choose what a publish sends.
type Options struct {
	Comment bool
	Status  bool
	Check   bool
	// Policy says whether an inconclusive suite's status is a failure or a success.
	Policy Policy
}

// DefaultOptions comment and set statuses, without a check run, failing inconclusive suites.
var DefaultOptions = Options{Comment: true, Status: true, Check: false, Policy: DefaultPolicy}

// Plan is everything a publish would send, built without the network, so that --dry-run can
// print it and the real run sends exactly the same.
type Plan struct {
	Target   Target
	Comment  *CommentPlan
	Statuses []StatusRequest
	Checks   []CheckRequest
	// Skipped says what was asked for but cannot be sent, and why.
	Skipped []string
}

// CommentPlan is the PR comment to upsert.
type CommentPlan struct {
	Marker string
	Body   string
}

// CodeWith is the input's exit code under policy: an inconclusive suite counts as a pass when the
// policy says so.
func (in Input) CodeWith(p Policy) int {
	if len(in.Suites) == 0 {
		return ExitError
	}
	w := ExitPass
	for _, s := range in.Suites {
		c := s.Code()
		if c == ExitInconclusive && p == InconclusivePass {
			c = ExitPass
		}
		w = Worst(w, c)
	}
	return w
}

// StatusState maps a verdict to a commit status state under the inconclusive policy.
func StatusState(verdict string, p Policy) string {
	switch normVerdict(verdict) {
	case VerdictPass:
		return "success"
	case VerdictRegression:
		return "failure"
	case VerdictInconclusive:
		if p == InconclusivePass {
			return "success"
		}
		return "failure"
	}
	return "error"
}

// CheckConclusion maps a verdict to a check run conclusion; inconclusive is neutral.
func CheckConclusion(verdict string) string {
	switch normVerdict(verdict) {
	case VerdictPass:
		return "success"
	case VerdictInconclusive:
		return "neutral"
	}
	return "failure"
}

// Describe fits a status description within 140 characters: the headline, which the gate
// writes to carry the suite, the verdict and the number that decided it; without one, the verdict
// and its reason.
func Describe(s Suite, p Policy) string {
	if h := oneLine(s.Headline); h != "" {
		return truncRunes(h, MaxStatusDescription)
	}
	d := normVerdict(s.Verdict)
	if d == VerdictInconclusive {
		d += " (policy: " + string(p) + ")"
	}
	if r := oneLine(s.Reason); r != "" {
		d += ": " + r
	}
	return truncRunes(d, MaxStatusDescription)
}

// truncRunes cuts s to at most n characters, marking the cut with an ellipsis.
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// BuildPlan decides what to send for in to t. It needs a pull request for the comment (and
// skips it, saying so, for pushes and schedules) and a commit for statuses and check runs.
func BuildPlan(in Input, t Target, o Options) (Plan, error) {
	if err := in.Validate(); err != nil {
		return Plan{}, err
	}
	var errs []string
	if (o.Comment || o.Status || o.Check) && (t.Owner == "" || t.Repo == "") {
		errs = append(errs, "no repository: pass --repo owner/name or run in GitHub Actions (GITHUB_REPOSITORY)")
	}
	if (o.Status || o.Check) && t.SHA == "" {
		errs = append(errs, "no commit: pass --sha or run in GitHub Actions (GITHUB_SHA, or the pull request's head)")
	}
	if len(errs) > 0 {
		return Plan{}, fmt.Errorf("publish: %s", strings.Join(errs, "; "))
	}
	pl := Plan{Target: t}
	body := RenderComment(in, RenderOptions{SHA: t.SHA})
	if o.Comment {
		if t.PR > 0 {
			pl.Comment = &CommentPlan{Marker: Marker(in.Config), Body: body}
		} else {
			pl.Skipped = append(pl.Skipped, "PR comment: not a pull request (no --pr and no pull_request event)")
		}
	}
	if o.Status {
		for _, s := range in.Suites {
			pl.Statuses = append(pl.Statuses, StatusRequest{
				Context:     StatusContextPrefix + s.Name,
				State:       StatusState(s.Verdict, o.Policy),
				Description: Describe(s, o.Policy),
				TargetURL:   in.RunURL,
			})
		}
	}
	if o.Check {
		summary := body
		if utf8.RuneCountInString(summary) > MaxCheckSummary {
			summary = RenderComment(in, RenderOptions{SHA: t.SHA, Limit: MaxCheckSummary})
		}
		pl.Checks = append(pl.Checks, CheckRequest{
			Name:       "tailgate: " + in.Config,
			ExternalID: "tailgate:" + in.Config,
			Conclusion: CheckConclusion(in.Verdict()),
			Title:      truncRunes(fmt.Sprintf("%s: %s", in.Config, in.Verdict()), 255),
			Summary:    summary,
			DetailsURL: in.RunURL,
		})
	}
	return pl, nil
}

// Print writes the plan for --dry-run: every request with its payload, nothing secret.
func (pl Plan) Print(w io.Writer) {
	fmt.Fprintf(w, "dry run: nothing is sent to %s\n", pl.Target)
	for _, s := range pl.Skipped {
		fmt.Fprintf(w, "skip %s\n", s)
	}
	for _, s := range pl.Statuses {
		fmt.Fprintf(w, "status %s on %s: %s %q", s.Context, short(pl.Target.SHA), s.State, s.Description)
		if s.TargetURL != "" {
			fmt.Fprintf(w, " -> %s", s.TargetURL)
		}
		fmt.Fprintln(w)
	}
	for _, c := range pl.Checks {
		fmt.Fprintf(w, "check run %q on %s: %s (%d-byte summary, the comment body below)\n", c.Name, short(pl.Target.SHA), c.Conclusion, len(c.Summary))
	}
	if pl.Comment != nil {
		fmt.Fprintf(w, "comment on %s#%d (marker %s), %d bytes:\n", pl.Target, pl.Target.PR, pl.Comment.Marker, len(pl.Comment.Body))
		fmt.Fprintln(w, pl.Comment.Body)
	}
}

// Result says what a publish did.
type Result struct {
	Comment  *CommentResult
	Statuses int
	Checks   int
}

// Execute sends the plan. It goes on after a failed request, so that one failure does not hide
// the others, and returns all failures joined.
func (c *Client) Execute(ctx context.Context, pl Plan, now time.Time) (Result, error) {
	var res Result
	var errs []error
	for _, s := range pl.Statuses {
		if err := c.CreateStatus(ctx, pl.Target, s); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Statuses++
	}
	for _, ch := range pl.Checks {
		if err := c.CreateCheck(ctx, pl.Target, ch, now); err != nil {
			errs = append(errs, err)
			continue
		}
		res.Checks++
	}
	if pl.Comment != nil {
		cr, err := c.UpsertComment(ctx, pl.Target, pl.Comment.Marker, pl.Comment.Body)
		if err != nil {
			errs = append(errs, err)
		} else {
			res.Comment = &cr
		}
	}
	return res, errors.Join(errs...)
}
