package baseline

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// plantScript writes an executable shell script that records that it ran, and the environment
// it ran with, into marker.NAME.
func plantScript(t *testing.T, path, marker, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nenv > '" + marker + "." + name + "'\nexit 0\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// ranScripts lists the planted scripts that ran.
func ranScripts(t *testing.T, marker string) []string {
	t.Helper()
	m, _ := filepath.Glob(marker + ".*")
	return m
}

// filesContaining lists the files under root whose content holds any of needles.
func filesContaining(t *testing.T, root string, needles ...string) []string {
	t.Helper()
	var hits []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				hits = append(hits, p)
				break
			}
		}
		return nil
	})
	return hits
}

var hookNames = []string{"post-checkout", "pre-push", "reference-transaction", "pre-commit", "commit-msg",
	"post-commit", "prepare-commit-msg", "pre-auto-gc", "post-index-change", "post-merge", "fsmonitor-watchman",
	"pre-receive", "update", "post-receive", "post-update", "push-to-checkout"}

// TestGitStorePlantedHooksAndConfig plants hooks and a hostile .git/config (fsmonitor, pager,
// aliases, include.path, credential helper, filter driver with info/attributes, hooksPath) in
// the persistent clone of a git store, the way an earlier job on the runner could, and runs
// every kind of store operation with the job's token in the environment: nothing planted in the
// clone runs, the remote's own hooks never see the token, and the token is in no file under the
// cache.
func TestGitStorePlantedHooksAndConfig(t *testing.T) {
	const secret = "ghs_plantedHookTokenLeak0123456789"
	t.Setenv("GITHUB_TOKEN", secret)
	t.Setenv("TAILGATE_GITHUB_TOKEN", secret)
	remote := bareRepo(t)
	cache := t.TempDir()
	evil := t.TempDir()
	marker := filepath.Join(evil, "ran")
	open := func(warn *bytes.Buffer) Store {
		t.Helper()
		st, err := Open(Spec{Kind: KindGit, Repo: remote, Branch: "data"}, Options{CacheDir: cache, Warn: warn, GitToken: secret})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// A first job writes a run, so the clone exists and has a branch to check out.
	var warn bytes.Buffer
	st := open(&warn)
	first := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	if _, err := st.Promote(Promotion{Suite: first.Suite, Key: first.Key, Run: first.ID, Force: true, Reason: "first"}); err != nil {
		t.Fatal(err)
	}
	if warn.Len() != 0 {
		t.Fatalf("tailgate distrusted its own clone: %s", warn.String())
	}
	clones, _ := filepath.Glob(filepath.Join(cache, "git", "*", ".git"))
	if len(clones) != 1 {
		t.Fatalf("clones: %v", clones)
	}
	gd := clones[0]

	// The attack: hooks in the clone, in a hooks folder its config points to, and in the
	// remote; a config that runs programs every way it can.
	evilHooks := filepath.Join(evil, "hooks")
	for _, h := range hookNames {
		plantScript(t, filepath.Join(gd, "hooks", h), marker, "clone-"+h)
		plantScript(t, filepath.Join(evilHooks, h), marker, "hookspath-"+h)
		plantScript(t, filepath.Join(remote, "hooks", h), marker, "remote-"+h)
	}
	prog := filepath.Join(evil, "prog")
	plantScript(t, prog, marker, "prog")
	included := filepath.Join(evil, "included.cfg")
	os.WriteFile(included, []byte("[core]\n\thooksPath = "+evilHooks+"\n\tfsmonitor = "+prog+"\n[credential]\n\thelper = !"+prog+"\n"), 0o644)
	cfg, _ := os.ReadFile(filepath.Join(gd, "config"))
	cfg = append(cfg, []byte("[core]\n\tfsmonitor = "+prog+"\n\tpager = "+prog+"\n\thooksPath = "+evilHooks+
		"\n\tsshCommand = "+prog+"\n\taskPass = "+prog+"\n\teditor = "+prog+
		"\n[alias]\n\tst = !"+prog+"\n\tci = !"+prog+"\n[include]\n\tpath = "+included+
		"\n[credential]\n\thelper = !"+prog+"\n[filter \"evil\"]\n\tclean = "+prog+"\n\tsmudge = "+prog+"\n\trequired = true\n"+
		"[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = "+prog+"\n[gc]\n\tauto = 1\n[diff]\n\texternal = "+prog+"\n")...)
	if err := os.WriteFile(filepath.Join(gd, "config"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(gd, "info", "attributes"), []byte("* filter=evil\n"), 0o644)

	// The next jobs: the CLI's read path and every write through the API.
	warn.Reset()
	st = open(&warn)
	if _, err := st.Suites(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "changed outside tailgate") {
		t.Errorf("the tampered clone was used without a word: %q", warn.String())
	}
	ri := mustAdd(t, st, mkResult(t, "v", 2, 1e6, nil))
	if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "second"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Append(nightlyFor(ri, "pass")); err != nil {
		t.Fatal(err)
	}
	// Tampering between two writes of one process is caught too.
	plantScript(t, filepath.Join(gd, "hooks", "post-checkout"), marker, "again-post-checkout")
	os.WriteFile(filepath.Join(gd, "config"), cfg, 0o644)
	if err := st.Append(nightlyFor(ri, "pass")); err != nil {
		t.Fatal(err)
	}
	r, err := readBaseline(open(nil), ri.Suite, ri.Key)
	if err != nil || filepath.Base(r.Dir) != ri.ID {
		t.Fatalf("baseline after the attack: %v, %v", r, err)
	}
	for _, p := range ranScripts(t, marker) {
		b, _ := os.ReadFile(p)
		leaked := bytes.Contains(b, []byte(secret))
		// The remote's own hooks are the server's business (GitHub runs its own); a local
		// remote runs them in receive-pack, but without the job's token.
		if strings.HasPrefix(filepath.Base(p), "ran.remote-") && !leaked {
			continue
		}
		t.Errorf("%s ran (token in its environment: %v)", filepath.Base(p), leaked)
	}
	if hits := filesContaining(t, cache, secret, base64.StdEncoding.EncodeToString([]byte("x-access-token:"+secret))); len(hits) > 0 {
		t.Errorf("the token is written in %v", hits)
	}
}

// actionsCheckout does to a reused workspace what actions/checkout does: fetch, check out the
// commit detached, and delete every local branch and remote-tracking ref.
func actionsCheckout(t *testing.T, dir string) {
	t.Helper()
	runGit(t, dir, "fetch", "-q", "origin", "+refs/heads/main:refs/remotes/origin/main")
	runGit(t, dir, "checkout", "-q", "--detach", "refs/remotes/origin/main")
	for _, b := range strings.Fields(runGit(t, dir, "for-each-ref", "--format=%(refname:short)", "refs/heads/")) {
		runGit(t, dir, "branch", "-q", "-D", b)
	}
	for _, b := range strings.Fields(runGit(t, dir, "for-each-ref", "--format=%(refname)", "refs/remotes/")) {
		runGit(t, dir, "update-ref", "-d", b)
	}
	runGit(t, dir, "clean", "-qffdx")
}

// TestGitStoreRepoDotIsOrigin lives three nights of the shipped config (`repo: .`) the way a
// persistent runner does: between nights actions/checkout deletes the checkout's local branches,
// and the store's cache is kept or wiped. The baseline survives every night, because it is on
// the origin's data branch, not in the checkout.
func TestGitStoreRepoDotIsOrigin(t *testing.T) {
	origin := bareRepo(t)
	seed := filepath.Join(t.TempDir(), "seed")
	runGit(t, "", "init", "-q", "-b", "main", seed)
	os.WriteFile(filepath.Join(seed, "model.txt"), []byte("v1"), 0o644)
	runGit(t, seed, "add", ".")
	runGit(t, seed, "commit", "-qm", "code")
	runGit(t, seed, "push", "-q", origin, "main")
	checkout := filepath.Join(t.TempDir(), "work", "vision")
	runGit(t, "", "clone", "-q", origin, checkout)
	t.Chdir(checkout)

	cache := t.TempDir()
	var base RunInfo
	for night, wipe := range []bool{false, false, true} {
		if wipe {
			cache = t.TempDir()
		}
		st, err := Open(Spec{Kind: KindGit, Repo: "."}, Options{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		if night > 0 {
			r, err := readBaseline(st, base.Suite, base.Key)
			if err != nil || filepath.Base(r.Dir) != base.ID {
				t.Fatalf("night %d (cache wiped: %v): baseline %v, %v", night+1, wipe, r, err)
			}
		}
		ri := mustAdd(t, st, mkResult(t, "v", uint64(night+1), 1e6, nil))
		if night == 0 {
			if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "first night"}); err != nil {
				t.Fatal(err)
			}
			base = ri
		}
		if err := st.Append(nightlyFor(ri, "pass")); err != nil {
			t.Fatal(err)
		}
		st.Close()
		actionsCheckout(t, checkout)
	}
	files := runGit(t, origin, "ls-tree", "-r", "--name-only", DefaultDataBranch)
	if !strings.Contains(files, PointerFile) || strings.Count(files, ManifestFile) != 3 {
		t.Fatalf("origin's %s holds:\n%s", DefaultDataBranch, files)
	}
	if refs := runGit(t, checkout, "for-each-ref", "refs/heads/"); refs != "" {
		t.Errorf("the store wrote into the checkout: %s", refs)
	}
}

// gitHTTPSServer serves the bare repositories under root over TLS through git-http-backend,
// refusing every request that does not carry "x-access-token:token" as basic auth.
func gitHTTPSServer(t *testing.T, root, token string) (*httptest.Server, *atomic.Int64, string) {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git --exec-path:", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skip("no git-http-backend:", err)
	}
	var authorized atomic.Int64
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=tailgate"}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "x-access-token" || pass != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := srv.TLS.Certificates[0]
	var pemBuf bytes.Buffer
	for _, der := range cert.Certificate {
		pem.Encode(&pemBuf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	if err := os.WriteFile(ca, pemBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, &authorized, ca
}

// TestGitStoreTokenNeverInArgvOrFiles pushes and fetches a git store over https with the job's
// token: every git process tailgate starts goes through a wrapper first in PATH that logs its
// argv. The server sees the token (as basic auth, from the environment), the argv log and the
// files under the cache never do. A remote on another host gets no token at all.
func TestGitStoreTokenNeverInArgvOrFiles(t *testing.T) {
	const token = "ghs_argvLeakCanary9876543210"
	root := t.TempDir()
	runGit(t, "", "init", "-q", "--bare", filepath.Join(root, "vision.git"))
	runGit(t, filepath.Join(root, "vision.git"), "config", "http.receivepack", "true")
	srv, authorized, ca := gitHTTPSServer(t, root, token)
	u, _ := url.Parse(srv.URL)

	realGit, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	argvLog := filepath.Join(t.TempDir(), "argv.log")
	wrapper := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + argvLog + "'\nexec '" + realGit + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	cache := t.TempDir()
	opt := Options{CacheDir: cache, GitToken: token, GitTokenHost: u.Host, gitConfig: []string{"-c", "http.sslCAInfo=" + ca}}
	spec := Spec{Kind: KindGit, Repo: srv.URL + "/vision.git", Branch: "data"}
	st, err := Open(spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	ri := mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "https"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Append(nightlyFor(ri, "pass")); err != nil {
		t.Fatal(err)
	}
	opt.CacheDir = t.TempDir()
	st2, err := Open(spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := readBaseline(st2, ri.Suite, ri.Key); err != nil || filepath.Base(r.Dir) != ri.ID {
		t.Fatalf("second board's baseline: %v, %v", r, err)
	}
	if authorized.Load() == 0 {
		t.Fatal("the server never saw the token")
	}
	if !strings.Contains(runGit(t, filepath.Join(root, "vision.git"), "ls-tree", "-r", "--name-only", "data"), PointerFile) {
		t.Fatal("the data branch was not pushed")
	}
	argv, err := os.ReadFile(argvLog)
	if err != nil || !strings.Contains(string(argv), "push") {
		t.Fatalf("the wrapper logged no push (%v):\n%s", err, argv)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	if strings.Contains(string(argv), token) || strings.Contains(string(argv), b64) {
		t.Errorf("the token is in a git command line:\n%s", argv)
	}
	for _, dir := range []string{cache, opt.CacheDir} {
		if hits := filesContaining(t, dir, token, b64); len(hits) > 0 {
			t.Errorf("the token is written in %v", hits)
		}
	}
	// Without the token, or with it meant for another host, the server refuses.
	for name, o := range map[string]Options{
		"no token":   {CacheDir: t.TempDir(), gitConfig: opt.gitConfig},
		"other host": {CacheDir: t.TempDir(), GitToken: token, GitTokenHost: "github.com", gitConfig: opt.gitConfig},
	} {
		st, err := Open(spec, o)
		if err == nil {
			_, err = st.Suites()
		}
		if err == nil {
			t.Errorf("%s: the server served the store", name)
		}
	}
}

func TestGitAuthEnv(t *testing.T) {
	for _, tc := range []struct {
		remote, token, host string
		want                bool
	}{
		{"https://github.com/o/r", "t", "", true},
		{"https://GitHub.com/o/r.git", "t", "github.com", true},
		{"https://ghe.example.com/o/r", "t", "ghe.example.com", true},
		{"https://ghe.example.com/o/r", "t", "", false},
		{"https://github.com.evil.example/o/r", "t", "", false},
		{"https://github.com:8443/o/r", "t", "", false},
		{"http://github.com/o/r", "t", "", false},
		{"git@github.com:o/r.git", "t", "", false},
		{"/srv/git/r.git", "t", "", false},
		{"https://github.com/o/r", "", "", false},
	} {
		env := GitAuthEnv(tc.remote, tc.token, tc.host)
		if (env != nil) != tc.want {
			t.Errorf("GitAuthEnv(%q, host %q) = %q, want a credential: %v", tc.remote, tc.host, env, tc.want)
		}
		for _, e := range env {
			if strings.Contains(e, tc.token+"@") || strings.HasPrefix(e, "GIT_CONFIG_VALUE_0=") && !strings.HasPrefix(e, "GIT_CONFIG_VALUE_0=AUTHORIZATION: basic ") {
				t.Errorf("odd entry %q", e)
			}
		}
	}
}

// TestGitEnvAllowList checks that git gets no variable of the caller beyond the allow list.
func TestGitEnvAllowList(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "ghs_x")
	t.Setenv("GIT_DIR", "/elsewhere")
	t.Setenv("GIT_CONFIG_PARAMETERS", "'core.hookspath'='/evil'")
	t.Setenv("GIT_SSH_COMMAND", "/evil")
	t.Setenv("LD_PRELOAD", "/evil.so")
	t.Setenv("HOME", "/home/pi")
	for _, kv := range GitEnv() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GIT_SSH_COMMAND" && kv == "GIT_SSH_COMMAND=ssh -o BatchMode=yes":
		case k == "HOME" && kv == "HOME=/dev/null":
		case k == "GITHUB_TOKEN", k == "GIT_DIR", k == "GIT_CONFIG_PARAMETERS", k == "LD_PRELOAD", k == "HOME", k == "GIT_SSH_COMMAND":
			t.Errorf("git would see %s", kv)
		}
	}
}

// TestResolveRemote: a URL stays, a bare repository is itself, a checkout means its origin,
// credentials in a URL and transports the store does not support are refused.
func TestResolveRemote(t *testing.T) {
	origin := bareRepo(t)
	co := filepath.Join(t.TempDir(), "co")
	runGit(t, "", "clone", "-q", origin, co)
	for _, tc := range []struct{ repo, want, errHas string }{
		{"https://github.com/o/r", "https://github.com/o/r", ""},
		{"git@github.com:o/r.git", "git@github.com:o/r.git", ""},
		{origin, origin, ""},
		{co, origin, ""},
		{"https://x-access-token:ghs_secret@github.com/o/r", "", "carries a password"},
		{"ext::sh -c touch% /tmp/pwned", "", ""}, // a local path named so: git never sees ext::
		{"http://github.com/o/r", "", "supports https://"},
		{"git://github.com/o/r", "", "supports https://"},
	} {
		got, err := resolveRemote(tc.repo, gitRunner{}, nil)
		switch {
		case tc.errHas != "":
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), "ghs_secret") {
				t.Errorf("%s: %q, %v; want an error with %q and no secret", tc.repo, got, err, tc.errHas)
			}
		case tc.want == "":
			if err != nil || !filepath.IsAbs(got) {
				t.Errorf("%s: %q, %v; want an absolute path", tc.repo, got, err)
			}
		case err != nil || got != tc.want:
			t.Errorf("%s: %q, %v; want %q", tc.repo, got, err, tc.want)
		}
	}
}
