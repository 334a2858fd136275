package site_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
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

func TestBuildSmall(t *testing.T) {
	st, _ := smallStore(t, "")
	out := filepath.Join(t.TempDir(), "site")
	res, err := site.Build(st, site.Options{Out: out, RepoURL: "https://github.com/example/app", ReportNights: 3, Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 || res.Keys != 2 || res.Nights != 28 || res.Pages != 6 {
		t.Fatalf("result %+v", res)
	}
	idx, _ := os.ReadFile(filepath.Join(out, "index.html"))
	t.Logf("%s", idx)
	keys, _ := filepath.Glob(filepath.Join(out, "suites", "vision", "*", "index.html"))
	if len(keys) != 2 {
		t.Fatalf("key pages %v", keys)
	}
	kp, _ := os.ReadFile(keys[0])
	if n := len(regexp.MustCompile(`<circle class="pt m-p99"`).FindAll(kp, -1)); n != 14 {
		t.Errorf("%d p99 points, want 14", n)
	}
	want := "https://github.com/example/app/compare/" + sitetest.Commit(7) + "..." + sitetest.Commit(8)
	if !strings.Contains(string(kp), want) {
		t.Errorf("no compare link %s in\n%s", want, kp)
	}
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
