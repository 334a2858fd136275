package site_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tailgate-ci/tailgate/gate/site"
	"github.com/tailgate-ci/tailgate/gate/site/sitetest"
)

var update = flag.Bool("update", false, "rewrite docs/img/site-suite.png from the browser test")

// screenshot is where the browser test's picture of a suite page goes with -update.
const screenshot = "../../docs/img/site-suite.png"

// browsers are the names a Chromium is installed under: Debian's package (which `make test`
// installs), Ubuntu's, and the Google Chrome that GitHub's Ubuntu runners carry.
var browsers = []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"}

// browser starts headless Chromium: a missing browser fails the test, it is not a reason to skip.
func browser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range browsers {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatalf("no Chromium on PATH (looked for %v): make test-deps installs Debian's chromium", browsers)
	}
	// No sandbox: Chromium refuses its sandbox as root (CI containers), and Ubuntu 24.04's
	// AppArmor denies the user namespaces it needs to a browser without a profile. The
	// browser loads only this test's pages, from loopback.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// console collects what the pages write to the console, from now until the returned function
// is called.
func console(ctx context.Context) func() []chromedp.ConsoleMessage {
	ctx, cancel := context.WithCancel(ctx)
	msgs := chromedp.Console(ctx)
	var mu sync.Mutex
	var got []chromedp.ConsoleMessage
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
	}()
	return func() []chromedp.ConsoleMessage {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

// TestBrowser loads the built site from a loopback server in headless Chromium: the index and a
// suite page load without console errors, the chart has one point per night and metric, the
// change point and its commit-range link are there, and a ref holding a <script> tag is shown
// as text, never run.
func TestBrowser(t *testing.T) {
	const nights, evil = 24, "refs/heads/<script>window.pwned=1</script>"
	dir := filepath.Join(t.TempDir(), "store")
	st, err := sitetest.Generate(dir, t.TempDir(), sitetest.Store{Suites: []string{"vision-int8", "keyword"}, Boards: []string{"Raspberry Pi 5"},
		Nights: nights, StepAt: 16, Intervals: 5, PerInterval: 400, PromoteEvery: 10, Ref: evil, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	res, err := site.Build(st, site.Options{Out: out, RepoURL: "https://github.com/example/app", ReportNights: 2, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(res.Problems) > 0 {
		t.Fatalf("build: %v %v", err, res)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer srv.Close()

	ctx := browser(t)
	messages := console(ctx)
	var rows int
	var suiteHref string
	err = chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html"))
	if err == nil {
		rows, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#keys tr.key").length`))
	}
	if err == nil {
		suiteHref, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#keys tr.key[data-suite="vision-int8"] a').href`))
	}
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 || !strings.HasSuffix(suiteHref, "/index.html") {
		t.Fatalf("index: %d rows, suite link %q", rows, suiteHref)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(suiteHref)); err != nil {
		t.Fatal(err)
	}
	type page struct {
		P50, P99, P999, Lines, Changes, Marks int
		Compare, Text                         string
		Pwned                                 bool
		Scripts                               int
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[page](`({
		P50: document.querySelectorAll('#trend circle.pt[data-metric="p50"]').length,
		P99: document.querySelectorAll('#trend circle.pt[data-metric="p99"]').length,
		P999: document.querySelectorAll('#trend circle.pt[data-metric="p99.9"]').length,
		Lines: document.querySelectorAll('#trend polyline.line').length,
		Changes: document.querySelectorAll('#changes .change-point').length,
		Marks: document.querySelectorAll('#trend g.cp line.change').length,
		Compare: (document.querySelector('#changes a.compare') || {}).href || "",
		Text: document.body.innerText,
		Pwned: window.pwned === 1,
		Scripts: document.scripts.length,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if p.P50 != nights || p.P99 != nights || p.P999 != nights || p.Lines != 3 {
		t.Errorf("chart points p50 %d p99 %d p99.9 %d (want %d each), %d lines", p.P50, p.P99, p.P999, nights, p.Lines)
	}
	if p.Changes < 1 || p.Marks != p.Changes {
		t.Errorf("%d change points listed, %d marked on the chart", p.Changes, p.Marks)
	}
	if want := "https://github.com/example/app/compare/" + sitetest.Commit(15) + "..." + sitetest.Commit(16); p.Compare != want {
		t.Errorf("commit-range link %q, want %q", p.Compare, want)
	}
	if p.Pwned || p.Scripts != 0 {
		t.Errorf("a script ran: pwned %v, %d scripts", p.Pwned, p.Scripts)
	}
	if *update {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 900)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(screenshot, png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The keyword suite's last night ran on a ref holding a script: its page shows it as text.
	keyword := strings.Replace(suiteHref, "/vision-int8/", "/keyword/", 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(keyword)); err != nil {
		t.Fatal(err)
	}
	p, err = chromedp.Run(ctx, chromedp.Evaluate[page](`({Text: document.body.innerText, Pwned: window.pwned === 1, Scripts: document.scripts.length})`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Pwned || p.Scripts != 0 || !strings.Contains(p.Text, evil) {
		t.Errorf("the ref's <script> ran or vanished: pwned %v, %d scripts", p.Pwned, p.Scripts)
	}
	for _, m := range messages() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			t.Errorf("console: %s", m)
		}
	}
}
