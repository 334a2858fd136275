package publish

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Target says where on GitHub to publish.
type Target struct {
	Owner, Repo string
	// PR is the pull request number; zero for pushes and scheduled runs (no comment then).
	PR int
	// SHA is the commit statuses and check runs attach to: the pull request's head, not the
	// merge commit Actions checks out.
	SHA string
}

// String is "owner/repo".
func (t Target) String() string { return t.Owner + "/" + t.Repo }

// Every part of a Target ends up in a REST path (repos/OWNER/REPO/statuses/SHA …) that
// go-github does not escape: a "commit" such as ../../issues/5/comments would post elsewhere.
var (
	ownerRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	shaRE   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// ParseSHA checks that s is a full commit id: 40 hexadecimal digits (upper case is folded).
// Anything else, a short id or a path, is refused.
func ParseSHA(s string) (string, error) {
	l := strings.ToLower(s)
	if !shaRE.MatchString(l) {
		return "", fmt.Errorf("commit %q: want the full 40-hex-digit commit id", s)
	}
	return l, nil
}

// Validate checks that every part of t is what GitHub allows and nothing that could change
// the request's path: owner and repository names, a non-negative pull request number, and a
// commit that is empty or 40 hex digits.
func (t Target) Validate() error {
	var errs []string
	if t.Owner != "" || t.Repo != "" {
		if !ownerRE.MatchString(t.Owner) {
			errs = append(errs, fmt.Sprintf("owner %q is not a GitHub account name", t.Owner))
		}
		if !repoRE.MatchString(t.Repo) || t.Repo == "." || t.Repo == ".." {
			errs = append(errs, fmt.Sprintf("repository name %q is not a GitHub repository name", t.Repo))
		}
	}
	if t.PR < 0 {
		errs = append(errs, fmt.Sprintf("pull request %d: want a positive number", t.PR))
	}
	if t.SHA != "" {
		if _, err := ParseSHA(t.SHA); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("publish target: %s", strings.Join(errs, "; "))
	}
	return nil
}

// validFor is Validate for a call on the API: the repository is required, and the commit too
// when the call attaches to one.
func (t Target) validFor(needSHA bool) error {
	if t.Owner == "" || t.Repo == "" {
		return fmt.Errorf("publish target: no repository")
	}
	if needSHA && t.SHA == "" {
		return fmt.Errorf("publish target %s: no commit", t)
	}
	return t.Validate()
}

// ParseRepo splits "owner/repo" and checks both names (Target.Validate's rules).
func ParseRepo(s string) (owner, repo string, err error) {
	o, r, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || o == "" || r == "" || strings.Contains(r, "/") {
		return "", "", fmt.Errorf("repository %q: want owner/name", s)
	}
	if err := (Target{Owner: o, Repo: r}).Validate(); err != nil {
		return "", "", fmt.Errorf("repository %q: want owner/name: %w", s, err)
	}
	return o, r, nil
}

// CommentResult says what happened to the PR comment.
type CommentResult struct {
	ID      int64
	URL     string
	Created bool
	// Removed counts duplicate marker comments deleted (left by an older tool or a race).
	Removed int
}

// commentsPerPage is the most GitHub lists at once; fewer pages, fewer requests to fail.
const commentsPerPage = 100

// UpsertComment edits the pull request comment that starts with marker, or creates it. Every
// attempt lists all pages of comments again before it creates, so a create that reached GitHub
// but whose answer was lost (timeout, 502) is found and edited, never repeated. Further comments
// with the same marker are deleted, so one is left.
func (c *Client) UpsertComment(ctx context.Context, t Target, marker, body string) (CommentResult, error) {
	var res CommentResult
	if err := t.validFor(false); err != nil {
		return res, err
	}
	op := fmt.Sprintf("comment on %s#%d", t, t.PR)
	err := c.do(ctx, op, func(ctx context.Context, gh *github.Client, _ int) error {
		res = CommentResult{}
		var ours []*github.IssueComment
		opt := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: commentsPerPage}}
		for {
			page, resp, err := gh.Issues.ListComments(ctx, t.Owner, t.Repo, t.PR, opt)
			if err != nil {
				return err
			}
			for _, cm := range page {
				if strings.HasPrefix(strings.TrimSpace(cm.GetBody()), marker) {
					ours = append(ours, cm)
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		if len(ours) == 0 {
			cm, _, err := gh.Issues.CreateComment(ctx, t.Owner, t.Repo, t.PR, &github.IssueComment{Body: github.String(body)})
			if err != nil {
				return err
			}
			res = CommentResult{ID: cm.GetID(), URL: cm.GetHTMLURL(), Created: true}
			return nil
		}
		keep := ours[0]
		if keep.GetBody() != body {
			cm, _, err := gh.Issues.EditComment(ctx, t.Owner, t.Repo, keep.GetID(), &github.IssueComment{Body: github.String(body)})
			if err != nil {
				return err
			}
			keep = cm
		}
		res = CommentResult{ID: keep.GetID(), URL: keep.GetHTMLURL()}
		for _, dup := range ours[1:] {
			if _, err := gh.Issues.DeleteComment(ctx, t.Owner, t.Repo, dup.GetID()); err != nil {
				return err
			}
			res.Removed++
		}
		return nil
	})
	return res, err
}

// StatusRequest is one commit status.
type StatusRequest struct {
	Context     string `json:"context"`
	State       string `json:"state"`
	Description string `json:"description"`
	TargetURL   string `json:"target_url,omitempty"`
}

// CreateStatus sets a commit status; a repeat with the same context replaces the earlier one,
// so retrying it is safe.
func (c *Client) CreateStatus(ctx context.Context, t Target, s StatusRequest) error {
	if err := t.validFor(true); err != nil {
		return err
	}
	st := &github.RepoStatus{
		State:       github.String(s.State),
		Description: github.String(s.Description),
		Context:     github.String(s.Context),
	}
	if s.TargetURL != "" {
		st.TargetURL = github.String(s.TargetURL)
	}
	return c.do(ctx, fmt.Sprintf("status %s on %s@%s", s.Context, t, short(t.SHA)), func(ctx context.Context, gh *github.Client, _ int) error {
		_, _, err := gh.Repositories.CreateStatus(ctx, t.Owner, t.Repo, t.SHA, st)
		return err
	})
}

// CheckRequest is one completed check run.
type CheckRequest struct {
	Name       string `json:"name"`
	ExternalID string `json:"external_id"`
	Conclusion string `json:"conclusion"`
	Title      string `json:"title"`
	Summary    string `json:"summary"`
	DetailsURL string `json:"details_url,omitempty"`
}

// CreateCheck creates a completed check run. A retry first looks for the run it may already
// have created (same name and external id on the commit) and updates that one instead.
func (c *Client) CreateCheck(ctx context.Context, t Target, r CheckRequest, now time.Time) error {
	if err := t.validFor(true); err != nil {
		return err
	}
	out := &github.CheckRunOutput{Title: github.String(r.Title), Summary: github.String(r.Summary)}
	var details *string
	if r.DetailsURL != "" {
		details = github.String(r.DetailsURL)
	}
	done := &github.Timestamp{Time: now}
	return c.do(ctx, fmt.Sprintf("check run %s on %s@%s", r.Name, t, short(t.SHA)), func(ctx context.Context, gh *github.Client, attempt int) error {
		if attempt > 1 {
			runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, t.Owner, t.Repo, t.SHA, &github.ListCheckRunsOptions{
				CheckName: github.String(r.Name), ListOptions: github.ListOptions{PerPage: 100},
			})
			if err != nil {
				return err
			}
			for _, run := range runs.CheckRuns {
				if run.GetExternalID() == r.ExternalID {
					_, _, err := gh.Checks.UpdateCheckRun(ctx, t.Owner, t.Repo, run.GetID(), github.UpdateCheckRunOptions{
						Name: r.Name, DetailsURL: details, ExternalID: github.String(r.ExternalID),
						Status: github.String("completed"), Conclusion: github.String(r.Conclusion),
						CompletedAt: done, Output: out,
					})
					return err
				}
			}
		}
		_, _, err := gh.Checks.CreateCheckRun(ctx, t.Owner, t.Repo, github.CreateCheckRunOptions{
			Name: r.Name, HeadSHA: t.SHA, DetailsURL: details, ExternalID: github.String(r.ExternalID),
			Status: github.String("completed"), Conclusion: github.String(r.Conclusion),
			CompletedAt: done, Output: out,
		})
		return err
	})
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
