package wcet

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestSVG draws the exceedance plot of a valid and of a refused analysis and checks each is an
// SVG document with one marker per block maximum (and the fitted curve when there is a fit).
func TestSVG(t *testing.T) {
	for _, c := range []struct {
		name   string
		method Method
		blocks int
		valid  bool
	}{{"gev", GEV, 40, true}, {"gpd", GPD, 40, true}, {"refused", GEV, 20, false}} {
		t.Run(c.name, func(t *testing.T) {
			a, err := Analyze(runOf(expTail, 21, c.blocks, 500, nil), Options{Method: c.method, Bootstrap: 49})
			if err != nil {
				t.Fatal(err)
			}
			if a.Valid != c.valid {
				t.Fatalf("valid %v: %s", a.Valid, a.Reason)
			}
			b, err := a.SVG("test", DefaultProbs)
			if err != nil {
				t.Fatal(err)
			}
			obs, _ := a.observed()
			paths := countElements(t, string(b), "path")
			// gonum/plot's SVG canvas draws each circle glyph as one path, plus axes, ticks,
			// grid and legend: at least one per observation.
			if paths < len(obs) {
				t.Errorf("%d paths for %d observations", paths, len(obs))
			}
			if got := strings.Contains(string(b), "fitted"); got != c.valid {
				t.Errorf("legend names the fitted curve: %v, want %v", got, c.valid)
			}
		})
	}
}

func countElements(t *testing.T, doc, name string) int {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	n := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			n++
		}
	}
}
