package publish_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/runner/publish"
)

func prEvent(headRepo string, fork bool, labels ...string) string {
	return prEventAction("synchronize", "", headRepo, fork, labels...)
}

func prEventAction(action, added, headRepo string, fork bool, labels ...string) string {
	ls := make([]string, len(labels))
	for i, l := range labels {
		ls[i] = `{"name":"` + l + `","color":"ededed"}`
	}
	label := ""
	if added != "" {
		label = `"label":{"name":"` + added + `"},`
	}
	return `{"action":"` + action + `",` + label + `"number":42,"pull_request":{"number":42,"state":"open",
"head":{"ref":"feature","sha":"0123456789abcdef0123456789abcdef01234567","repo":{"full_name":"` + headRepo + `","fork":` + map[bool]string{true: "true", false: "false"}[fork] + `}},
"base":{"ref":"main","sha":"fedcba","repo":{"full_name":"pi-fleet/vision","fork":false}},
"labels":[` + strings.Join(ls, ",") + `]},
"repository":{"full_name":"pi-fleet/vision"}}`
}

func TestParseEventAndTrust(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		label   string
		wantPR  int
		fork    bool
		trusted bool
		errHas  string
	}{
		{"same repository", prEvent("pi-fleet/vision", false), publish.DefaultTrustedLabel, 42, false, true, ""},
		{"fork without label", prEvent("mallory/vision", true, "bug"), publish.DefaultTrustedLabel, 42, true, false, `add the label "tailgate-trusted"`},
		{"fork labeled now", prEventAction("labeled", "tailgate-trusted", "alice/vision", true, "bug", "tailgate-trusted"), publish.DefaultTrustedLabel, 42, true, true, ""},
		{"fork pushed after the label", prEvent("alice/vision", true, "bug", "tailgate-trusted"), publish.DefaultTrustedLabel, 42, true, false, "applied before the latest commits"},
		{"fork labeled with another label", prEventAction("labeled", "bug", "alice/vision", true, "bug", "tailgate-trusted"), publish.DefaultTrustedLabel, 42, true, false, "applied before the latest commits"},
		{"label event but label since removed", prEventAction("labeled", "tailgate-trusted", "alice/vision", true), publish.DefaultTrustedLabel, 42, true, false, "can add the label"},
		{"fork, no label configured", prEventAction("labeled", "tailgate-trusted", "alice/vision", true, "tailgate-trusted"), "", 42, true, false, "no trusted label is configured"},
		{"fork flag false but other owner", prEvent("mallory/vision", false), publish.DefaultTrustedLabel, 42, true, false, "mallory/vision"},
		{"deleted fork", strings.Replace(prEvent("x/y", true), `"repo":{"full_name":"x/y","fork":true}`, `"repo":null`, 1), publish.DefaultTrustedLabel, 42, true, false, "unknown (deleted?)"},
		{"push", `{"ref":"refs/heads/main","after":"abc","repository":{"full_name":"pi-fleet/vision"}}`, publish.DefaultTrustedLabel, 0, false, true, ""},
		{"schedule", `{"schedule":"0 2 * * *"}`, publish.DefaultTrustedLabel, 0, false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := publish.ParseEvent("event.json", []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if ev.PR != tc.wantPR || ev.FromFork() != tc.fork {
				t.Errorf("event %+v: want PR %d, fork %v", ev, tc.wantPR, tc.fork)
			}
			err = publish.TrustedPR(ev, tc.label)
			if (err == nil) != tc.trusted {
				t.Fatalf("TrustedPR = %v, want trusted %v", err, tc.trusted)
			}
			if err != nil && !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q lacks %q", err, tc.errHas)
			}
		})
	}
	if err := publish.TrustedPR(nil, "x"); err == nil {
		t.Error("a missing event was trusted")
	}
}

func TestParseEventErrors(t *testing.T) {
	for _, tc := range []struct{ name, payload, errHas string }{
		{"not json", `{"pull_request":`, "event payload event.json"},
		{"no head sha", `{"pull_request":{"number":3,"head":{}}}`, "pull_request.head.sha is missing"},
		{"no number", `{"pull_request":{"head":{"sha":"abc"}}}`, "pull_request.number 0"},
		{"wrong type", `{"pull_request":{"number":"3"}}`, "event payload event.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := publish.ParseEvent("event.json", []byte(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("error %v, want %q", err, tc.errHas)
			}
		})
	}
}

func TestFromActions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "event.json")
	if err := os.WriteFile(path, []byte(prEvent("pi-fleet/vision", false)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "pi-fleet/vision", "GITHUB_SHA": "mergecommit",
		"GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_RUN_ID": "99", "GITHUB_RUN_ATTEMPT": "2",
		"GITHUB_API_URL": "https://ghe.example.com/api/v3", "GITHUB_EVENT_PATH": path,
	}
	a, err := publish.FromActions(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if a.RunURL != "https://ghe.example.com/pi-fleet/vision/actions/runs/99/attempts/2" || a.ArtifactsURL != "https://ghe.example.com/pi-fleet/vision/actions/runs/99#artifacts" {
		t.Errorf("run %q artifacts %q", a.RunURL, a.ArtifactsURL)
	}
	if a.Event == nil || a.Event.PR != 42 || a.Event.HeadSHA != "0123456789abcdef0123456789abcdef01234567" || a.APIURL != env["GITHUB_API_URL"] {
		t.Errorf("actions env %+v event %+v", a, a.Event)
	}
	env["GITHUB_EVENT_NAME"] = "pull_request"
	if err := os.WriteFile(path, []byte(`{"ref":"refs/heads/main"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.FromActions(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "names no pull request") {
		t.Errorf("pull_request event without one: error %v", err)
	}
	env["GITHUB_EVENT_PATH"] = filepath.Join(dir, "missing.json")
	if _, err := publish.FromActions(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing payload: error %v", err)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(prEvent("pi-fleet/vision", false)))
	f.Add([]byte(prEvent("mallory/vision", true, "tailgate-trusted")))
	f.Add([]byte(prEventAction("labeled", "tailgate-trusted", "mallory/vision", true, "tailgate-trusted")))
	f.Add([]byte(`{"ref":"refs/heads/main"}`))
	f.Add([]byte(`{"pull_request":{"number":1,"head":{"sha":"a","repo":null},"base":{"repo":null}}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(issueCommentOnPR))
	f.Add([]byte(workflowRunFork))
	f.Add([]byte(checkRunPR))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := publish.ParseEvent("fuzz", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "event payload fuzz") {
				t.Fatalf("error does not name the payload: %v", err)
			}
			return
		}
		if ev.PR < 0 || (ev.PR > 0 && ev.HeadSHA == "") {
			t.Fatalf("accepted a pull request without number or head: %+v", ev)
		}
		// The guard must fail closed: an untrusted fork is never trusted without the label.
		if ev.FromFork() && (!ev.HasLabel("tailgate-trusted") || ev.Label != "tailgate-trusted") && publish.TrustedPR(ev, "tailgate-trusted") == nil {
			t.Fatalf("fork trusted without the label: %+v", ev)
		}
		if !ev.FromFork() && ev.PR > 0 && !strings.EqualFold(ev.HeadRepo, ev.BaseRepo) {
			t.Fatalf("different repositories not seen as a fork: %+v", ev)
		}
	})
}
