package baseline

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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
type gitStore struct {
	spec   Spec
	url    string
	clone  string
	lock   string
	t      *tree
	opt    Options
	synced bool
}

// scpLike matches git's "user@host:path" remote syntax, which is not a local path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:`)

func openGit(spec Spec, opt Options) (Store, error) {
	url := spec.Repo
	if !strings.Contains(url, "://") && !scpLike.MatchString(url) {
		abs, err := filepath.Abs(url)
		if err != nil {
			return nil, err
		}
		url = abs
	}
	base := filepath.Join(opt.CacheDir, "git")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("git store %s: cache: %w", spec, err)
	}
	clone := filepath.Join(base, sha256Hex([]byte(url + "#" + spec.Branch))[:16])
	s := &gitStore{spec: spec, url: url, clone: clone, lock: clone + ".lock", opt: opt,
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

func (s *gitStore) init() error {
	if _, err := os.Stat(filepath.Join(s.clone, ".git")); err == nil {
		return nil
	}
	if _, err := s.git("", "init", "-q", s.clone); err != nil {
		return err
	}
	// Transient files of an interrupted write must never be committed.
	excl := "/" + LockFile + "\n" + tmpPrefix + "*\n" + trashPrefix + "*\n.*.tmp-*\n"
	if err := os.WriteFile(filepath.Join(s.clone, ".git", "info", "exclude"), []byte(excl), 0o644); err != nil {
		return err
	}
	if out, _ := s.git(s.clone, "config", "user.email"); strings.TrimSpace(out) == "" {
		if _, err := s.git(s.clone, "config", "user.email", "tailgate@localhost"); err != nil {
			return err
		}
		if _, err := s.git(s.clone, "config", "user.name", "tailgate"); err != nil {
			return err
		}
	}
	return nil
}

// git runs one git command in dir ("" for the current folder) and returns its stdout; the
// error carries stderr.
func (s *gitStore) git(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opt.GitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	// Never prompt for credentials on an unattended runner; C locale so errors can be matched.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// sync makes the clone's worktree exactly the remote branch (or empty if it does not exist).
func (s *gitStore) sync() error {
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
// oldest first: the suspects between the last good and the first bad night.
func GitLog(dir, from, to string) ([]string, error) {
	for _, c := range []string{from, to} {
		if !commitRE.MatchString(c) {
			return nil, fmt.Errorf("git log: %q is not a commit id", c)
		}
	}
	cmd := exec.Command("git", "-C", dir, "log", "--oneline", "--no-decorate", "--reverse", from+".."+to, "--")
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git -C %s log %s..%s: %w: %s", dir, from, to, err, strings.TrimSpace(stderr.String()))
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// commitRE is a commit id as results record it (hex, abbreviated or full).
var commitRE = regexp.MustCompile(`^[0-9a-f]{4,64}$`)
