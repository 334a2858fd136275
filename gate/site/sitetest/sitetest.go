// Package sitetest generates baseline stores of nightly histories for the site's tests and its
// benchmark (`make bench-site`): seeded synthetic runs, stored, recorded as nights and promoted
// by the store's own policy, with a step in the first suite's latency to be found.
package sitetest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/baseline/result/resulttest"
)

// Store describes a generated store.
type Store struct {
	// Suites are the suite names; Boards the board names, one environment key each.
	Suites, Boards []string
	// Nights is how many nights each suite and board ran, one a day from Start.
	Nights int
	Start  time.Time
	// Intervals and PerInterval size each run (resulttest.Synthetic's defaults when 0).
	Intervals, PerInterval int
	// StepAt is the night from which the first suite on every board is 15 % slower (none when 0).
	StepAt int
	// PromoteEvery promotes a passing night every so many nights after the first (30 when 0).
	PromoteEvery int
	// Ref, when set, is the git ref of the last suite's last night (the others are on
	// refs/heads/main): free text the site must escape. That night is not promoted.
	Ref  string
	Seed uint64
}

// Commit is the generated commit of night i: 40 hex digits.
func Commit(i int) string {
	h := sha1.Sum([]byte(fmt.Sprint("night ", i)))
	return hex.EncodeToString(h[:])
}

// Env is the generated environment of a board.
func Env(board string) result.Fingerprint {
	return result.Fingerprint{Arch: "arm64", OS: "linux", KernelRelease: "6.12.25-rt", PreemptRT: true,
		CPUModel: "Cortex-A76", CPUCount: 4, Board: board, Backend: "onnxruntime", ORTVersion: "1.30.0",
		Threads: 1, CPUs: []int{3}, Sched: "fifo:80"}
}

// Generate writes the store into the folder dir (created) and returns it open. Each run is
// written into a scratch folder under tmp, added, recorded as a night against the baseline of
// the time with verdict pass, and every PromoteEvery nights promoted.
func Generate(dir, tmp string, g Store) (baseline.Store, error) {
	if g.Start.IsZero() {
		g.Start = time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	}
	if g.PromoteEvery == 0 {
		g.PromoteEvery = 30
	}
	st, err := baseline.OpenDir(dir, baseline.Options{})
	if err != nil {
		return nil, err
	}
	seed := g.Seed
	for si, suite := range g.Suites {
		for _, board := range g.Boards {
			base := ""
			for i := range g.Nights {
				seed++
				median := 1e6 * (1 + 0.5*float64(si)) * (1 + 0.01*math.Sin(float64(i)/5))
				if si == 0 && g.StepAt > 0 && i >= g.StepAt {
					median *= 1.15
				}
				at := g.Start.Add(time.Duration(i) * 24 * time.Hour)
				ref := "refs/heads/main"
				if g.Ref != "" && si == len(g.Suites)-1 && i == g.Nights-1 {
					ref = g.Ref
				}
				src := filepath.Join(tmp, fmt.Sprintf("run-%d", seed))
				m, err := resulttest.Lognormal(src, resulttest.Synthetic{Suite: suite, Env: Env(board),
					Git: result.Git{Repo: "example/app", Commit: Commit(i), Ref: ref}, Start: at,
					Intervals: g.Intervals, PerInterval: g.PerInterval, MedianNs: median, Seed: seed})
				if err != nil {
					return nil, err
				}
				ri, err := st.Add(src)
				if err != nil {
					return nil, err
				}
				if err := os.RemoveAll(src); err != nil {
					return nil, err
				}
				verdict := "pass"
				if base == "" {
					verdict = "bootstrap"
				}
				if err := st.Append(baseline.NightlyEntry(m, ri.ID, base, verdict, at.Add(6*time.Hour))); err != nil {
					return nil, err
				}
				if base == "" || (i%g.PromoteEvery == 0 && ref == "refs/heads/main") {
					p := baseline.Promotion{Suite: suite, Key: ri.Key, Run: ri.ID, Verdict: verdict, By: "sitetest", Time: at.Add(6 * time.Hour)}
					if base == "" {
						p.Verdict = ""
					}
					if _, err := st.Promote(p); err != nil {
						return nil, err
					}
					base = ri.ID
				}
			}
		}
	}
	return st, nil
}
