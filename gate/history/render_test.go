package history

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/fixtures/golden"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
)

// dated gives the nights of series a date, a commit and a verdict each; night noCommit (when
// not negative) has no recorded commit.
func dated(nights []Night, noCommit int) []Night {
	for i := range nights {
		nights[i].Time = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		if i != noCommit {
			nights[i].Commit = fmt.Sprintf("%08x%032d", 0xc0ffee00+i, 0)
		}
		if i%7 != 3 {
			nights[i].Verdict = "pass"
		}
	}
	return nights
}

func TestWriteText(t *testing.T) {
	step := func(i int) float64 {
		if i >= 20 {
			return 1.1
		}
		return 1
	}
	flat := func(int) float64 { return 1 }
	creep := func(i int) float64 { return 1 + 0.004*float64(i) }
	log := func(lines []string, err error) func(from, to string) ([]string, error) {
		return func(from, to string) ([]string, error) {
			if err != nil {
				return nil, err
			}
			return append([]string{from[:7] + ".." + to[:7]}, lines...), nil
		}
	}
	for _, tc := range []struct {
		name   string
		nights []Night
		log    func(from, to string) ([]string, error)
		warn   string
	}{
		{name: "none", nights: nil},
		{name: "flat", nights: dated(series(1, 30, flat), -1)},
		{name: "step", nights: dated(series(2, 30, step), -1), log: log([]string{"c0ffee14 quantize conv3 per-tensor"}, nil)},
		{name: "step_no_log", nights: dated(series(2, 30, step), -1)},
		{name: "step_log_fails", nights: dated(series(2, 30, step), -1), log: log(nil, errors.New("bad revision")), warn: "warning: listing the commits of"},
		{name: "step_unknown_commit", nights: dated(series(2, 30, step), 20), log: log(nil, nil)},
		{name: "creep", nights: dated(series(3, 40, creep), -1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := changepoint.Options{Alpha: changepoint.DefaultAlpha, MinShift: changepoint.DefaultMinShift, Seed: DefaultSeed}
			changes, err := Changes(tc.nights, opt)
			if err != nil {
				t.Fatal(err)
			}
			var out, warn bytes.Buffer
			o := TextOptions{Suite: "vision-int8", Key: "38ce706fed90fb7f", Analysis: opt, CommitLog: tc.log, Warn: &warn}
			if err := WriteText(&out, tc.nights, changes, o); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "text_"+tc.name+".golden"), out.Bytes())
			if !strings.Contains(warn.String(), tc.warn) || (tc.warn == "" && warn.Len() > 0) {
				t.Errorf("warnings %q, want %q", warn.String(), tc.warn)
			}
		})
	}
}
