package publish_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/runner/publish"
)

// TestPublishNewClientURL: https only; plain http only for a loopback test server.
func TestPublishNewClientURL(t *testing.T) {
	for _, tc := range []struct {
		url, errHas string
	}{
		{"", ""},
		{"https://api.github.com/", ""},
		{"https://ghe.example.com/api/v3", ""},
		{"http://127.0.0.1:8080/", ""},
		{"http://[::1]:8080/api/v3", ""},
		{"http://localhost:9/", ""},
		{"http://127.0.0.2/", ""}, // all of 127/8 is loopback
		{"http://api.github.com/", "clear text"},
		{"http://ghe.example.com/api/v3", "loopback test servers only"},
		{"http://127.0.0.1.evil.example/", "clear text"},
		{"http://localhost.evil.example/", "clear text"},
		{"ftp://api.github.com/", "want an https URL"},
		{"api.github.com", "want an https URL"},
		{"https:///nohost", "want an https URL"},
		{"https://user:pw@api.github.com/", "without credentials"},
		{"https://api.github.com/?x=1", "without credentials, query"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := publish.NewClient(publish.ClientOptions{APIURL: tc.url, Token: "ghs_x"})
			if tc.errHas == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %v, want %q", err, tc.errHas)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("the error shows the URL's password: %v", err)
			}
		})
	}
}

const goodSHA = "0123456789abcdef0123456789abcdef01234567"

// TestPublishParseSHAAndTarget: a commit is 40 hex digits; no part of a target can walk the
// REST path elsewhere.
func TestPublishParseSHAAndTarget(t *testing.T) {
	for _, tc := range []struct {
		sha  string
		want bool
	}{
		{goodSHA, true},
		{strings.ToUpper(goodSHA), true},
		{"abc123", false},
		{goodSHA[:39], false},
		{goodSHA + "0", false},
		{"../../issues/5/comments", false},
		{"0123456789abcdef0123456789abcdef0123456/", false},
		{"0123456789abcdef0123456789abcdef012345%2", false},
		{"", false},
		{"g123456789abcdef0123456789abcdef01234567", false},
		{" " + goodSHA, false},
	} {
		got, err := publish.ParseSHA(tc.sha)
		if (err == nil) != tc.want || (err == nil && got != strings.ToLower(tc.sha)) {
			t.Errorf("ParseSHA(%q) = %q, %v; want ok %v", tc.sha, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name   string
		t      publish.Target
		errHas string
	}{
		{"ok", publish.Target{Owner: "pi-fleet", Repo: "vision.rt_2", PR: 4, SHA: goodSHA}, ""},
		{"no commit", publish.Target{Owner: "pi-fleet", Repo: "vision"}, ""},
		{"path as sha", publish.Target{Owner: "o", Repo: "r", SHA: "../../issues/5/comments"}, "40-hex-digit"},
		{"dotdot repo", publish.Target{Owner: "o", Repo: ".."}, "repository name"},
		{"slash owner", publish.Target{Owner: "o/../x", Repo: "r"}, "owner"},
		{"query in repo", publish.Target{Owner: "o", Repo: "r?x=1"}, "repository name"},
		{"negative pr", publish.Target{Owner: "o", Repo: "r", PR: -1}, "positive"},
	} {
		err := tc.t.Validate()
		if tc.errHas == "" && err != nil || tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.errHas)
		}
	}
	for _, s := range []string{"o/..", "../r", "o/r#x", "o /r"} {
		if _, _, err := publish.ParseRepo(s); err == nil {
			t.Errorf("ParseRepo(%q) accepted", s)
		}
	}
	// Every source of a commit is checked: flags, the event payload, GITHUB_SHA.
	for name, act := range map[string]publish.ActionsEnv{
		"GITHUB_SHA": {Repository: "o/r", SHA: "../../issues/5/comments"},
		"payload":    {Repository: "o/r", Event: &publish.Event{PR: 5, HeadSHA: "../../x"}},
	} {
		if _, err := publish.ResolveTarget("", 0, "", act); err == nil {
			t.Errorf("%s: a path was taken as the commit", name)
		}
	}
	if _, err := publish.ResolveTarget("o/r", 0, "../../issues/5/comments", publish.ActionsEnv{}); err == nil {
		t.Error("--sha: a path was taken as the commit")
	}
	// The client refuses too, whatever built the target.
	c, err := publish.NewClient(publish.ClientOptions{APIURL: "http://127.0.0.1:1/", Retry: publish.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	bad := publish.Target{Owner: "o", Repo: "r", PR: 5, SHA: "../../issues/5/comments"}
	if err := c.CreateStatus(context.Background(), bad, publish.StatusRequest{Context: "tailgate/x", State: "success"}); err == nil || !strings.Contains(err.Error(), "40-hex") {
		t.Errorf("CreateStatus: %v", err)
	}
	if err := c.CreateCheck(context.Background(), bad, publish.CheckRequest{Name: "x"}, time.Now()); err == nil || !strings.Contains(err.Error(), "40-hex") {
		t.Errorf("CreateCheck: %v", err)
	}
	if _, err := c.UpsertComment(context.Background(), publish.Target{Owner: "o", Repo: "..", PR: 5}, "<!-- m -->", "b"); err == nil {
		t.Error("UpsertComment accepted repository ..")
	}
}

const (
	issueCommentOnPR = `{"action":"created","issue":{"number":7,"pull_request":{"url":"https://api.github.com/repos/o/r/pulls/7"}},"comment":{"body":"/tailgate run"},"repository":{"full_name":"pi-fleet/vision"}}`
	issueCommentOnIs = `{"action":"created","issue":{"number":8},"comment":{"body":"hi"},"repository":{"full_name":"pi-fleet/vision"}}`
	workflowRunFork  = `{"action":"completed","workflow_run":{"head_sha":"` + goodSHA + `","pull_requests":[],"head_repository":{"full_name":"mallory/vision","fork":true}},"repository":{"full_name":"pi-fleet/vision"}}`
	workflowRunPR    = `{"action":"completed","workflow_run":{"head_sha":"` + goodSHA + `","pull_requests":[{"number":3}],"head_repository":{"full_name":"pi-fleet/vision","fork":false}},"repository":{"full_name":"pi-fleet/vision"}}`
	workflowRunPush  = `{"action":"completed","workflow_run":{"head_sha":"` + goodSHA + `","pull_requests":[],"head_repository":{"full_name":"pi-fleet/vision","fork":false}},"repository":{"full_name":"pi-fleet/vision"}}`
	checkSuiteFork   = `{"action":"completed","check_suite":{"head_sha":"` + goodSHA + `","pull_requests":[{"number":3}],"head_repository":{"full_name":"mallory/vision","fork":true}},"repository":{"full_name":"pi-fleet/vision"}}`
	checkRunPR       = `{"action":"completed","check_run":{"head_sha":"` + goodSHA + `","pull_requests":[{"number":3}]},"repository":{"full_name":"pi-fleet/vision"}}`
)

// TestPublishEventRules: only pull_request and pull_request_target bring pull-request data;
// other events about a pull request or a fork's code are refused unless explicitly trusted, and
// then still vetted as forks; schedule and workflow_dispatch never carry pull-request data.
func TestPublishEventRules(t *testing.T) {
	review := strings.Replace(prEvent("pi-fleet/vision", false), `"number":42,`, `"number":42,"review":{"state":"approved"},`, 1)
	reviewComment := strings.Replace(prEvent("pi-fleet/vision", false), `"number":42,`, `"number":42,"comment":{"body":"x"},`, 1)
	for _, tc := range []struct {
		name, event, payload string
		trust                []string
		errHas               string // "" accepted
		wantPR               int
		trusted              bool // TrustedPR with the default label
	}{
		{"pull_request", "pull_request", prEvent("pi-fleet/vision", false), nil, "", 42, true},
		{"pull_request_target from a fork", "pull_request_target", prEvent("mallory/vision", true), nil, "", 42, false},
		{"push", "push", `{"ref":"refs/heads/main","repository":{"full_name":"pi-fleet/vision"}}`, nil, "", 0, true},
		{"schedule", "schedule", `{"schedule":"0 2 * * *"}`, nil, "", 0, true},
		{"schedule with a pull request", "schedule", prEvent("mallory/vision", true), nil, "never carries pull request data", 0, false},
		{"workflow_dispatch with a pull request", "workflow_dispatch", prEvent("pi-fleet/vision", false), nil, "never carries pull request data", 0, false},
		{"workflow_dispatch with a comment", "workflow_dispatch", issueCommentOnPR, nil, "never carries pull request data", 0, false},
		{"issue_comment on a PR", "issue_comment", issueCommentOnPR, nil, "refusing a issue_comment event about pull request #7 as untrusted", 0, false},
		{"issue_comment on a PR, unnamed", "", issueCommentOnPR, nil, "issue_comment event about pull request #7", 0, false},
		{"issue_comment on a PR, trusted, still unknown code", "issue_comment", issueCommentOnPR, []string{"issue_comment"}, "whose code", 0, false},
		{"issue_comment on an issue", "issue_comment", issueCommentOnIs, nil, "", 0, true},
		{"pull_request_review", "pull_request_review", review, nil, "refusing a pull_request_review", 0, false},
		{"pull_request_review unnamed", "", review, nil, "refusing a pull_request_review", 0, false},
		{"pull_request_review_comment", "", reviewComment, nil, "refusing a pull_request_review_comment", 0, false},
		{"pull_request_review trusted", "pull_request_review", review, []string{"pull_request_review"}, "", 42, true},
		{"pull_request named, review shaped", "pull_request", review, nil, "shaped like a pull_request_review", 0, false},
		{"unknown event with a pull request", "merge_queue_thing", prEvent("pi-fleet/vision", false), nil, "refusing a merge_queue_thing", 0, false},
		{"workflow_run from a fork", "workflow_run", workflowRunFork, nil, "refusing a workflow_run", 0, false},
		{"workflow_run from a fork, unnamed", "", workflowRunFork, nil, "refusing a workflow_run", 0, false},
		{"workflow_run from a fork, trusted", "workflow_run", workflowRunFork, []string{"workflow_run"}, "", 0, false},
		{"workflow_run about a PR", "workflow_run", workflowRunPR, nil, "refusing a workflow_run", 0, false},
		{"workflow_run about a PR, trusted", "workflow_run", workflowRunPR, []string{"workflow_run"}, "", 0, true},
		{"workflow_run after a push", "workflow_run", workflowRunPush, nil, "", 0, true},
		{"check_suite from a fork", "check_suite", checkSuiteFork, nil, "refusing a check_suite", 0, false},
		{"check_run about a PR", "check_run", checkRunPR, nil, "refusing a check_run", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := publish.EventRules{TrustEvents: tc.trust}.Parse(tc.event, "event.json", []byte(tc.payload))
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want %q", err, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.PR != tc.wantPR {
				t.Errorf("PR %d, want %d", ev.PR, tc.wantPR)
			}
			if err := publish.TrustedPR(ev, publish.DefaultTrustedLabel); (err == nil) != tc.trusted {
				t.Errorf("TrustedPR = %v, want trusted %v", err, tc.trusted)
			}
		})
	}
}
