package wcet

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestExceedanceFigure draws the exceedance figure of a valid and of a refused analysis: each is
// an SVG document with the observed tail; a valid one has the model, its upper bound and a mark
// per quoted probability it may claim (from fewer than DeepMinBlocks maxima, none at 1e-9 or
// below), a refused one says why in its caption.
func TestExceedanceFigure(t *testing.T) {
	for _, c := range []struct {
		name   string
		method Method
		blocks int
		valid  bool
		marks  int
	}{{"gev", GEV, 100, true, 3}, {"gpd", GPD, 100, true, 3}, {"shallow", GEV, 40, true, 1}, {"refused", GEV, 20, false, 0}} {
		t.Run(c.name, func(t *testing.T) {
			ivs := runOf(expTail, 21, c.blocks, 500, nil)
			a, err := Analyze(ivs, Options{Method: c.method, Bootstrap: 49})
			if err != nil {
				t.Fatal(err)
			}
			if a.Valid != c.valid {
				t.Fatalf("valid %v: %s", a.Valid, a.Reason)
			}
			f, err := a.ExceedanceFigure("test", mergeAll(ivs), DefaultProbs)
			if err != nil {
				t.Fatal(err)
			}
			b, err := f.SVG()
			if err != nil {
				t.Fatal(err)
			}
			checkXML(t, string(b))
			got := map[string]int{}
			for _, s := range f.Series {
				got[s.Name] = s.Points
			}
			if got["observed"] == 0 {
				t.Errorf("no observed points: %v", got)
			}
			if c.valid && (got["model"] == 0 || got["upper"] == 0 || got["marks"] != c.marks) {
				t.Errorf("valid fit drew %v: want model, upper bound and %d marks", got, c.marks)
			}
			if !c.valid && (len(got) != 1 || !strings.Contains(f.Caption, a.Reason)) {
				t.Errorf("refused fit drew %v, caption %q: want the observed tail and why", got, f.Caption)
			}
		})
	}
}

func checkXML(t *testing.T, doc string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
	}
}
