package prdata

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// upstream is a real repository: main holds the base's model, refs/pull/1/head a pull request
// that changes it and adds a symlink, an oversized blob and a folder.
type upstream struct {
	dir, base, pr, tree string
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func newUpstream(t *testing.T) upstream {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	w := func(p, s string) {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitT(t, dir, "init", "-q")
	w("models/m.onnx", "base model")
	w("tailgate.yaml", "version: 1\n")
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-qm", "base")
	u := upstream{dir: dir, base: gitT(t, dir, "rev-parse", "HEAD")}

	gitT(t, dir, "checkout", "-qb", "pr")
	w("models/m.onnx", "pull request model")
	w("big.bin", strings.Repeat("x", 4096))
	w("sub/inner.txt", "inner")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "models/link.onnx")); err != nil {
		t.Fatal(err)
	}
	gitT(t, dir, "add", "-A")
	gitT(t, dir, "commit", "-qm", "pull request")
	u.pr = gitT(t, dir, "rev-parse", "HEAD")
	gitT(t, dir, "update-ref", "refs/pull/1/head", u.pr)

	u.tree = gitT(t, dir, "rev-parse", "HEAD^{tree}")
	gitT(t, dir, "checkout", "-q", "main")
	gitT(t, dir, "branch", "-qD", "pr")
	return u
}

func TestFetchPullRequestModel(t *testing.T) {
	u := newUpstream(t)
	dest := filepath.Join(t.TempDir(), "pr-data")
	got, err := Fetch(context.Background(), Options{Remote: u.dir, SHA: u.pr, Dest: dest,
		Paths: []string{"models/m.onnx", "./models/m.onnx", "sub/inner.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dest, "models", "m.onnx")
	if got["models/m.onnx"] != want || got["./models/m.onnx"] != want {
		t.Fatalf("paths: %v", got)
	}
	b, err := os.ReadFile(want)
	if err != nil || string(b) != "pull request model" {
		t.Fatalf("content %q, %v: want the pull request's model, not the base's", b, err)
	}
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm()&0o333 != 0 {
		t.Fatalf("mode %v: want read-only, not executable", fi.Mode())
	}
	if b, _ := os.ReadFile(got["sub/inner.txt"]); string(b) != "inner" {
		t.Fatalf("sub/inner.txt: %q", b)
	}
	// The private repository the fetch used is gone; only the files stay.
	if _, err := os.Stat(dest + ".git"); !os.IsNotExist(err) {
		t.Fatalf("%s.git left behind: %v", dest, err)
	}
	// The upstream's working tree was never touched: it still has the base's model.
	if b, _ := os.ReadFile(filepath.Join(u.dir, "models/m.onnx")); string(b) != "base model" {
		t.Fatalf("upstream work tree changed: %q", b)
	}
}

// absent is a commit id no repository here has.
const absent = "0123456789abcdef0123456789abcdef01234567"

func TestFetchRefuses(t *testing.T) {
	u := newUpstream(t)
	for _, tc := range []struct {
		name  string
		o     Options
		want  string
		clean bool // refused before anything is fetched
	}{
		{name: "dotdot", o: Options{SHA: u.pr, Paths: []string{"../../etc/passwd"}}, want: "leaves the repository", clean: true},
		{name: "inner dotdot", o: Options{SHA: u.pr, Paths: []string{"models/../../x"}}, want: "leaves the repository", clean: true},
		{name: "absolute", o: Options{SHA: u.pr, Paths: []string{"/etc/passwd"}}, want: "absolute", clean: true},
		{name: "dot git", o: Options{SHA: u.pr, Paths: []string{".git/config"}}, want: "inside .git", clean: true},
		{name: "newline", o: Options{SHA: u.pr, Paths: []string{"a\nb"}}, want: "control character", clean: true},
		{name: "not hex", o: Options{SHA: "main", Paths: []string{"models/m.onnx"}}, want: "not a commit SHA", clean: true},
		{name: "option", o: Options{SHA: "--upload-pack=touch /tmp/pwned", Paths: []string{"models/m.onnx"}}, want: "not a commit SHA", clean: true},
		{name: "short", o: Options{SHA: u.pr[:12], Paths: []string{"models/m.onnx"}}, want: "not a commit SHA", clean: true},
		{name: "upper", o: Options{SHA: strings.ToUpper(u.pr), Paths: []string{"models/m.onnx"}}, want: "not a commit SHA", clean: true},
		{name: "bad ref", o: Options{SHA: u.pr, Ref: "--upload-pack=x", Paths: []string{"models/m.onnx"}}, want: "is not a ref", clean: true},
		{name: "ext remote", o: Options{SHA: u.pr, Remote: "ext::sh -c touch% /tmp/pwned", Paths: []string{"models/m.onnx"}}, want: "remote", clean: true},
		{name: "symlink", o: Options{SHA: u.pr, Paths: []string{"models/link.onnx"}}, want: "symbolic link"},
		{name: "over cap", o: Options{SHA: u.pr, MaxBytes: 1024, Paths: []string{"big.bin"}}, want: "over the cap of 1024 bytes"},
		{name: "folder", o: Options{SHA: u.pr, Paths: []string{"sub"}}, want: "not a file"},
		{name: "missing", o: Options{SHA: u.pr, Paths: []string{"models/none.onnx"}}, want: "not in commit"},
		{name: "unknown commit", o: Options{SHA: absent, Paths: []string{"models/m.onnx"}}, want: "fetching " + absent},
		// The head the event named is gone (force-pushed away); the ref names a newer push.
		{name: "moved on", o: Options{SHA: absent, Ref: "refs/pull/1/head", Paths: []string{"models/m.onnx"}}, want: "the pull request moved on"},
		{name: "not a commit", o: Options{SHA: u.tree, Paths: []string{"models/m.onnx"}}, want: "not a commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.Remote == "" {
				o.Remote = u.dir
			}
			o.Dest = filepath.Join(t.TempDir(), "pr-data")
			got, err := Fetch(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an error with %q", got, err, tc.want)
			}
			if tc.clean && !errors.Is(err, ErrRefused) {
				t.Errorf("%v: want ErrRefused", err)
			}
			if tc.clean {
				if _, err := os.Stat(o.Dest); !os.IsNotExist(err) {
					t.Errorf("%s created although the input was refused", o.Dest)
				}
			}
			// Nothing refused is left in the destination.
			filepath.WalkDir(o.Dest, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("left behind: %s", p)
				}
				return nil
			})
		})
	}
}

// A refused path does not hide the others: every problem is reported at once.
func TestFetchReportsEveryProblem(t *testing.T) {
	_, err := Fetch(context.Background(), Options{Remote: "/nonexistent", SHA: "x", Dest: t.TempDir(),
		Paths: []string{"../a", "/b"}})
	for _, want := range []string{"not a commit SHA", `"../a"`, `"/b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
}

// The destination must be fresh: files of an earlier pull request must not pass for this one's.
func TestFetchNeedsEmptyDest(t *testing.T) {
	u := newUpstream(t)
	dest := t.TempDir()
	if err := os.WriteFile(filepath.Join(dest, "stale"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Fetch(context.Background(), Options{Remote: u.dir, SHA: u.pr, Dest: dest, Paths: []string{"models/m.onnx"}}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("got %v", err)
	}
}

// The ref fallback serves a pull request whose head the remote only names by ref.
func TestFetchByRef(t *testing.T) {
	u := newUpstream(t)
	dest := filepath.Join(t.TempDir(), "d")
	got, err := Fetch(context.Background(), Options{Remote: u.dir, SHA: u.pr, Ref: "refs/pull/1/head", Dest: dest, Paths: []string{"models/m.onnx"}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(got["models/m.onnx"]); string(b) != "pull request model" {
		t.Fatalf("%q", b)
	}
}
