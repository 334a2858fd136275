package htmlreport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/gate/gatetest"
	"github.com/tailgate-ci/tailgate/gate/history"
	"github.com/tailgate-ci/tailgate/gate/wcet"
)

// TestBuild builds pages from generated results: the figures drawn, in order, the notes of the
// ones left out, and a page Write accepts.
func TestBuild(t *testing.T) {
	spec := func(seed uint64) gatetest.Spec {
		return gatetest.Spec{Suite: "vision", Intervals: 40, PerIv: 500, Seed: seed, Process: gatetest.Lognormal(1e6, 0.1)}
	}
	base, err := FromResult(gatetest.Write(t, t.TempDir(), spec(1)))
	if err != nil {
		t.Fatal(err)
	}
	cand, err := Load(gatetest.Write(t, t.TempDir(), spec(2)).Dir)
	if err != nil {
		t.Fatal(err)
	}
	nights := make([]history.Night, 30)
	for i := range nights {
		v := int64(1e6)
		if i >= 15 {
			v = 1.1e6
		}
		nights[i] = history.Night{Time: time.Date(2026, 1, 1+i, 3, 0, 0, 0, time.UTC), P50: v, P99: v * 2, P999: v * 3}
	}
	for _, tc := range []struct {
		name  string
		in    Input
		figs  []string
		notes []string
		title string
	}{
		{
			name:  "single result",
			in:    Input{Cand: cand},
			figs:  []string{"percentiles", "timeline-candidate"},
			title: "tailgate report: vision",
		},
		{
			name: "comparison with pWCET and trend",
			in: Input{Base: base, Cand: cand, Title: "mine", WCETMethod: wcet.GEV,
				Trend: func() ([]history.Night, error) { return nights, nil }},
			figs:  []string{"percentiles", "timeline-baseline", "timeline-candidate", "exceedance", "trend"},
			title: "mine",
		},
		{
			name: "trend unreadable, no history",
			in: Input{Cand: cand, Notes: []string{"no baseline"},
				Trend: func() ([]history.Night, error) { return nil, errors.New("store gone") }},
			figs:  []string{"percentiles", "timeline-candidate"},
			notes: []string{"no baseline", "nightly trend figure left out: store gone"},
			title: "tailgate report: vision",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, figs, err := Build(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, f := range page.Figures {
				ids = append(ids, f.ID)
				if figs[i].Name != f.ID {
					t.Errorf("figure %d: page has %s, images have %s", i, f.ID, figs[i].Name)
				}
			}
			if strings.Join(ids, " ") != strings.Join(tc.figs, " ") {
				t.Errorf("figures %v, want %v", ids, tc.figs)
			}
			if strings.Join(page.Notes, "|") != strings.Join(tc.notes, "|") {
				t.Errorf("notes %q, want %q", page.Notes, tc.notes)
			}
			if page.Title != tc.title || len(page.Sides) != 1+btoi(tc.in.Base != nil) {
				t.Errorf("title %q with %d sides", page.Title, len(page.Sides))
			}
			if (page.WCET != nil) != (tc.in.WCETMethod != "") {
				t.Errorf("pWCET section %v with method %q", page.WCET, tc.in.WCETMethod)
			}
			var buf bytes.Buffer
			if err := Write(&buf, page); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
