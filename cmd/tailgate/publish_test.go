package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/publish"
	"github.com/tailgate-ci/tailgate/runner/publish/publishtest"
)

const pubToken = "ghp_publishTestTokenThatMustNotLeak_42"

const pubHeadSHA = "c0ffee0000000000000000000000000000000001"

// pubReports writes gate reports (compare --format json) for a passing and a regressed suite.
func pubReports(t *testing.T) (pass, regressed string) {
	t.Helper()
	dir := t.TempDir()
	mk := func(name, suite string, seed uint64, scale float64) string {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		gatetest.Write(t, p, gatetest.Spec{Suite: suite, Intervals: 30, PerIv: 1000, Seed: seed,
			Process: gatetest.Tail(gatetest.Lognormal(1e6, 0.05), 0.02, gatetest.Scale(gatetest.Lognormal(3e6, 0.1), scale))})
		return p
	}
	rules, err := gate.ParseRules(gate.FlagRules([]string{"p50 < +5%", "p99 < +5%", "max < 40ms"}))
	if err != nil {
		t.Fatal(err)
	}
	report := func(name, suite string, scale float64) string {
		base, cand := mk(name+"-base", suite, 1, 1), mk(name+"-cand", suite, 2, scale)
		rb, err := result.Read(base)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := result.Read(cand)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := gate.CompareResults(rb, rc, rules, gate.Options{Tool: gate.Tool{Name: "tailgate", Version: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := render.JSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return report("pass", "kws", 1), report("regressed", "vision", 1.3)
}

type pubEnv struct {
	vars                 map[string]string
	outFile, summaryFile string
	stdout, stderr       bytes.Buffer
}

// newPubEnv is the environment of an Actions job on a pull request from the same repository.
func newPubEnv(t *testing.T, srv *publishtest.Server) *pubEnv {
	t.Helper()
	dir := t.TempDir()
	ev := filepath.Join(dir, "event.json")
	payload := `{"action":"opened","number":42,"pull_request":{"number":42,"head":{"sha":"` + pubHeadSHA + `","repo":{"full_name":"pi-fleet/vision","fork":false}},"base":{"repo":{"full_name":"pi-fleet/vision"}},"labels":[]}}`
	if err := os.WriteFile(ev, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &pubEnv{outFile: filepath.Join(dir, "output"), summaryFile: filepath.Join(dir, "summary")}
	p.vars = map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": ev,
		"GITHUB_REPOSITORY": "pi-fleet/vision", "GITHUB_SHA": "feedfacefeedfacefeedfacefeedfacefeedface", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_RUN_ID": "777", "GITHUB_OUTPUT": p.outFile, "GITHUB_STEP_SUMMARY": p.summaryFile,
		"GITHUB_TOKEN": pubToken,
	}
	if srv != nil {
		p.vars["GITHUB_API_URL"] = srv.APIURL()
	}
	return p
}

func (p *pubEnv) run(args ...string) int {
	// Retries wait in the test's imagination only.
	publishRetry = publish.Retry{Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() }}
	defer func() { publishRetry = publish.Retry{} }()
	p.stdout.Reset()
	p.stderr.Reset()
	e := &env{stdout: &p.stdout, stderr: &p.stderr, stdin: strings.NewReader(""), getenv: func(k string) string { return p.vars[k] }}
	return run(e, append([]string{"publish"}, args...))
}

// leaks fails the test when the token is in any output or runner file.
func (p *pubEnv) leaks(t *testing.T) {
	t.Helper()
	for name, s := range map[string]string{"stdout": p.stdout.String(), "stderr": p.stderr.String(),
		"GITHUB_OUTPUT": readOrEmpty(p.outFile), "GITHUB_STEP_SUMMARY": readOrEmpty(p.summaryFile)} {
		if strings.Contains(s, pubToken) {
			t.Errorf("token appears in %s", name)
		}
	}
}

func readOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestPublish shares one set of gate reports between its parts: making them is most of the cost.
func TestPublish(t *testing.T) {
	pass, regressed := pubReports(t)
	t.Run("command", func(t *testing.T) { testPublishCommand(t, pass, regressed) })
	t.Run("actions files", func(t *testing.T) { testPublishActionsFiles(t, pass, regressed) })
	t.Run("dry run", func(t *testing.T) { testPublishDryRun(t, regressed) })
	t.Run("target from flags", func(t *testing.T) { testPublishTargetFromFlags(t, pass) })
	t.Run("history chart", func(t *testing.T) { testPublishHistory(t, regressed) })
}

func testPublishHistory(t *testing.T, regressed string) {
	dir := filepath.Join(t.TempDir(), "store")
	st, err := baseline.OpenDir(dir, baseline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := gatetest.Env().Key()
	for i := 0; i < 35; i++ {
		e := baseline.HistoryEntry{V: baseline.HistoryVersion, Kind: baseline.KindNightly, Suite: "vision", Key: key,
			Time: time.Date(2026, 10, 20, 2, 17, 0, 0, time.UTC).AddDate(0, 0, i), Run: fmt.Sprintf("run-%02d", i),
			Commit: fmt.Sprintf("%07x", 0xabc000+i), P99: int64(3_000_000 + i*10_000), P999: int64(4_000_000 + i*20_000), Samples: 1000, Verdict: "pass"}
		if err := st.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	srv := publishtest.New(t, pubToken)
	p := newPubEnv(t, srv)
	if code := p.run("--history", dir, regressed); code != exitRegression {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	cs := srv.Comments(42)
	if len(cs) != 1 {
		t.Fatalf("%d comments", len(cs))
	}
	for _, want := range []string{"```mermaid\nxychart-beta", "last 30 nights", `"11-23 0abc022"`, "line [3.05, 3.06"} {
		if !strings.Contains(cs[0].Body, want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if code := p.run("--history", filepath.Join(t.TempDir(), "empty"), regressed); code != exitRegression || strings.Contains(srv.Comments(42)[0].Body, "xychart") {
		t.Errorf("empty store: exit %d, stderr %s", code, p.stderr.String())
	}
}

func testPublishCommand(t *testing.T, pass, regressed string) {
	for _, tc := range []struct {
		name     string
		reports  []string
		args     []string
		faults   map[string][]publishtest.Fault
		noToken  bool
		wantCode int
		wantErr  string
		// comments is the number of tailgate comments left; statuses the number received.
		comments, statuses int
	}{
		{name: "pass", reports: []string{pass}, wantCode: exitPass, comments: 1, statuses: 1},
		{name: "regression is exit 1 after publishing", reports: []string{pass, regressed}, args: []string{"--check"}, wantCode: exitRegression, wantErr: "gate verdict regression", comments: 1, statuses: 2},
		{name: "two 502s then success", reports: []string{pass}, faults: map[string][]publishtest.Fault{publishtest.CreateStatus: {publishtest.Status502, publishtest.Status502}}, wantCode: exitPass, comments: 1, statuses: 1},
		{name: "422 fails a passing gate", reports: []string{pass}, faults: map[string][]publishtest.Fault{publishtest.CreateStatus: {publishtest.Answer(422, "No commit found for SHA")}}, wantCode: exitError, wantErr: "No commit found for SHA", comments: 1},
		{name: "publish failure never hides the regression", reports: []string{regressed}, faults: map[string][]publishtest.Fault{publishtest.ListComments: {publishtest.Answer(404, "Not Found")}}, wantCode: exitError, wantErr: "404", statuses: 1},
		{name: "echoed token is scrubbed", reports: []string{pass}, faults: map[string][]publishtest.Fault{publishtest.CreateStatus: {publishtest.EchoAuth}, publishtest.ListComments: {publishtest.EchoAuth}}, wantCode: exitError, wantErr: "[REDACTED]"},
		{name: "server slower than the deadline", reports: []string{pass}, args: []string{"--timeout", "300ms", "--comment=false"}, faults: map[string][]publishtest.Fault{publishtest.CreateStatus: {publishtest.Hang}}, wantCode: exitError, wantErr: "deadline"},
		{name: "no token", reports: []string{regressed}, noToken: true, wantCode: exitError, wantErr: "no GitHub token"},
		{name: "unreadable reports are all named", reports: []string{"missing-a.json", "missing-b.json"}, wantCode: exitError, wantErr: "missing-b.json"},
		{name: "bad policy", reports: []string{pass}, args: []string{"--inconclusive", "maybe"}, wantCode: exitError, wantErr: "--inconclusive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := publishtest.New(t, pubToken)
			for route, fs := range tc.faults {
				srv.Fail(route, fs...)
			}
			p := newPubEnv(t, srv)
			if tc.noToken {
				delete(p.vars, "GITHUB_TOKEN")
			}
			code := p.run(append(append([]string{"--timeout", "1m"}, tc.args...), tc.reports...)...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.wantCode, p.stderr.String())
			}
			if tc.wantErr != "" && !strings.Contains(p.stderr.String(), tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, p.stderr.String())
			}
			var ours int
			for _, c := range srv.Comments(42) {
				if strings.HasPrefix(c.Body, publish.Marker(DefaultPublishConfig)) {
					ours++
				}
			}
			if ours != tc.comments {
				t.Errorf("%d tailgate comments, want %d", ours, tc.comments)
			}
			sts := srv.Statuses()
			if len(sts) != tc.statuses {
				t.Errorf("%d statuses, want %d", len(sts), tc.statuses)
			}
			for _, s := range sts {
				if s.SHA != pubHeadSHA || s.TargetURL != "https://github.com/pi-fleet/vision/actions/runs/777" || !strings.HasPrefix(s.Context, "tailgate/") {
					t.Errorf("status %+v: want the PR head, the run URL and a tailgate/ context", s)
				}
			}
			p.leaks(t)
		})
	}
}

func testPublishActionsFiles(t *testing.T, pass, regressed string) {
	srv := publishtest.New(t, pubToken)
	p := newPubEnv(t, srv)
	if code := p.run(pass, regressed); code != exitRegression {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	out := readOrEmpty(p.outFile)
	for _, want := range []string{"verdict<<ghadelimiter_", "\nregression\n", "exit-code<<ghadelimiter_", "\n1\n", "report<<ghadelimiter_", publish.Marker(DefaultPublishConfig)} {
		if !strings.Contains(out, want) {
			t.Errorf("$GITHUB_OUTPUT lacks %q:\n%.400s", want, out)
		}
	}
	sum := readOrEmpty(p.summaryFile)
	if !strings.Contains(sum, "## tailgate · default: ❌ regression") {
		t.Errorf("$GITHUB_STEP_SUMMARY:\n%.400s", sum)
	}
	if !strings.Contains(p.stdout.String(), "::error title=tailgate/vision::rule failed: p99 < +5%25") {
		t.Errorf("no annotation for the failing rule in stdout:\n%s", p.stdout.String())
	}
	// A second publish edits the comment: still one.
	if code := p.run(pass, regressed); code != exitRegression {
		t.Fatalf("second publish: exit %d\n%s", code, p.stderr.String())
	}
	if n := len(srv.Comments(42)); n != 1 {
		t.Errorf("%d comments after two publishes, want 1", n)
	}
	if !strings.Contains(p.stderr.String(), "updated comment") {
		t.Errorf("second publish did not update:\n%s", p.stderr.String())
	}
	p.leaks(t)
}

func testPublishDryRun(t *testing.T, regressed string) {
	p := newPubEnv(t, nil)
	delete(p.vars, "GITHUB_TOKEN")
	code := p.run("--dry-run", "--check", "--config", "pr", regressed)
	if code != exitRegression {
		t.Fatalf("exit %d, want the gate's 1\n%s", code, p.stderr.String())
	}
	out := p.stdout.String()
	for _, want := range []string{"::stop-commands::", "dry run: nothing is sent to pi-fleet/vision", "status tailgate/vision on c0ffee000000: failure",
		"check run \"tailgate: pr\"", "comment on pi-fleet/vision#42 (marker <!-- tailgate:pr -->)", "annotation ::error title=tailgate/vision", "output verdict=regression"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if readOrEmpty(p.outFile) != "" || readOrEmpty(p.summaryFile) != "" {
		t.Error("dry run wrote the runner's files")
	}
}

func testPublishTargetFromFlags(t *testing.T, pass string) {
	srv := publishtest.New(t, pubToken)
	p := &pubEnv{vars: map[string]string{"TAILGATE_GITHUB_TOKEN": pubToken, "GITHUB_TOKEN": "wrong"}}
	code := p.run("--api-url", srv.APIURL(), "--repo", "pi-fleet/vision", "--pr", "9", "--sha", flagSHA, "--config", "nightly", pass)
	if code != exitPass {
		t.Fatalf("exit %d\n%s", code, p.stderr.String())
	}
	if cs := srv.Comments(9); len(cs) != 1 || !strings.HasPrefix(cs[0].Body, "<!-- tailgate:nightly -->") {
		t.Errorf("comments on #9: %+v", cs)
	}
	if st := srv.Statuses(); len(st) != 1 || st[0].SHA != flagSHA {
		t.Errorf("statuses %+v", st)
	}
	if code := p.run("--repo", "nope", pass); code != exitError || !strings.Contains(p.stderr.String(), "--repo") {
		t.Errorf("bad --repo: exit %d, %s", code, p.stderr.String())
	}
	// A --sha that is a path would post elsewhere (repos/o/r/statuses/../../issues/5/comments).
	for _, sha := range []string{"../../issues/5/comments", "abc123"} {
		before := len(srv.Statuses())
		if code := p.run("--api-url", srv.APIURL(), "--repo", "pi-fleet/vision", "--pr", "9", "--sha", sha, pass); code != exitError || !strings.Contains(p.stderr.String(), "--sha") {
			t.Errorf("--sha %s: exit %d, %s", sha, code, p.stderr.String())
		}
		if len(srv.Statuses()) != before || len(srv.Comments(5)) != 0 {
			t.Errorf("--sha %s reached GitHub", sha)
		}
	}
}

// flagSHA is the commit --sha names in the tests.
const flagSHA = "abc1230000000000000000000000000000abc123"

func TestPublishInputFile(t *testing.T) {
	srv := publishtest.New(t, pubToken)
	p := newPubEnv(t, srv)
	dir := t.TempDir()
	good := filepath.Join(dir, "in.json")
	in := `{"config":"soak","suites":[{"name":"npu","verdict":"inconclusive","exit_code":4,"headline":"npu inconclusive: throttled"}]}`
	if err := os.WriteFile(good, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := p.run("--input", good, "--inconclusive", "pass"); code != exitPass {
		t.Fatalf("exit %d, want 0 under --inconclusive=pass\n%s", code, p.stderr.String())
	}
	if st := srv.Statuses(); len(st) != 1 || st[0].State != "success" || st[0].Description != "npu inconclusive: throttled" {
		t.Errorf("statuses %+v", st)
	}
	if code := p.run("--input", good); code != exitInconclusive {
		t.Errorf("exit %d, want 4 under the default policy", code)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"config":"x","suites":[{"name":"a","verdit":"pass"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := p.run("--input", bad); code != exitError || !strings.Contains(p.stderr.String(), `unknown field "verdit"`) {
		t.Errorf("misspelt field: exit %d, %s", code, p.stderr.String())
	}
}
