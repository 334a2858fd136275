package baseline

import (
	"fmt"
	"io"
	"math/rand/v2"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// gitStore keeps the store on a branch of a git repository. It works in a private clone under
// the cache folder: every change is fetch, reset to the remote branch, apply, commit, push; a
// push rejected because another board pushed first is retried from a fresh fetch, re-applying
// the change to the new state (so nothing is merged and nothing is lost). Processes on one host
// sharing the clone serialize on a flock beside it.
//
// Every git call is hardened (gitcmd.go). The clone is a cache, the remote the truth: a clone
// whose .git/config, info/exclude or layout is not what tailgate wrote (another job on the
// runner edited it) is deleted and made again rather than trusted.
type gitStore struct {
	spec   Spec
	url    string
	clone  string
	lock   string
	t      *tree
	opt    Options
	g      gitRunner
	synced bool
}

// scpLike matches git's "user@host:path" remote syntax, which is not a local path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:`)

// isLocal says whether a store's repo is a local path rather than a URL.
func isLocal(repo string) bool {
	return !strings.Contains(repo, "://") && !scpLike.MatchString(repo)
}

func openGit(spec Spec, opt Options) (Store, error) {
	g := gitRunner{timeout: opt.GitTimeout, config: opt.gitConfig}
	url, err := resolveRemote(spec.Repo, g, opt.Warn)
	if err != nil {
		return nil, fmt.Errorf("git store %s: %w", spec, err)
	}
	g.auth = GitAuthEnv(url, opt.GitToken, opt.GitTokenHost)
	base := filepath.Join(opt.CacheDir, "git")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("git store %s: cache: %w", spec, err)
	}
	clone := filepath.Join(base, sha256Hex([]byte(url + "#" + spec.Branch))[:16])
	s := &gitStore{spec: spec, url: url, clone: clone, lock: clone + ".lock", opt: opt, g: g,
		t: &tree{root: clone, warn: opt.Warn, now: opt.Now}}
	unlock, err := flock(s.lock, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.init(); err != nil {
		return nil, fmt.Errorf("git store %s: %w", spec, err)
	}
	return &store{spec: spec, t: s.t, acc: s}, nil
}

// resolveRemote turns a store's repo into the URL its data branch lives at. A URL stays as it
// is. A local path to a bare repository is that repository. A local path to a checkout means
// the remote the checkout came from (its origin): the shipped config says `repo: .`, and
// actions/checkout deletes a reused workspace's local branches, so a data branch kept in the
// checkout itself would be lost every job. A checkout without an origin keeps the old meaning
// (the checkout itself), with a warning. Credentials written into a URL are refused: they would
// show in argv, in the clone's name and in error messages.
func resolveRemote(repo string, g gitRunner, warn io.Writer) (string, error) {
	if warn == nil {
		warn = io.Discard
	}
	url := repo
	if isLocal(repo) {
		abs, err := filepath.Abs(repo)
		if err != nil {
			return "", err
		}
		url = abs
		bare, err := g.run("", "-C", abs, "rev-parse", "--is-bare-repository")
		if err == nil && strings.TrimSpace(bare) == "false" {
			origin, err := g.run("", "-C", abs, "remote", "get-url", "origin")
			switch o := strings.TrimSpace(origin); {
			case err != nil || o == "":
				fmt.Fprintf(warn, "git store: %s is a checkout without an origin remote; the data branch is kept in it (a CI checkout that deletes local branches loses it)\n", abs)
			case isLocal(o) && !filepath.IsAbs(o):
				url = filepath.Join(abs, o)
			default:
				url = o
			}
		}
	}
	if strings.HasPrefix(url, "-") {
		return "", fmt.Errorf("remote %q must not start with '-'", url)
	}
	if strings.Contains(url, "://") {
		if u, err := neturl.Parse(url); err == nil && u.User != nil {
			if _, hasPass := u.User.Password(); hasPass {
				return "", fmt.Errorf("remote %s carries a password in its URL: give the token through the environment (TAILGATE_GITHUB_TOKEN) instead", u.Redacted())
			}
		}
		if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "ssh://") && !strings.HasPrefix(url, "file://") {
			return "", fmt.Errorf("remote %s: the git store supports https://, ssh://, user@host:path and local paths only", url)
		}
	}
	return url, nil
}

// The files tailgate writes into the clone's .git, and checks before every use.
const (
	// cloneConfig pins sha1 objects (repositoryformatversion 0) and nothing else: identity
	// comes from the environment, transports and hooks from the command line.
	cloneConfig = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n"
)

// cloneExclude keeps the transient files of an interrupted write out of every commit.
var cloneExclude = "/" + LockFile + "\n" + tmpPrefix + "*\n" + trashPrefix + "*\n.*.tmp-*\n"

// cloneMustNotExist are files through which a clone would read objects, attributes or a
// git directory from elsewhere; tailgate never writes them.
var cloneMustNotExist = []string{"info/attributes", "objects/info/alternates", "objects/info/http-alternates", "commondir", "gitdir", "config.worktree"}

// trusted says why the clone cannot be used as it is ("" when it can): it must be a real
// folder holding a real .git folder whose config and exclude file are exactly tailgate's.
func (s *gitStore) trusted() string {
	for _, p := range []string{s.clone, filepath.Join(s.clone, ".git")} {
		fi, err := os.Lstat(p)
		if err != nil {
			return err.Error()
		}
		if !fi.IsDir() {
			return p + " is not a folder"
		}
	}
	gd := filepath.Join(s.clone, ".git")
	for name, want := range map[string]string{"config": cloneConfig, "info/exclude": cloneExclude} {
		fi, err := os.Lstat(filepath.Join(gd, name))
		if err != nil || !fi.Mode().IsRegular() {
			return ".git/" + name + " is missing or not a regular file"
		}
		b, err := os.ReadFile(filepath.Join(gd, name))
		if err != nil || string(b) != want {
			return ".git/" + name + " is not the one tailgate wrote"
		}
	}
	for _, name := range cloneMustNotExist {
		if _, err := os.Lstat(filepath.Join(gd, name)); err == nil {
			return ".git/" + name + " exists"
		}
	}
	return ""
}

// init makes sure the clone exists and is tailgate's: a clone that is not is deleted and made
// again (it is a cache; the remote holds the data). The caller holds the lock.
func (s *gitStore) init() error {
	_, statErr := os.Lstat(s.clone)
	if statErr == nil {
		why := s.trusted()
		if why == "" {
			return nil
		}
		fmt.Fprintf(s.opt.Warn, "git store %s: the cached clone %s was changed outside tailgate (%s); making it again\n", s.spec, s.clone, why)
		if err := os.RemoveAll(s.clone); err != nil {
			return fmt.Errorf("removing the untrusted clone: %w", err)
		}
		s.synced = false
	}
	if _, err := s.g.run("", "init", "-q", "--object-format=sha1", "--", s.clone); err != nil {
		return err
	}
	gd := filepath.Join(s.clone, ".git")
	if err := os.MkdirAll(filepath.Join(gd, "info"), 0o755); err != nil {
		return err
	}
	for name, content := range map[string]string{"config": cloneConfig, "info/exclude": cloneExclude} {
		if err := os.WriteFile(filepath.Join(gd, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if why := s.trusted(); why != "" {
		return fmt.Errorf("new clone %s: %s", s.clone, why)
	}
	return nil
}

// git runs one hardened git command in dir ("" for the current folder) and returns its
// stdout; the error carries stderr.
func (s *gitStore) git(dir string, args ...string) (string, error) {
	return s.g.run(dir, args...)
}

// sync makes the clone's worktree exactly the remote branch (or empty if it does not exist).
func (s *gitStore) sync() error {
	if err := s.init(); err != nil {
		return err
	}
	ref := "refs/heads/" + s.spec.Branch
	out, err := s.git(s.clone, "ls-remote", "--heads", "--", s.url, ref)
	if err != nil {
		return err
	}
	steps := [][]string{}
	if strings.TrimSpace(out) == "" {
		steps = append(steps,
			[]string{"symbolic-ref", "HEAD", ref},
			[]string{"read-tree", "--empty"},
			[]string{"clean", "-qfdx"})
		// The local branch may exist from an earlier sync; an absent remote branch starts over.
		s.git(s.clone, "update-ref", "-d", ref)
	} else {
		remote := "refs/remotes/origin/" + s.spec.Branch
		steps = append(steps,
			[]string{"fetch", "-q", "--no-tags", "--", s.url, "+" + ref + ":" + remote},
			[]string{"checkout", "-q", "-f", "-B", s.spec.Branch, remote},
			[]string{"reset", "-q", "--hard", remote},
			[]string{"clean", "-qfdx"})
	}
	for _, st := range steps {
		if _, err := s.git(s.clone, st...); err != nil {
			return err
		}
	}
	s.synced = true
	return nil
}

// retryablePush says whether a failed push lost a race with another writer.
func retryablePush(err error) bool {
	msg := err.Error()
	for _, m := range []string{"non-fast-forward", "fetch first", "rejected", "cannot lock ref", "failed to update ref", "stale info"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// write applies fn to a fresh copy of the branch and pushes the result, retrying from a new
// fetch when the push loses a race.
func (s *gitStore) write(msg string, fn func() error) error {
	unlock, err := flock(s.lock, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	for attempt := 0; ; attempt++ {
		if err := s.sync(); err != nil {
			return fmt.Errorf("git store %s: %w", s.spec, err)
		}
		s.t.cleanup()
		if err := fn(); err != nil {
			s.synced = false // the worktree may hold half of fn's change
			return err
		}
		if _, err := s.git(s.clone, "add", "-A"); err != nil {
			return err
		}
		st, err := s.git(s.clone, "status", "--porcelain")
		if err != nil {
			return err
		}
		if strings.TrimSpace(st) == "" {
			return nil
		}
		if _, err := s.git(s.clone, "commit", "-q", "--no-verify", "-m", msg); err != nil {
			return err
		}
		_, perr := s.git(s.clone, "push", "-q", "--", s.url, "HEAD:refs/heads/"+s.spec.Branch)
		if perr == nil {
			return nil
		}
		if !retryablePush(perr) || attempt >= s.opt.PushRetries {
			s.synced = false
			return fmt.Errorf("git store %s: push failed after %d attempts: %w", s.spec, attempt+1, perr)
		}
		fmt.Fprintf(s.opt.Warn, "git store %s: push lost a race with another writer; refetching and re-applying (attempt %d)\n", s.spec, attempt+2)
		// Jitter so that boards that collided do not collide again in lockstep.
		time.Sleep(time.Duration(20+rand.IntN(80*(attempt+1))) * time.Millisecond)
	}
}

// read runs fn on the clone, fetched once per store (writes refetch anyway).
func (s *gitStore) read(fn func() error) error {
	unlock, err := flock(s.lock, unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	if !s.synced {
		if err := s.sync(); err != nil {
			return fmt.Errorf("git store %s: %w", s.spec, err)
		}
	}
	return fn()
}

// GitLog lists the commits in from..to of the repository at dir, one "sha subject" line each,
// oldest first: the suspects between the last good and the first bad night. Git runs hardened
// (GitCommand), since dir is a checkout an earlier job may have touched.
func GitLog(dir, from, to string) ([]string, error) {
	for _, c := range []string{from, to} {
		if !commitRE.MatchString(c) {
			return nil, fmt.Errorf("git log: %q is not a commit id", c)
		}
	}
	out, err := gitRunner{}.run("", "-C", dir, "log", "--oneline", "--no-decorate", "--no-show-signature", "--reverse", from+".."+to, "--")
	if err != nil {
		return nil, fmt.Errorf("git log in %s: %w", dir, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// commitRE is a commit id as results record it (hex, abbreviated or full).
var commitRE = regexp.MustCompile(`^[0-9a-f]{4,64}$`)
