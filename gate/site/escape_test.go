package site

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
)

// TestPagesEscapeStoreText: text from the store is text on the pages. The store's name rules
// keep a suite called <script> out of a real store, so the pages are rendered here directly.
func TestPagesEscapeStoreText(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	at := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	e := baseline.HistoryEntry{Kind: baseline.KindNightly, Time: at, Suite: evil, Key: "k", Run: "r", Commit: evil, Ref: evil, Verdict: evil, P50: 1e6, P99: 2e6, P999: 3e6}
	v := keyView{page: (&builder{o: Options{}.withDefaults()}).page(evil, ""), Suite: evil, Key: evil,
		Nights: []night{{I: 0, E: e, Change: evil}, {I: 1, E: e, Damaged: evil}}, Env: []field{{evil, evil}},
		Promotions: []baseline.HistoryEntry{{Time: at, Run: evil, Rule: evil, Reason: evil}}, Problems: []string{evil}, Analysis: evil}
	v.Steps = []step{{Good: v.Nights[0], Bad: v.Nights[1], Changes: []string{evil}, Range: evil}}
	v.Chart = trendChart(&v)
	row := indexRow{Suite: evil, Key: evil, Href: evil, Env: evil, Last: &v.Nights[1], Spark: sparkline(v.Nights), Problems: 1}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"key": func(b *bytes.Buffer) error { return keyTmpl.Execute(b, v) },
		"index": func(b *bytes.Buffer) error {
			return indexTmpl.Execute(b, indexView{page: v.page, Store: evil, Rows: []indexRow{row}, Problems: []string{evil}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "<script") {
				t.Errorf("a <script> tag got through:\n%s", b.String())
			}
			if !strings.Contains(b.String(), "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("the text was dropped rather than escaped")
			}
		})
	}
}
