package baseline

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// Environment of the crash child: the store to hammer and the result folders to use.
const (
	crashEnvStore = "TAILGATE_BASELINE_CRASH_STORE"
	crashEnvKind  = "TAILGATE_BASELINE_CRASH_KIND"
	crashEnvCache = "TAILGATE_BASELINE_CRASH_CACHE"
	crashEnvSrc   = "TAILGATE_BASELINE_CRASH_SRC"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashEnvStore) != "" {
		crashChild()
		return
	}
	os.Exit(m.Run())
}

// crashChild loops promote, append and add on a store until it is killed. It says "ready" once
// the first round is done, so the parent's kill lands in the loop, not in start-up.
func crashChild() {
	spec := Spec{Kind: os.Getenv(crashEnvKind)}
	if spec.Kind == KindGit {
		spec.Repo, spec.Branch = os.Getenv(crashEnvStore), "data"
	} else {
		spec.Path = os.Getenv(crashEnvStore)
	}
	st, err := Open(spec, Options{CacheDir: os.Getenv(crashEnvCache)})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	src := os.Getenv(crashEnvSrc)
	ents, _ := os.ReadDir(src)
	var infos []RunInfo
	for i := 0; ; i++ {
		d := filepath.Join(src, ents[i%len(ents)].Name())
		ri, err := st.Add(d)
		if err != nil {
			fmt.Println("add:", err)
			os.Exit(3)
		}
		if i < len(ents) {
			infos = append(infos, ri)
		}
		ri = infos[i%len(infos)]
		if _, err := st.Promote(Promotion{Suite: ri.Suite, Key: ri.Key, Run: ri.ID, Force: true, Reason: "crash test " + strconv.Itoa(i)}); err != nil {
			fmt.Println("promote:", err)
			os.Exit(3)
		}
		if err := st.Append(nightlyFor(ri, "pass")); err != nil {
			fmt.Println("append:", err)
			os.Exit(3)
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

// TestCrashMidWrite SIGKILLs a process that keeps adding, promoting and appending, at seeded
// random moments, and checks after each kill that the store reads back whole: a baseline that
// is one of the promoted runs and verifies, every history line parsing (a torn last line is
// ignored with a warning and cut off by the next append), and no half-copied run visible.
func TestCrashMidWrite(t *testing.T) {
	for _, kind := range []string{KindFS, KindGit} {
		t.Run(kind, func(t *testing.T) {
			n := map[string]int{KindFS: rounds(10, 100), KindGit: rounds(3, 30)}[kind]
			src := t.TempDir()
			ids := map[string]bool{}
			for i := 0; i < 3; i++ {
				d := filepath.Join(src, strconv.Itoa(i))
				os.Mkdir(d, 0o755)
				if _, err := resulttest.Lognormal(d, resulttest.Synthetic{Suite: "v", Env: piEnv(), Seed: uint64(i + 1), Start: time.Date(2026, 3, 1+i, 2, 0, 0, 0, time.UTC)}); err != nil {
					t.Fatal(err)
				}
			}
			store := filepath.Join(t.TempDir(), "s")
			if kind == KindGit {
				store = bareRepo(t)
			}
			cache := t.TempDir()
			rng := rand.New(rand.NewPCG(5, 7))
			torn, halfCopied := 0, 0
			for round := 0; round < n; round++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), crashEnvStore+"="+store, crashEnvKind+"="+kind, crashEnvCache+"="+cache, crashEnvSrc+"="+src)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				line, _ := bufio.NewReader(out).ReadString('\n')
				if line != "ready\n" {
					cmd.Wait()
					t.Fatalf("child did not start its loop: %q", line)
				}
				delay := time.Duration(rng.IntN(40000)) * time.Microsecond
				if kind == KindGit {
					delay *= 10
				}
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGKILL)
				err = cmd.Wait()
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
					t.Fatalf("round %d: child ended on its own (%v) instead of being killed", round, err)
				}
				left, _ := filepath.Glob(filepath.Join(store, "suites", "v", "*", "runs", tmpPrefix+"*"))
				halfCopied += len(left)
				st := openAfterCrash(t, kind, store)
				key := piEnv().Key()
				r, err := readBaseline(st, "v", key)
				if err != nil {
					t.Fatalf("round %d (killed after %v): baseline unreadable: %v", round, delay, err)
				}
				runs, err := st.Runs("v", key)
				if err != nil {
					t.Fatalf("round %d: runs: %v", round, err)
				}
				for _, ri := range runs {
					ids[ri.ID] = true
				}
				if !ids[filepath.Base(r.Dir)] {
					t.Fatalf("round %d: baseline %s is not a stored run", round, r.Dir)
				}
				h, err := st.History("v", key)
				if err != nil {
					t.Fatalf("round %d: history: %v", round, err)
				}
				torn += len(h.Warnings)
				if err := st.Verify(); err != nil {
					t.Fatalf("round %d: verify: %v", round, err)
				}
				t.Logf("round %d: killed after %v; baseline %s, %d history lines", round, delay, filepath.Base(r.Dir), len(h.Entries))
			}
			t.Logf("torn history tails seen: %d (each ignored with a warning, cut off by the next append); kills that left a half-copied run: %d (hidden, ignored, removed by the next write)", torn, halfCopied)
		})
	}
}

// openAfterCrash opens the store fresh, as the next run on the board would.
func openAfterCrash(t *testing.T, kind, store string) Store {
	t.Helper()
	if kind == KindGit {
		return openGitStore(t, store, "data")
	}
	return mustOpen(t, store)
}
