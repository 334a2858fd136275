package baseline

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// bareRepo makes a local bare repository, the stand-in for GitHub.
func bareRepo(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	runGit(t, "", "init", "-q", "--bare", dir)
	return dir
}

func openGitStore(t testing.TB, repo, branch string) Store {
	t.Helper()
	return openGitStoreWarn(t, repo, branch, nil)
}

func openGitStoreWarn(t testing.TB, repo, branch string, warn io.Writer) Store {
	t.Helper()
	st, err := Open(Spec{Kind: KindGit, Repo: repo, Branch: branch}, Options{CacheDir: t.TempDir(), Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestGitStore(t *testing.T) {
	remote := bareRepo(t)
	a := openGitStore(t, remote, "tailgate-data")
	if s, err := a.Suites(); err != nil || len(s) != 0 {
		t.Fatalf("empty branch: %v, %v", s, err)
	}
	ri := mustAdd(t, a, mkResult(t, "vision-int8", 1, 1e6, nil))
	if _, err := a.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, By: "board-1"}); err != nil {
		t.Fatal(err)
	}
	files := runGit(t, remote, "ls-tree", "-r", "--name-only", "tailgate-data")
	for _, want := range []string{MarkerFile, "suites/vision-int8/" + ri.Key + "/" + PointerFile, "runs/" + ri.ID + "/" + ManifestFile, HistoryFile} {
		if !strings.Contains(files, want) {
			t.Errorf("branch lacks %s:\n%s", want, files)
		}
	}
	if strings.Contains(files, LockFile) || strings.Contains(files, tmpPrefix) {
		t.Errorf("transient files committed:\n%s", files)
	}
	// A second board with its own clone sees the baseline.
	b := openGitStore(t, remote, "tailgate-data")
	r, err := readBaseline(b, ri.Suite, ri.Key)
	if err != nil || filepath.Base(r.Dir) != ri.ID {
		t.Fatalf("second clone: %v, %v", r, err)
	}
	// Tampering with the branch itself is caught on read, like on disk.
	work := filepath.Join(t.TempDir(), "w")
	runGit(t, "", "clone", "-q", "-b", "tailgate-data", remote, work)
	flipByte(t, filepath.Join(work, "suites", ri.Suite, ri.Key, "runs", ri.ID, "latency.hlog"))
	runGit(t, work, "commit", "-qam", "tamper")
	runGit(t, work, "push", "-q", "origin", "tailgate-data")
	c := openGitStore(t, remote, "tailgate-data")
	if _, err := readBaseline(c, ri.Suite, ri.Key); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("tampered branch read: %v", err)
	}
}

// TestGitStoreInWorkingRepo uses the repository being tested (repo: .) with a data branch
// beside main, the way the shipped config does, and checks main is left alone.
func TestGitStoreInWorkingRepo(t *testing.T) {
	repo := t.TempDir()
	runGit(t, repo, "init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(repo, "model.txt"), []byte("v1"), 0o644)
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "-qm", "code")
	head := runGit(t, repo, "rev-parse", "main")
	st := openGitStore(t, repo, DefaultDataBranch)
	mustAdd(t, st, mkResult(t, "v", 1, 1e6, nil))
	if got := runGit(t, repo, "rev-parse", "main"); got != head {
		t.Fatal("main moved")
	}
	if out := runGit(t, repo, "status", "--porcelain"); out != "" {
		t.Fatalf("working tree changed:\n%s", out)
	}
	if !strings.Contains(runGit(t, repo, "ls-tree", "-r", "--name-only", DefaultDataBranch), "manifest.json") {
		t.Fatal("data branch has no run")
	}
}

// TestConcurrentPromoters runs two promoters at once on one folder (separate opens, so the
// flock really arbitrates) and on one git branch (two clones, so pushes really race), and
// checks both end consistent: every promotion and nightly entry recorded once, the baseline one
// of the promoted runs and whole.
func TestConcurrentPromoters(t *testing.T) {
	perWorker := rounds(3, 20)
	var races lockedBuffer
	kinds := map[string]func(t *testing.T) (Store, Store){
		"folder": func(t *testing.T) (Store, Store) {
			root := filepath.Join(t.TempDir(), "s")
			return mustOpen(t, root), mustOpen(t, root)
		},
		"git branch": func(t *testing.T) (Store, Store) {
			remote := bareRepo(t)
			return openGitStoreWarn(t, remote, "data", &races), openGitStoreWarn(t, remote, "data", &races)
		},
	}
	for _, name := range []string{"folder", "git branch"} {
		t.Run(name, func(t *testing.T) {
			s1, s2 := kinds[name](t)
			// Results are made up front: what is measured here is the store, not the writer.
			dirs := make([][]string, 2)
			for w := range dirs {
				for i := 0; i < perWorker; i++ {
					dirs[w] = append(dirs[w], mkResult(t, "v", uint64(100*w+i+1), 1e6, nil))
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 2*perWorker*3)
			promoted := make(chan string, 2*perWorker)
			for w, st := range []Store{s1, s2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, d := range dirs[w] {
						ri, err := st.Add(d)
						if err != nil {
							errs <- err
							return
						}
						if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "concurrency test"}); err != nil {
							errs <- err
							return
						}
						promoted <- ri.ID
						if err := st.Append(nightlyFor(ri, "pass")); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			t.Logf("pushes that lost a race and were re-applied: %d", strings.Count(races.String(), "lost a race"))
			close(errs)
			close(promoted)
			for err := range errs {
				t.Error(err)
			}
			ids := map[string]bool{}
			for id := range promoted {
				ids[id] = true
			}
			key := piEnv().Key()
			for _, st := range []Store{s1, s2} {
				st = reopen(t, st)
				if err := st.Verify(); err != nil {
					t.Fatal(err)
				}
				r, err := readBaseline(st, "v", key)
				if err != nil || !ids[filepath.Base(r.Dir)] {
					t.Fatalf("baseline %v, %v", r, err)
				}
				h, err := st.History("v", key)
				if err != nil {
					t.Fatal(err)
				}
				var prom, night int
				for _, e := range h.Entries {
					if e.Kind == KindPromotion {
						prom++
					} else {
						night++
					}
				}
				if prom != 2*perWorker || night != 2*perWorker {
					t.Fatalf("history has %d promotions and %d nightly entries, want %d each", prom, night, 2*perWorker)
				}
				ptr, _ := st.Pointer("v", key)
				if len(ptr.Ever) != 2*perWorker {
					t.Fatalf("baseline.json remembers %d former baselines, want %d", len(ptr.Ever), 2*perWorker)
				}
				runs, _ := st.Runs("v", key)
				if len(runs) != 2*perWorker {
					t.Fatalf("%d runs stored, want %d", len(runs), 2*perWorker)
				}
			}
		})
	}
}

// reopen opens a fresh handle on the same store, so git stores refetch.
func reopen(t *testing.T, st Store) Store {
	t.Helper()
	if st.Spec().Kind == KindFS {
		return mustOpen(t, st.Spec().Path)
	}
	return openGitStore(t, st.Spec().Repo, st.Spec().Branch)
}

// lockedBuffer is a bytes.Buffer two goroutines may write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
