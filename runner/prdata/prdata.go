// Package prdata fetches a pull request's data files (the models a trusted configuration
// names) by commit SHA, without checking the pull request out and without running anything
// from it. It is the "data only" half of the trusted-base pull-request mode
// (`tailgate ci --pr-data SHA` under pull_request_target, docs/github.md): the workflow, the
// action, tailgate.yaml, the stress commands and the tailgate binary come from the base
// branch; only the bytes of the files named here come from the pull request.
//
// Git runs in a private bare repository created for the purpose (never the job's checkout,
// whose .git a previous job may have tampered with), with hooks off, no system or global
// configuration, no credential helper, only the https, ssh and file transports, fsck of every
// received object and a minimal environment (no token reaches it). Each file is read with
// `git cat-file blob` from the tree of the given commit: a symlink, a submodule, a directory,
// a path that leaves the repository or a blob over the size cap is refused.
package prdata

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline"
)

// DefaultMaxBytes caps each fetched file: far above any edge model, far below what fills a
// board's disk.
const DefaultMaxBytes int64 = 256 << 20

// Options says what to fetch and where to.
type Options struct {
	// Remote is the repository to fetch from: an https:// or ssh URL, or a local path
	// (tests, mirrors). For a pull request from a fork this is the base repository, which
	// serves the fork's commits (refs/pull/N/head).
	Remote string
	// SHA is the pull request's head commit: 40 (SHA-1) or 64 (SHA-256) hex digits.
	SHA string
	// Ref is fetched when the remote refuses to serve SHA directly (e.g. refs/pull/12/head);
	// it must still point to SHA (a newer push has its own run). Optional.
	Ref string
	// Paths are repository-relative, slash-separated file paths.
	Paths []string
	// Dest receives the files at their repository paths; it must not exist or be empty.
	Dest string
	// MaxBytes caps each file (0: DefaultMaxBytes).
	MaxBytes int64
}

var (
	hexSHA = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
	refRE  = regexp.MustCompile(`^refs/[A-Za-z0-9._/-]+$`)
)

// ErrRefused is wrapped by every error about a path or object the pull request may not
// supply (as opposed to a git or I/O failure).
var ErrRefused = errors.New("refused")

// CheckSHA reports whether s is a full commit id in lower-case hex.
func CheckSHA(s string) error {
	if !hexSHA.MatchString(s) {
		return fmt.Errorf("%w: %q is not a commit SHA (want 40 or 64 lower-case hex digits)", ErrRefused, s)
	}
	return nil
}

// CleanPath checks that p names a file inside a repository and returns it cleaned: relative,
// slash-separated, without "." or ".." components, without control characters, not inside .git.
func CleanPath(p string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: path %q: %s", ErrRefused, p, why)
	}
	switch {
	case p == "":
		return bad("empty")
	case strings.ContainsAny(p, "\\"):
		return bad("contains a backslash (want slash-separated repository paths)")
	case strings.IndexFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return bad("contains a control character")
	case path.IsAbs(p) || filepath.IsAbs(p):
		return bad("is absolute (want a path relative to the repository root)")
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return bad("leaves the repository (..)")
		}
	}
	c := path.Clean(p)
	if c == "." {
		return bad("names the repository root, not a file")
	}
	for _, part := range strings.Split(c, "/") {
		if strings.EqualFold(part, ".git") {
			return bad("is inside .git")
		}
	}
	return c, nil
}

// Fetch fetches o.SHA from o.Remote into a private repository next to o.Dest and writes each
// path's blob under o.Dest. It returns each original path (as given) → the file written.
// Every path is checked before anything is fetched; every refused path is reported.
func Fetch(ctx context.Context, o Options) (map[string]string, error) {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	var errs []error
	if err := CheckSHA(o.SHA); err != nil {
		errs = append(errs, err)
	}
	if o.Ref != "" && (!refRE.MatchString(o.Ref) || strings.Contains(o.Ref, "..")) {
		errs = append(errs, fmt.Errorf("%w: ref %q is not a ref such as refs/pull/12/head", ErrRefused, o.Ref))
	}
	if o.Remote == "" || strings.HasPrefix(o.Remote, "-") || strings.Contains(o.Remote, "::") {
		errs = append(errs, fmt.Errorf("%w: remote %q: want an https:// or ssh URL or a local path", ErrRefused, o.Remote))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("max bytes %d is negative", o.MaxBytes))
	}
	if o.Dest == "" {
		errs = append(errs, errors.New("no destination folder"))
	}
	if len(o.Paths) == 0 {
		errs = append(errs, errors.New("no paths to fetch"))
	}
	clean := map[string]string{} // original → cleaned
	for _, p := range o.Paths {
		c, err := CleanPath(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		clean[p] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	dest, err := filepath.Abs(o.Dest)
	if err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(dest); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%s is not empty: pull request data goes into a fresh folder", dest)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	g, err := newGit(ctx, dest+".git")
	if err != nil {
		return nil, err
	}
	defer g.close()
	if err := g.fetch(o.Remote, o.SHA, o.Ref); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	out := map[string]string{}
	written := map[string]bool{}
	origs := make([]string, 0, len(clean))
	for p := range clean {
		origs = append(origs, p)
	}
	sort.Strings(origs)
	for _, p := range origs {
		c := clean[p]
		if !written[c] {
			if err := g.extract(root, o.SHA, c, o.MaxBytes); err != nil {
				errs = append(errs, err)
				continue
			}
			written[c] = true
		}
		out[p] = filepath.Join(dest, filepath.FromSlash(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// git runs git in a private bare repository, hardened as the store's git is
// (baseline.GitCommand: hooks off, allowed transports only, nothing from the host's
// configuration, an allow-listed environment), plus what a fetch of untrusted objects needs.
type git struct {
	ctx context.Context
	dir string // the bare repository
}

// fetchHardening adds to baseline.GitCommand's options what fetching a stranger's objects
// needs: objects checked as they arrive, no redirects, no submodules.
var fetchHardening = []string{"-c", "transfer.fsckObjects=true", "-c", "http.followRedirects=false"}

// certEnv are the variables a board with its own CA needs; baseline.GitEnv adds PATH and the
// proxies.
var certEnv = []string{"SSL_CERT_FILE", "SSL_CERT_DIR"}

func newGit(ctx context.Context, dir string) (*git, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	g := &git{ctx: ctx, dir: dir}
	if _, err := g.run(nil, "init", "--quiet", "--bare", dir); err != nil {
		g.close()
		return nil, err
	}
	return g, nil
}

func (g *git) close() { _ = os.RemoveAll(g.dir) }

// run runs git with the hardening options; stdout is returned unless w is given.
func (g *git) run(w io.Writer, args ...string) ([]byte, error) {
	opts := fetchHardening
	if !(len(args) > 0 && args[0] == "init") {
		opts = append(slices.Clip(opts), "--git-dir="+g.dir)
	}
	env := []string{"GIT_LITERAL_PATHSPECS=1"}
	for _, k := range certEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd := baseline.GitCommand(g.ctx, filepath.Dir(g.dir), env, append(slices.Clip(opts), args...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout = &out
	if w != nil {
		cmd.Stdout = w
	}
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return out.Bytes(), nil
}

// fetch fetches sha (a single commit and its tree, no history), or ref when the remote will
// not serve the bare sha, and checks that the commit is there.
func (g *git) fetch(remote, sha, ref string) error {
	args := []string{"fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1", "--", remote}
	_, err := g.run(nil, append(args, sha+":refs/tailgate/pr")...)
	if err != nil && ref != "" {
		_, err2 := g.run(nil, append(args, "+"+ref+":refs/tailgate/pr")...)
		if err2 != nil {
			return fmt.Errorf("fetching %s from %s: %w; and %s: %w", sha, remote, err, ref, err2)
		}
		// The ref may have moved on to a newer push; the sha must be the one it names.
		got, err3 := g.run(nil, "rev-parse", "--verify", "--quiet", "refs/tailgate/pr^{commit}")
		if err3 != nil || strings.TrimSpace(string(got)) != sha {
			return fmt.Errorf("%s now points to %s, not %s (the pull request moved on; the newer push has its own run)",
				ref, strings.TrimSpace(string(got)), sha)
		}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("fetching %s from %s: %w", sha, remote, err)
	}
	t, err := g.run(nil, "cat-file", "-t", sha)
	if err != nil {
		return fmt.Errorf("%s: not fetched: %w", sha, err)
	}
	if typ := strings.TrimSpace(string(t)); typ != "commit" {
		return fmt.Errorf("%w: %s is a %s, not a commit", ErrRefused, sha, typ)
	}
	return nil
}

// extract writes the blob at p in commit sha under root, refusing anything but a regular file
// of at most max bytes.
func (g *git) extract(root *os.Root, sha, p string, max int64) error {
	ls, err := g.run(nil, "ls-tree", "-z", "--full-tree", sha, "--", p)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	var mode, typ, oid string
	for _, ent := range bytes.Split(ls, []byte{0}) {
		meta, name, ok := bytes.Cut(ent, []byte{'\t'})
		if !ok || string(name) != p {
			continue
		}
		f := strings.Fields(string(meta))
		if len(f) == 3 {
			mode, typ, oid = f[0], f[1], f[2]
		}
	}
	short := sha[:12]
	switch {
	case oid == "":
		return fmt.Errorf("%w: %s: not in commit %s", ErrRefused, p, short)
	case mode == "120000":
		return fmt.Errorf("%w: %s: is a symbolic link in commit %s (a pull request's data must be regular files)", ErrRefused, p, short)
	case typ == "commit":
		return fmt.Errorf("%w: %s: is a submodule in commit %s", ErrRefused, p, short)
	case typ != "blob":
		return fmt.Errorf("%w: %s: is a %s in commit %s, not a file", ErrRefused, p, typ, short)
	case mode != "100644" && mode != "100755":
		return fmt.Errorf("%w: %s: mode %s in commit %s is not a regular file", ErrRefused, p, mode, short)
	}
	sz, err := g.run(nil, "cat-file", "-s", oid)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(sz)), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: size %q: %w", p, sz, err)
	}
	if n > max {
		return fmt.Errorf("%w: %s: %d bytes in commit %s, over the cap of %d bytes (ci.pr_data_max_mib, --pr-data-max-mib)", ErrRefused, p, n, short, max)
	}
	if dir := path.Dir(p); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	// Written read-only and never executable: it is data.
	f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return err
	}
	lw := &limitWriter{w: f, left: max}
	_, err = g.run(lw, "cat-file", "blob", oid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && lw.over {
		err = fmt.Errorf("%w: %s: more than %d bytes", ErrRefused, p, max)
	}
	if err != nil {
		_ = root.Remove(p)
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// limitWriter writes at most left bytes and then fails, so that a blob cannot outgrow the cap
// whatever cat-file -s said.
type limitWriter struct {
	w    io.Writer
	left int64
	over bool
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.left {
		l.over = true
		return 0, errors.New("over the size cap")
	}
	l.left -= int64(len(b))
	return l.w.Write(b)
}
