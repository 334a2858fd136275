package site_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/site"
	"github.com/tailgate-ci/tailgate/gate/site/sitetest"
)

// smallStore generates 2 boards × 14 nights of one suite, stepping at night 8.
func smallStore(t *testing.T, ref string) (baseline.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	st, err := sitetest.Generate(dir, t.TempDir(), sitetest.Store{Suites: []string{"vision"}, Boards: []string{"pi5-a", "pi5-b"},
		Nights: 14, StepAt: 8, Intervals: 5, PerInterval: 400, PromoteEvery: 5, Ref: ref, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return st, dir
}

// TestBuild builds a small store's site, then again into the same folder: the second build
// keeps the first one's night pages, and the folder is replaced whole.
func TestBuild(t *testing.T) {
	st, _ := smallStore(t, "")
	out := filepath.Join(t.TempDir(), "site")
	o := site.Options{Out: out, RepoURL: "https://github.com/example/app", ReportNights: 3, Now: time.Unix(0, 0)}
	res, err := site.Build(st, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 || res.Keys != 2 || res.Nights != 28 || res.Pages != 6 || res.Reused != 0 {
		t.Fatalf("result %+v", res)
	}
	keys, _ := filepath.Glob(filepath.Join(out, "suites", "vision", "*", "index.html"))
	if len(keys) != 2 {
		t.Fatalf("key pages %v", keys)
	}
	kp := read(t, keys[0])
	if n := len(regexp.MustCompile(`<circle class="pt m-p99"`).FindAllString(kp, -1)); n != 14 {
		t.Errorf("%d p99 points, want 14", n)
	}
	want := "https://github.com/example/app/compare/" + sitetest.Commit(7) + "..." + sitetest.Commit(8)
	if !strings.Contains(kp, want) {
		t.Errorf("no compare link %s", want)
	}
	nights, _ := filepath.Glob(filepath.Join(filepath.Dir(keys[0]), "nights", "*.html"))
	if len(nights) != 3 || !strings.Contains(read(t, nights[0]), "Recorded verdict of this night: pass") {
		t.Errorf("night pages %v", nights)
	}
	if idx := read(t, filepath.Join(out, "index.html")); strings.Count(idx, `<tr class="key"`) != 2 || !strings.Contains(idx, `<svg class="spark"`) {
		t.Errorf("index:\n%s", idx)
	}
	os.WriteFile(filepath.Join(out, "stale.txt"), []byte("from the old site"), 0o644)

	o.ReportNights = 1
	res, err = site.Build(st, o)
	if err != nil || res.Pages != 0 || res.Reused != 6 {
		t.Fatalf("second build: %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(out, "stale.txt")); !os.IsNotExist(err) {
		t.Errorf("the old site's files survived the swap: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".site.tmp-*")); len(left) > 0 {
		t.Errorf("build folders left behind: %v", left)
	}
}

// TestBuildRefusesOtherFolders: --out naming a folder of other files is not replaced.
func TestBuildRefusesOtherFolders(t *testing.T) {
	st, _ := smallStore(t, "")
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "precious.txt"), []byte("keep me"), 0o644)
	_, err := site.Build(st, site.Options{Out: out})
	if err == nil || !strings.Contains(err.Error(), "not replacing a folder this command did not build") {
		t.Fatalf("err %v", err)
	}
	if read(t, filepath.Join(out, "precious.txt")) != "keep me" {
		t.Fatal("the folder was touched")
	}
}

// TestBuildDamagedNight: a night whose stored log was modified is named on the index and on its
// key's page, gets no report page, and the build reports it.
func TestBuildDamagedNight(t *testing.T) {
	st, dir := smallStore(t, "")
	logs, _ := filepath.Glob(filepath.Join(dir, "suites", "vision", "*", "runs", "*", "latency.hlog"))
	victim := logs[len(logs)-1]
	run := filepath.Base(filepath.Dir(victim))
	b, _ := os.ReadFile(victim)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(victim, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	res, err := site.Build(st, site.Options{Out: out, ReportNights: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) == 0 || !strings.Contains(strings.Join(res.Problems, "\n"), run) {
		t.Fatalf("problems %q do not name run %s", res.Problems, run)
	}
	if idx := read(t, filepath.Join(out, "index.html")); !strings.Contains(idx, `id="problems"`) || !strings.Contains(idx, run) {
		t.Error("the index does not name the damaged run")
	}
	key := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(victim))))
	kp := read(t, filepath.Join(out, "suites", "vision", key, "index.html"))
	if !strings.Contains(kp, "damaged run") || !strings.Contains(kp, `class="night damaged"`) {
		t.Error("the key page does not mark the damaged night")
	}
	if _, err := os.Stat(filepath.Join(out, "suites", "vision", key, "nights", run+".html")); !os.IsNotExist(err) {
		t.Errorf("a damaged night got a report page: %v", err)
	}
}

// TestBuildMemoryBudget: night reports stream their runs. Six nights of 400 intervals (each run
// 100 MB as dense interval histograms) build within a heap budget a streamed read keeps easily.
func TestBuildMemoryBudget(t *testing.T) {
	const budget = 64 << 20
	dir := filepath.Join(t.TempDir(), "store")
	st, err := sitetest.Generate(dir, t.TempDir(), sitetest.Store{Suites: []string{"long"}, Boards: []string{"pi5"}, Nights: 6,
		Intervals: 400, PerInterval: 50, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	var res *site.Result
	peak := gatetest.HeapPeak(func() {
		res, err = site.Build(st, site.Options{Out: filepath.Join(t.TempDir(), "site"), ReportNights: 6, Workers: 1})
	})
	if err != nil || res.Pages != 6 {
		t.Fatalf("%+v %v", res, err)
	}
	t.Logf("heap peak %.1f MB", float64(peak)/(1<<20))
	if peak > budget {
		t.Errorf("heap peak %d MB, budget %d MB", peak>>20, budget>>20)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWriteBenchStore generates the benchmark's store, a year of nights of 3 suites on 2
// boards, into $TAILGATE_SITE_STORE (make bench-site); skipped without it.
func TestWriteBenchStore(t *testing.T) {
	dir := os.Getenv("TAILGATE_SITE_STORE")
	if dir == "" {
		t.Skip("TAILGATE_SITE_STORE not set: make bench-site sets it")
	}
	st, err := sitetest.Generate(dir, t.TempDir(), sitetest.Store{Suites: []string{"vision-int8", "vision-fp32", "keyword"},
		Boards: []string{"Raspberry Pi 5 Model B Rev 1.0", "Raspberry Pi 5 + AI HAT+ 2"}, Nights: 365, StepAt: 300,
		Intervals: 60, PerInterval: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}
