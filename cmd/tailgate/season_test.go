package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/runner/ci"
	"github.com/tailgate-ci/tailgate/runner/publish/publishtest"
	"gopkg.in/yaml.v3"
)

// The season test: the real `tailgate` binary through weeks of nights and pull requests on a
// simulated self-hosted Actions runner, in accelerated time (synthetic backend, sub-second
// runs). What Actions does between jobs is simulated: actions/checkout reusing the workspace
// (local branches deleted, `git clean -ffdx`) or a fresh clone, the runner's persistent work
// folder and TAILGATE_CACHE kept, GITHUB_RUN_ID/ATTEMPT per job, job re-runs on the same
// commit, a SIGKILL mid-night, a fork's pull request. "GitHub" is a bare repository (origin)
// and the fake REST API of runner/publish/publishtest.
//
// The short, seeded version runs in `go test`; TAILGATE_SEASON=full (`make season`) runs the
// long one and prints the season table. TAILGATE_SEASON_STORE overrides the config's store
// repo (default "." as in docs/tailgate.example.yaml), e.g. with "origin" (the bare
// repository's path) to look at the rest of the season while the `repo: .` store is broken.

// seasonLoad is what the synthetic workload costs at a commit: a constant latency, and a
// share of samples three times as slow (a tail-only change when only tail moves: 15 % moves
// p90 threefold and leaves p50 alone).
type seasonLoad struct {
	med  time.Duration
	tail float64
}

func (l seasonLoad) spec() string {
	s := fmt.Sprintf("const:d=%dns", l.med.Nanoseconds())
	if l.tail > 0 {
		s += fmt.Sprintf(";spike:p=%g,x=3", l.tail)
	}
	return s + ";ring:n=16384"
}

// judge is what the gate should say about cand against base: "regression", "pass", or ""
// (not clear-cut, not counted). The season's thresholds are p50 < +10% and p90 < +50%: on a shared
// machine a const workload's p99 is the machine's preemptions, not the workload.
func (l seasonLoad) judge(base seasonLoad) string {
	r := float64(l.med) / float64(base.med)
	switch {
	case r >= 1.25 || (l.tail >= 0.1 && base.tail == 0):
		return "regression"
	case r <= 1.03 && l.tail == base.tail:
		return "pass"
	}
	return ""
}

const seasonSuite = "synth"

func seasonYAML(l seasonLoad, storeRepo string, keep int) string {
	return fmt.Sprintf(`version: 1
suites:
  %s:
    backend: synthetic
    synthetic: %q
    warmup: 50ms
    duration: { pr: 2s, nightly: 3s }
    interval: { pr: 5ms, nightly: 5ms }
    thresholds: ["p50 < +10%%", "p90 < +50%%"]
store: { kind: git, repo: %s, branch: tailgate-data }
github: { comment: true, status: true, check: false }
ci: { confirm: 1, default_branch: main, trusted_label: tailgate-trusted, keep: %d }
`, seasonSuite, l.spec(), storeRepo, keep)
}

// seasonPlan is the calendar: how many nights and pull requests, what main's workload is each
// night, and which jobs are re-run or killed.
type seasonPlan struct {
	nights, prs int
	// load is main's workload on night i; quiet nights have no new commit.
	load  func(i int) seasonLoad
	quiet func(i int) bool
	// injected regressions on main: name, first bad night, nights it lasts (0: to the end).
	injected []seasonInjection
	// rerun: a completed nightly run again as attempt 2; killResume: SIGKILLed, then
	// re-run (attempt 2, resumes); killNext: SIGKILLed, then the next night's job.
	rerun, killResume, killNext map[int]bool
	// pr is pull request j's change to main's workload at the time.
	pr       func(j int, main seasonLoad) (seasonLoad, string)
	fork     map[int]bool
	prRerun  map[int]bool
	prPushes map[int]int
}

type seasonInjection struct {
	name        string
	first, last int // nights [first, last)
	creep       bool
}

// seasonBase is main's workload. 100 µs, not more: on a shared machine each preemption delays one
// sample, so the shorter the sample the smaller the share of samples the machine moves.
var seasonBase = seasonLoad{med: 100 * time.Microsecond}

func shortSeason() seasonPlan {
	p := seasonPlan{nights: 12, prs: 5,
		injected:   []seasonInjection{{name: "step p50 ×1.3", first: 7, last: 12}},
		rerun:      map[int]bool{2: true},
		killResume: map[int]bool{3: true},
		killNext:   map[int]bool{},
		fork:       map[int]bool{4: true},
		prRerun:    map[int]bool{1: true},
		prPushes:   map[int]int{5: 2},
	}
	p.load = func(i int) seasonLoad {
		if i >= 7 {
			return seasonLoad{med: seasonBase.med * 13 / 10}
		}
		return seasonBase
	}
	p.quiet = func(i int) bool { return i == 4 }
	p.pr = func(j int, main seasonLoad) (seasonLoad, string) {
		switch j {
		case 2:
			return seasonLoad{med: main.med * 13 / 10, tail: main.tail}, "step p50 ×1.3"
		case 3:
			return seasonLoad{med: main.med, tail: 0.15}, "tail-only 15% ×3"
		}
		return main, ""
	}
	return p
}

func fullSeason() seasonPlan {
	p := seasonPlan{nights: 60, prs: 40,
		injected: []seasonInjection{
			{name: "step p50 ×1.3", first: 10, last: 16},
			{name: "tail-only 15% ×3", first: 25, last: 31},
			{name: "creep +1%/night", first: 40, last: 60, creep: true},
		},
		rerun:      map[int]bool{5: true, 20: true, 44: true},
		killResume: map[int]bool{7: true},
		killNext:   map[int]bool{33: true},
		fork:       map[int]bool{12: true, 31: true},
		prRerun:    map[int]bool{3: true, 20: true},
		prPushes:   map[int]int{6: 3, 27: 2},
	}
	p.load = func(i int) seasonLoad {
		switch {
		case i >= 10 && i < 16:
			return seasonLoad{med: seasonBase.med * 13 / 10}
		case i >= 25 && i < 31:
			return seasonLoad{med: seasonBase.med, tail: 0.15}
		case i >= 40:
			return seasonLoad{med: time.Duration(float64(seasonBase.med) * math.Pow(1.01, float64(i-39)))}
		}
		return seasonBase
	}
	p.quiet = func(i int) bool {
		for _, in := range p.injected {
			if i == in.first || i == in.last || (in.creep && i >= in.first) {
				return false
			}
		}
		return i%4 == 3
	}
	p.pr = func(j int, main seasonLoad) (seasonLoad, string) {
		switch j % 10 {
		case 5:
			return seasonLoad{med: main.med * 13 / 10, tail: main.tail}, "step p50 ×1.3"
		case 8:
			if main.tail == 0 {
				return seasonLoad{med: main.med, tail: 0.15}, "tail-only 15% ×3"
			}
		}
		return main, ""
	}
	return p
}

// season is the simulated world: GitHub (origin and the REST API), a developer's clone, and
// the board's runner with its workspace.
type season struct {
	t                    *testing.T
	bin, tmp             string
	originURL, originDir string
	dev                  string
	ws, checkout         string
	gh                   *publishtest.Server
	storeRepo            string
	keep                 int
	runID                int
	jobs                 int
	maxWork              map[string]int
	errors               []string
}

const seasonToken = "ghs_season_token"

func (s *season) git(dir string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=dev", "-c", "user.email=dev@example.com",
		"-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// failf records a failed season check without stopping the season, so the table shows them all.
func (s *season) failf(format string, a ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, a...)
	s.errors = append(s.errors, msg)
	s.t.Error(msg)
}

func newSeason(t *testing.T, bin string) *season {
	tmp := t.TempDir()
	s := &season{t: t, bin: bin, tmp: tmp, keep: 6, maxWork: map[string]int{}}
	// GITHUB_SERVER_URL/GITHUB_REPOSITORY.git is the repository's clone URL, as on GitHub.
	s.originDir = filepath.Join(tmp, "github", "pi-fleet", "vision.git")
	s.originURL = "file://" + s.originDir
	s.git(tmp, "init", "-q", "--bare", s.originDir)
	s.dev = filepath.Join(tmp, "dev")
	s.git(tmp, "clone", "-q", s.originURL, s.dev)
	s.ws = filepath.Join(tmp, "runner", "_work", "vision")
	s.checkout = filepath.Join(s.ws, "vision")
	s.gh = publishtest.New(t, seasonToken)
	s.storeRepo = "."
	switch v := os.Getenv("TAILGATE_SEASON_STORE"); v {
	case "":
	case "origin":
		s.storeRepo = s.originDir
	default:
		s.storeRepo = v
	}
	return s
}

// commit writes main's (or a branch's) tailgate.yaml, commits and pushes it.
func (s *season) commit(branch string, l seasonLoad, msg string) string {
	if err := os.WriteFile(filepath.Join(s.dev, "tailgate.yaml"), []byte(seasonYAML(l, s.storeRepo, s.keep)), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.git(s.dev, "add", "tailgate.yaml")
	s.git(s.dev, "commit", "-q", "--allow-empty", "-m", msg)
	s.git(s.dev, "push", "-q", "-f", "origin", "HEAD:refs/heads/"+branch)
	return s.git(s.dev, "rev-parse", "HEAD")
}

// actionsCheckout does what actions/checkout does on a self-hosted runner: reuse the workspace
// (every local branch and remote-tracking ref deleted, `git clean -ffdx`, `git reset --hard`)
// or, when fresh, clone anew; then fetch every branch (fetch-depth: 0) and check out branch
// (as a local branch) or sha (detached).
func (s *season) actionsCheckout(branch, sha string, fresh bool) {
	d := s.checkout
	if fresh {
		if err := os.RemoveAll(d); err != nil {
			s.t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(d, ".git")); err != nil {
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.t.Fatal(err)
		}
		s.git(d, "init", "-q")
		s.git(d, "remote", "add", "origin", s.originURL)
	} else {
		if s.git(d, "rev-parse", "--verify", "-q", "HEAD^{commit}") != "" {
			s.git(d, "checkout", "-q", "--detach")
		}
		for _, ref := range strings.Fields(s.git(d, "for-each-ref", "--format=%(refname)", "refs/heads/", "refs/remotes/")) {
			s.git(d, "update-ref", "-d", ref)
		}
		s.git(d, "clean", "-ffdx")
		s.git(d, "reset", "-q", "--hard")
	}
	s.git(d, "-c", "protocol.version=2", "fetch", "-q", "--prune", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
	if branch != "" {
		s.git(d, "checkout", "-q", "--force", "-B", branch, "refs/remotes/origin/"+branch)
	} else {
		s.git(d, "checkout", "-q", "--force", "--detach", sha)
	}
}

// seasonJob is one Actions job of the board.
type seasonJob struct {
	profile   string
	sha       string
	runID     int
	attempt   int
	pr        int
	prBranch  string
	headRepo  string
	killAfter int // SIGKILL once the run folder's log holds this many intervals (0: never)
	// split runs the shipped nightly.yml instead of the config's store: the data branch
	// checked out as a folder store, the night bundled, and the store job's push.
	split bool
}

func (s *season) work(profile string) string {
	return filepath.Join(s.ws, "tailgate-"+profile)
}

func (s *season) env(j seasonJob) []string {
	dir := filepath.Join(s.tmp, "jobs", fmt.Sprintf("%d.%d", j.runID, j.attempt))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	event := filepath.Join(dir, "event.json")
	var ev map[string]any
	name, ref := "schedule", "refs/heads/main"
	repo := map[string]any{"full_name": "pi-fleet/vision"}
	if j.pr > 0 {
		name, ref = "pull_request", fmt.Sprintf("refs/pull/%d/merge", j.pr)
		head := j.headRepo
		if head == "" {
			head = "pi-fleet/vision"
		}
		ev = map[string]any{"action": "synchronize", "number": j.pr, "repository": repo, "pull_request": map[string]any{
			"number": j.pr, "head": map[string]any{"sha": j.sha, "ref": j.prBranch, "repo": map[string]any{"full_name": head, "fork": head != "pi-fleet/vision"}},
			"base": map[string]any{"ref": "main", "repo": repo}}}
	} else {
		ev = map[string]any{"schedule": "17 2 * * *", "repository": repo}
	}
	b, _ := json.Marshal(ev)
	if err := os.WriteFile(event, b, 0o644); err != nil {
		s.t.Fatal(err)
	}
	cache := filepath.Join(s.ws, "tailgate-cache-"+j.profile)
	vars := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(s.tmp, "home"), "LANG=C",
		"TAILGATE_CACHE=" + cache, "GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_TOKEN=" + seasonToken, "GITHUB_API_URL=" + s.gh.APIURL(),
		"GITHUB_SERVER_URL=file://" + filepath.Join(s.tmp, "github"), "GITHUB_REPOSITORY=pi-fleet/vision",
		"GITHUB_RUN_ID=" + strconv.Itoa(j.runID), "GITHUB_RUN_ATTEMPT=" + strconv.Itoa(j.attempt),
		"GITHUB_EVENT_NAME=" + name, "GITHUB_EVENT_PATH=" + event, "GITHUB_SHA=" + j.sha, "GITHUB_REF=" + ref,
		"GITHUB_WORKSPACE=" + s.checkout, "RUNNER_WORKSPACE=" + s.ws, "RUNNER_TEMP=" + dir,
		"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md"), "GITHUB_OUTPUT=" + filepath.Join(dir, "output"),
	}
	if lib := os.Getenv("ONNXRUNTIME_LIB"); lib != "" {
		vars = append(vars, "ONNXRUNTIME_LIB="+lib)
	}
	return vars
}

// run runs the composite action's `tailgate ci` command line for job j in the checkout.
func (s *season) run(j seasonJob) (code int, stdout, stderr string) {
	s.t.Helper()
	s.jobs++
	args := []string{"ci", "--profile", j.profile, "--config", "tailgate.yaml",
		"--trusted-label", "tailgate-trusted", "--inconclusive", "fail", "--work", s.work(j.profile), "--quiet"}
	if j.split {
		args = append(args, "--store", "fs:"+splitStore)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.checkout
	cmd.Env = s.env(j)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if j.killAfter > 0 {
		dir := ci.RunDir(s.work(j.profile), seasonSuite, j.profile, j.sha, 0)
		job := fmt.Sprintf("%d.%d", j.runID, j.attempt)
		// Mid-night: this job's own run (not an earlier job's folder of the same commit) has
		// written killAfter intervals.
		measuring := func() bool {
			st, err := ci.ReadState(dir)
			return err == nil && st.Job == job && st.State == ci.StateRunning && intervalLines(filepath.Join(dir, result.LatencyFile)) >= j.killAfter
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
		for !measuring() {
			select {
			case err := <-done:
				s.t.Fatalf("job %d.%d ended (%v) before it was killed\n%s%s", j.runID, j.attempt, err, o.String(), e.String())
			case <-deadline:
				_ = cmd.Process.Kill()
				s.t.Fatalf("job %d.%d wrote no %d intervals in 60s", j.runID, j.attempt, j.killAfter)
			case <-time.After(10 * time.Millisecond):
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return -9, o.String(), e.String()
	}
	err := cmd.Wait()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return code, o.String(), e.String()
}

// afterJob checks what must hold after every job: the baseline is on GitHub (the only place
// that survives the next checkout), and the work folder is bounded.
func (s *season) afterJob(what string, j seasonJob, wantBaseline bool) {
	s.t.Helper()
	if wantBaseline && !s.originHasBaseline() {
		s.failf("%s: after the job, origin has no %s baseline pointer on tailgate-data (branches: %s): the next checkout loses the baseline",
			what, seasonSuite, s.git(s.originDir, "for-each-ref", "--format=%(refname:short)", "refs/heads/"))
	}
	if got, want := s.results(j), ci.RunDir(s.work(j.profile), seasonSuite, j.profile, j.sha, 0); j.killAfter == 0 {
		if len(got) == 0 {
			s.failf("%s: no `results` step output: the artifact would be the whole work folder", what)
		}
		for _, d := range got {
			if d != want && !strings.HasPrefix(d, want+"-confirm") {
				s.failf("%s: `results` names %s, not this job's run folder %s", what, d, want)
			}
		}
	}
	ents, _ := os.ReadDir(s.work(j.profile))
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			n++
		}
	}
	s.maxWork[j.profile] = max(s.maxWork[j.profile], n)
	if n > s.keep+3 {
		s.failf("%s: the %s work folder holds %d folders, ci.keep is %d", what, j.profile, n, s.keep)
	}
}

// splitStore is where nightly.yml checks the data branch out as a folder store.
const splitStore = ".tailgate-nightly-store"

// workflowScript is the run: script of the step named step in a shipped workflow.
func workflowScript(t *testing.T, file, step string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", file))
	if err != nil {
		t.Fatal(err)
	}
	var wf workflow
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	for _, j := range wf.Jobs {
		for _, st := range j.Steps {
			if st.Name == step {
				return st.Run
			}
		}
	}
	t.Fatalf("%s has no step %q", file, step)
	return ""
}

// storeJob runs what nightly.yml does after the soak: its bundle step on the board, then its
// store job's push (on a fresh GitHub-hosted runner: an empty folder with the bundle).
func (s *season) storeJob(what string, j seasonJob) {
	s.t.Helper()
	jobDir := filepath.Join(s.tmp, "jobs", fmt.Sprintf("%d.%d", j.runID, j.attempt))
	env := append(s.env(j), "TAILGATE_DATA_BRANCH=tailgate-data")
	bash := func(dir, script string, extra ...string) {
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(env, extra...)
		if out, err := cmd.CombinedOutput(); err != nil {
			s.failf("%s: nightly.yml script failed: %v\n%s", what, err, out)
		}
	}
	bash(s.checkout, workflowScript(s.t, "nightly.yml", "Bundle the night for the store job"))
	out, _ := os.ReadFile(filepath.Join(jobDir, "output"))
	if !strings.Contains(string(out), "changed=true") {
		if !strings.Contains(string(out), "changed=false") {
			s.failf("%s: the bundle step set no changed output", what)
		}
		return
	}
	hosted := filepath.Join(jobDir, "hosted")
	if err := os.CopyFS(filepath.Join(hosted, "night"), os.DirFS(filepath.Join(jobDir, "tailgate-store"))); err != nil {
		s.t.Fatal(err)
	}
	bash(hosted, workflowScript(s.t, "nightly.yml", "Push the night to the data branch (fast-forward, store files only)"), "TOKEN="+seasonToken)
}

// results is the `results` output job j's `tailgate ci` wrote to $GITHUB_OUTPUT (heredoc form).
func (s *season) results(j seasonJob) []string {
	b, err := os.ReadFile(filepath.Join(s.tmp, "jobs", fmt.Sprintf("%d.%d", j.runID, j.attempt), "output"))
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		delim, ok := strings.CutPrefix(l, "results<<")
		if !ok {
			continue
		}
		var out []string
		for _, v := range lines[i+1:] {
			if v == delim {
				return out
			}
			out = append(out, v)
		}
	}
	return nil
}

func (s *season) originHasBaseline() bool {
	cmd := exec.Command("git", "ls-tree", "-r", "--name-only", "refs/heads/tailgate-data")
	cmd.Dir = s.originDir
	out, err := cmd.Output()
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "suites/"+seasonSuite+"/") && strings.HasSuffix(l, "/"+baseline.PointerFile) {
			return true
		}
	}
	return false
}

// seasonHistory is `tailgate baseline history --format json`.
type seasonHistory struct {
	Nights  []baseline.HistoryEntry `json:"nights"`
	Changes []history.Change        `json:"changes"`
	Creeps  []history.Creep         `json:"creeps"`
}

// history reads the suite's history from GitHub's copy of the data branch, as a user would.
func (s *season) history() (*seasonHistory, error) {
	cmd := exec.Command(s.bin, "baseline", "history", seasonSuite, "--store", "git:"+s.originURL+"#tailgate-data", "--format", "json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(s.tmp, "home"),
		"TAILGATE_CACHE=" + filepath.Join(s.tmp, "user-cache")}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("baseline history: %v\n%s", err, e.String())
	}
	var h seasonHistory
	if err := json.Unmarshal(o.Bytes(), &h); err != nil {
		return nil, err
	}
	return &h, nil
}

var mdRow = regexp.MustCompile(`(?m)^\| (result|commit) \| ([^|]*) \| ([^|]*) \|$`)

// seasonNight is one completed night as the season saw it.
type seasonNight struct {
	commit   string
	load     seasonLoad
	expect   string
	code     int
	promoted bool
}

type seasonCatch struct {
	name, where, commits string
	ok                   bool
}

func TestSeason(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a season of CI jobs")
	}
	plan := shortSeason()
	if os.Getenv("TAILGATE_SEASON") == "full" {
		plan = fullSeason()
	}
	start := time.Now()
	s := newSeason(t, buildTailgate(t))
	// The data branch exists before the first night (docs/github.md).
	s.git(s.dev, "switch", "-q", "--orphan", "tailgate-data")
	s.git(s.dev, "commit", "-q", "--allow-empty", "-m", "tailgate data")
	s.git(s.dev, "push", "-q", "origin", "tailgate-data")
	s.git(s.dev, "switch", "-q", "-c", "main")
	s.commit("main", plan.load(0), "init")

	var nights []seasonNight // completed nights, in history order
	baseLoad := seasonLoad{}
	hasBase := false
	promotions, falseFail, inconclusive, unchangedJobs := 0, 0, 0, 0
	prAt := map[int][]int{} // night → pull requests opened after it
	for j := 1; j <= plan.prs; j++ {
		n := 1 + (j-1)*(plan.nights-1)/plan.prs
		prAt[n] = append(prAt[n], j)
	}
	var prResults []string
	var catches []seasonCatch
	mainLoad := plan.load(0)
	sha := s.git(s.dev, "rev-parse", "HEAD")

	nightly := func(i int, j seasonJob, fresh bool, what string) (int, string, string) {
		s.actionsCheckout("main", "", fresh)
		if got := s.git(s.checkout, "rev-parse", "HEAD"); got != j.sha {
			t.Fatalf("%s: checkout is at %s, want %s", what, got, j.sha)
		}
		// Odd nights run the shipped nightly.yml (soak on a folder copy of the data branch,
		// then the store job's push); even nights the config's git store pushes itself.
		j.split = i%2 == 1
		if j.split {
			what += " (nightly.yml)"
			s.git(s.checkout, "clone", "-q", "--branch", "tailgate-data", s.originURL, splitStore)
		}
		code, out, errOut := s.run(j)
		if j.split {
			s.storeJob(what, j)
		}
		s.afterJob(what, j, code != -9 || hasBase)
		return code, out, errOut
	}
	for i := 0; i < plan.nights; i++ {
		l := plan.load(i)
		if i > 0 && !plan.quiet(i) {
			sha = s.commit("main", l, fmt.Sprintf("night %d: %s", i, l.spec()))
		} else if i > 0 && l != mainLoad {
			t.Fatalf("plan: night %d changes the load without a commit", i)
		}
		mainLoad = l
		s.runID++
		job := seasonJob{profile: "nightly", sha: sha, runID: 1000 + s.runID, attempt: 1}
		what := fmt.Sprintf("night %d (run %d)", i, job.runID)
		fresh := i%5 == 0
		if plan.killResume[i] || plan.killNext[i] {
			k := job
			k.killAfter = 4
			nightly(i, k, fresh, what+" killed")
			if plan.killNext[i] {
				// The board came back for the next night's job: this night has no entry.
				continue
			}
			job.attempt = 2
			what += " attempt 2 after SIGKILL"
		}
		code, out, errOut := nightly(i, job, fresh, what)
		if plan.killResume[i] && !strings.Contains(errOut, "resuming after") {
			s.failf("%s: the re-run did not resume the killed run:\n%s", what, errOut)
		}
		if strings.Contains(errOut, "reusing it") {
			s.failf("%s: reused a finished measurement:\n%s", what, errOut)
		}
		expect := "bootstrap"
		if hasBase {
			expect = l.judge(baseLoad)
		}
		promoted := strings.Contains(errOut, "is now the baseline")
		if promoted {
			promotions++
		}
		switch {
		case expect == "bootstrap" && (code != 0 || !promoted):
			s.failf("%s: the first night should become the baseline: exit %d\n%s%s", what, code, out, errOut)
		case expect == "regression" && code == exitInconclusive:
			// The machine's noise, not a miss (a miss passes): reported, not a failure.
			inconclusive++
			t.Logf("%s: %s injected, inconclusive (noise)\n%s%s", what, l.spec(), out, errOut)
		case expect == "regression" && code != exitRegression:
			s.failf("%s: %s injected, exit %d, want %d\n%s%s", what, l.spec(), code, exitRegression, out, errOut)
		case expect == "pass":
			unchangedJobs++
			if code == exitInconclusive {
				inconclusive++
				t.Logf("%s: unchanged, inconclusive (noise)\n%s%s", what, out, errOut)
			} else if code != 0 {
				falseFail++
				t.Logf("%s: unchanged, exit %d (a false failure)\n%s%s", what, code, out, errOut)
			}
		}
		if hasBase && strings.Contains(out, "became the baseline") {
			s.failf("%s: bootstrapped a new baseline although night %d's was promoted:\n%s%s", what, len(nights)-1, out, errOut)
		}
		if promoted {
			baseLoad, hasBase = l, true
		}
		nights = append(nights, seasonNight{commit: sha, load: l, expect: expect, code: code, promoted: promoted})
		if plan.rerun[i] {
			// Re-run all jobs: the same commit, attempt 2; a second measurement of the same night.
			job.attempt = 2
			code2, out2, errOut2 := nightly(i, job, false, what+" re-run")
			if strings.Contains(errOut2, "reusing it") {
				s.failf("%s re-run: reused attempt 1's measurement:\n%s", what, errOut2)
			}
			if strings.Contains(errOut2, "is now the baseline") {
				promotions++
			}
			t.Logf("%s re-run: exit %d (attempt 1: %d)", what, code2, code)
			_ = out2
		}

		for _, pj := range prAt[i] {
			prResults = append(prResults, s.pullRequest(plan, pj, mainLoad, baseLoad, hasBase, &unchangedJobs, &falseFail, &inconclusive, &catches)...)
		}
	}

	// The history, read from GitHub as a user would.
	h, err := s.history()
	if err != nil {
		s.failf("history: %v", err)
		h = &seasonHistory{}
	}
	if len(h.Nights) != len(nights) {
		s.failf("history holds %d nightly entries for %d completed nights (one per night; a re-run adds none)", len(h.Nights), len(nights))
	}
	seen := map[string]bool{}
	for k, e := range h.Nights {
		if e.Run != "" && e.Run == e.Baseline {
			s.failf("history night %d: run %s was compared with itself", k, e.Run)
		}
		if seen[e.Run] {
			s.failf("history night %d: run %s recorded twice", k, e.Run)
		}
		seen[e.Run] = true
		if k < len(nights) && e.Commit != nights[k].commit {
			s.failf("history night %d is commit %.12s, the season ran %.12s", k, e.Commit, nights[k].commit)
		}
	}

	// Every injected regression on main: the night it lands fails (step, tail) and the history
	// names the commit range from the last good night to it.
	for _, in := range plan.injected {
		c := seasonCatch{name: in.name}
		if in.first >= len(h.Nights) || in.first == 0 {
			s.failf("%s: the history has no night %d", in.name, in.first)
			catches = append(catches, c)
			continue
		}
		k := in.first
		if !in.creep {
			c.where = fmt.Sprintf("night %d", k)
			if nights[k].code != exitInconclusive && (nights[k].code != exitRegression || h.Nights[k].Verdict != "regression") {
				s.failf("%s: night %d exit %d, history verdict %q; want a regression", in.name, k, nights[k].code, h.Nights[k].Verdict)
			}
		}
		var found *history.Change
		for x := range h.Changes {
			ch := h.Changes[x]
			if ch.Shift <= 0 {
				continue
			}
			if (!in.creep && ch.Night == k) || (in.creep && ch.Night > in.first && ch.Night < in.last) {
				found = &ch
				break
			}
		}
		if found == nil && in.creep {
			for _, cr := range h.Creeps {
				if cr.Metric == "p50" && !cr.Faster && cr.End > in.first && cr.Start < in.last {
					c.where = fmt.Sprintf("creep nights %d–%d", cr.Start, cr.End)
					c.commits = fmt.Sprintf("%.7s..%.7s", h.Nights[max(cr.Start-1, 0)].Commit, h.Nights[min(cr.End, len(h.Nights)-1)].Commit)
					c.ok = true
				}
			}
			if c.ok {
				catches = append(catches, c)
				continue
			}
		}
		if found == nil {
			var levels []string
			for n := max(k-5, 0); n < min(in.last+3, len(h.Nights)); n++ {
				e := h.Nights[n]
				levels = append(levels, fmt.Sprintf("%d: p50 %d p90 %d p99 %d", n, e.P50/1000, e.Gated["p90"]/1000, e.P99/1000))
			}
			s.failf("%s: no upward change point at night %d in the history (changes: %+v, creeps: %+v; nights in µs: %s)", in.name, k, h.Changes, h.Creeps, strings.Join(levels, ", "))
			catches = append(catches, c)
			continue
		}
		from, to := h.Nights[found.Night-1].Commit, h.Nights[found.Night].Commit
		c.commits = fmt.Sprintf("%.7s..%.7s (%s %+.0f%%)", from, to, found.Metric, 100*found.Shift)
		if in.creep {
			c.where = fmt.Sprintf("change point night %d", found.Night)
		} else if from != nights[k-1].commit || to != nights[k].commit {
			s.failf("%s: change point names %s, want %.7s..%.7s", in.name, c.commits, nights[k-1].commit, nights[k].commit)
		} else {
			c.ok = true
		}
		if in.creep {
			c.ok = true
		}
		catches = append(catches, c)
	}
	// No change point outside the injected windows, in what the suite gates (p50, p90): the
	// p99 and p99.9 of a constant workload on a shared machine are the machine's preemptions,
	// and a change in them where the machine's load changed is real, not a false alarm.
	for _, ch := range h.Changes {
		if ch.Metric != "p50" && ch.Metric != "p90" {
			continue
		}
		inside := false
		for _, in := range plan.injected {
			if ch.Night >= in.first && ch.Night <= in.last {
				inside = true
			}
		}
		if !inside {
			s.failf("change point at night %d (%s %+.0f%%) where nothing was injected", ch.Night, ch.Metric, 100*ch.Shift)
		}
	}
	// False failures: unchanged jobs that failed (a regression or an error), at most 1 in 10 and
	// at least one allowed. Inconclusive jobs (the gate saying the run cannot resolve its limit
	// on this machine, never a pass of an injected regression) are counted and shown: how often
	// the statistics cannot decide is make calibrate's to judge, on processes with a known truth.
	if limit := max(1, unchangedJobs/10); falseFail > limit {
		s.failf("%d of %d unchanged nights and pull requests failed, more than %d", falseFail, unchangedJobs, limit)
	}

	size := func(dir string) string {
		out, _ := exec.Command("du", "-sh", dir).Output()
		f := strings.Fields(string(out))
		if len(f) == 0 {
			return "?"
		}
		return f[0]
	}
	countDirs := func(dir string) int {
		ents, _ := os.ReadDir(dir)
		return len(ents)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nseason: %d nights, %d pull requests, %d jobs in %s (store repo %q)\n", plan.nights, plan.prs, s.jobs,
		time.Since(start).Round(time.Second), s.storeRepo)
	fmt.Fprintf(&b, "%-30s %s\n", "nights (completed)", fmt.Sprintf("%d of %d", len(nights), plan.nights))
	fmt.Fprintf(&b, "%-30s %d\n", "pull requests", plan.prs)
	for _, c := range catches {
		mark := "CAUGHT"
		if !c.ok {
			mark = "MISSED"
		}
		fmt.Fprintf(&b, "%-30s %s %s %s\n", "injected: "+c.name, mark, c.where, c.commits)
	}
	for _, r := range prResults {
		fmt.Fprintf(&b, "%-30s %s\n", "", r)
	}
	fmt.Fprintf(&b, "%-30s %d of %d unchanged jobs\n", "false failures", falseFail, unchangedJobs)
	fmt.Fprintf(&b, "%-30s %d jobs (unchanged or injected)\n", "inconclusive (noise)", inconclusive)
	fmt.Fprintf(&b, "%-30s %d\n", "baseline promotions", promotions)
	fmt.Fprintf(&b, "%-30s %d nightly entries, %d change points, %d creeps\n", "history lines", len(h.Nights), len(h.Changes), len(h.Creeps))
	fmt.Fprintf(&b, "%-30s nightly %d folders %s (max %d), pr %d folders %s (max %d); ci.keep %d\n", "work folder at the end",
		countDirs(s.work("nightly")), size(s.work("nightly")), s.maxWork["nightly"],
		countDirs(s.work("pr")), size(s.work("pr")), s.maxWork["pr"], s.keep)
	fmt.Fprintf(&b, "%-30s %d\n", "season check failures", len(s.errors))
	t.Log(b.String())
	if os.Getenv("TAILGATE_SEASON") == "full" {
		fmt.Print(b.String())
	}
}

// pullRequest runs pull request j (opened on main as it is now): its pushes, a re-run, or a
// fork's refusal; it returns the table lines of a pull request with an injected regression.
func (s *season) pullRequest(plan seasonPlan, j int, mainLoad, baseLoad seasonLoad, hasBase bool, unchanged, falseFail, inconclusive *int, catches *[]seasonCatch) []string {
	t := s.t
	t.Helper()
	num := 100 + j
	branch := fmt.Sprintf("pr-%d", j)
	l, change := plan.pr(j, mainLoad)
	mainSHA := s.git(s.dev, "rev-parse", "main")
	s.git(s.dev, "checkout", "-q", "-B", branch, "main")
	defer s.git(s.dev, "checkout", "-q", "main")
	pushes := max(1, plan.prPushes[j])
	var lines []string
	for p := 1; p <= pushes; p++ {
		msg := fmt.Sprintf("pr %d push %d", j, p)
		if change != "" {
			msg += ": " + change
		}
		sha := s.commit(branch, l, msg)
		s.runID++
		job := seasonJob{profile: "pr", sha: sha, runID: 1000 + s.runID, attempt: 1, pr: num, prBranch: branch}
		what := fmt.Sprintf("PR #%d push %d (run %d)", num, p, job.runID)
		if plan.fork[j] {
			job.headRepo = "outsider/vision"
			statuses := len(s.gh.Statuses())
			s.actionsCheckout("", sha, false)
			code, out, errOut := s.run(job)
			if code != exitError || !strings.Contains(errOut, "refusing pull request") {
				s.failf("%s from a fork: exit %d, want %d and a refusal\n%s%s", what, code, exitError, out, errOut)
			}
			if _, err := os.Stat(ci.RunDir(s.work("pr"), seasonSuite, "pr", sha, 0)); err == nil {
				s.failf("%s from a fork: a run folder was created", what)
			}
			if len(s.gh.Statuses()) != statuses || len(s.gh.Comments(num)) != 0 {
				s.failf("%s from a fork: published something", what)
			}
			lines = append(lines, fmt.Sprintf("PR #%d from a fork: refused (exit %d)", num, code))
			return lines
		}
		attempts := 1
		if plan.prRerun[j] {
			attempts = 2
		}
		for a := 1; a <= attempts; a++ {
			job.attempt = a
			edits := s.gh.Count(publishtest.EditComment)
			s.actionsCheckout("", sha, s.jobs%3 == 0)
			code, out, errOut := s.run(job)
			s.afterJob(what, job, hasBase)
			expect := "incomparable"
			if hasBase {
				expect = l.judge(baseLoad)
			}
			switch expect {
			case "regression":
				if code == exitInconclusive {
					*inconclusive++
					t.Logf("%s attempt %d: %s, inconclusive (noise)", what, a, change)
				} else if code != exitRegression {
					s.failf("%s attempt %d: %s (%s), exit %d, want %d\n%s%s", what, a, change, l.spec(), code, exitRegression, out, errOut)
				}
			case "pass":
				*unchanged++
				if code == exitInconclusive {
					*inconclusive++
				} else if code != 0 {
					*falseFail++
					t.Logf("%s attempt %d: unchanged, exit %d (a false failure)\n%s%s", what, a, code, out, errOut)
				}
			}
			if strings.Contains(errOut, "reusing it") {
				s.failf("%s attempt %d: reused a finished measurement:\n%s", what, a, errOut)
			}
			cs := s.gh.Comments(num)
			if len(cs) != 1 {
				s.failf("%s attempt %d: %d comments on the pull request, want 1", what, a, len(cs))
			} else {
				if (p > 1 || a > 1) && s.gh.Count(publishtest.EditComment) == edits {
					s.failf("%s attempt %d: the comment was not edited in place", what, a)
				}
				rows := map[string][2]string{}
				for _, m := range mdRow.FindAllStringSubmatch(cs[0].Body, -1) {
					rows[m[1]] = [2]string{strings.TrimSpace(m[2]), strings.TrimSpace(m[3])}
				}
				if r, ok := rows["result"]; hasBase && (!ok || r[0] == r[1] || r[0] == "–") {
					s.failf("%s attempt %d: comment's result row %q: baseline and candidate must be two runs", what, a, r)
				}
				if c, ok := rows["commit"]; hasBase && (!ok || !strings.HasPrefix(c[1], sha[:7]) || strings.HasPrefix(c[0], sha[:7])) {
					s.failf("%s attempt %d: comment's commit row %q: want the baseline's commit and candidate %.7s", what, a, c, sha)
				}
			}
			var st *publishtest.Status
			for _, x := range s.gh.Statuses() {
				if x.SHA == sha && x.Context == "tailgate/"+seasonSuite {
					st = &x
				}
			}
			if st == nil {
				s.failf("%s attempt %d: no tailgate/%s status on %.12s", what, a, seasonSuite, sha)
			}
			if change != "" && a == 1 && p == 1 {
				ok := code == exitRegression
				*catches = append(*catches, seasonCatch{name: fmt.Sprintf("PR #%d %s", num, change), where: fmt.Sprintf("PR #%d", num),
					commits: fmt.Sprintf("%.7s..%.7s", mainSHA, sha), ok: ok})
			}
		}
	}
	return lines
}
