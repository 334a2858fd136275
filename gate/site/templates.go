package site

import (
	_ "embed"
	"html/template"
	"slices"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/storeview"
)

//go:embed site.css
var siteCSS string

//go:embed index.html.tmpl
var indexSrc string

//go:embed key.html.tmpl
var keySrc string

// page is what every page of the site shows around its content.
type page struct {
	Title string
	// Root is the path from the page to the site's root ("" or "../../../").
	Root      string
	CSS       template.CSS
	Generator string
	Built     string
}

func (b *builder) page(title, root string) page {
	return page{Title: title, Root: root, CSS: template.CSS(siteCSS), Generator: b.o.Generator, Built: b.o.Now.UTC().Format("2006-01-02 15:04 UTC")}
}

// indexView is the index page.
type indexView struct {
	page
	Store    string
	Rows     []indexRow
	Problems []string
}

var funcs = template.FuncMap{
	"ms":    storeview.Millis,
	"short": storeview.ShortCommit,
	"f1":    func(v float64) string { return strings.TrimSuffix(strings.TrimSuffix(strconvF1(v), "0"), ".") },
	"add":   func(a, b float64) float64 { return a + b },
	"sub":   func(a, b float64) float64 { return a - b },
	"inc":   func(i int) int { return i + 1 },
	"join":  strings.Join,
	"rev": func(ns []night) []night {
		out := slices.Clone(ns)
		slices.Reverse(out)
		return out
	},
}

var (
	indexTmpl = template.Must(template.New("index").Funcs(funcs).Parse(indexSrc))
	keyTmpl   = template.Must(template.Must(indexTmpl.Clone()).New("key").Parse(keySrc))
)
