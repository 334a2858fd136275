// Command calibrate is the gate's operating characteristic (`make calibrate`): for every rule
// kind (p50, p99, p99.9 relative; p99 absolute; miss), synthetic process and per-run offset it
// gates seeded pairs of runs at known true shifts through gate.Compare, for a 2-minute PR run
// against a 1-hour baseline and for a pair of 2-hour nightly runs, and prints the share of
// regression / inconclusive / pass per cell and issue 13's "done when" checklist, PASS or FAIL
// per line. Progress goes to stderr; the report to stdout and to -out. -design AB is issue 17's
// instead: interleaved A/B results, in one run and in sessions of fresh arms, gated by
// gate.CompareAB (ab.go), reported to stdout and to -out (default .cache/calibrate-ab.txt).
//
//	go run ./gate/stats/internal/calibrate [-pairs 200] [-seed 1] [-workers N] [-out .cache/calibrate.txt]
//	    [-design PR|nightly|AB] [-process ar1-burst-drift] [-strict]
//
// -strict exits 1 when a checklist line fails. Pairs default to $TAILGATE_CALIBRATE, else 200.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/gate/stats/internal/calib"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

func main() {
	defPairs := 200
	if v, err := strconv.Atoi(os.Getenv("TAILGATE_CALIBRATE")); err == nil && v > 0 {
		defPairs = v
	}
	pairs := flag.Int("pairs", defPairs, "pairs a cell (≥ 200 for the issue's numbers)")
	seed := flag.Uint64("seed", 1, "experiment seed")
	workers := flag.Int("workers", 0, "parallel pairs (0: GOMAXPROCS)")
	out := flag.String("out", ".cache/calibrate.txt", "also write the report here (empty: stdout only; -design AB: "+defaultABOut+")")
	design := flag.String("design", "", "run only this design: PR or nightly (default: both), or AB (interleaved A/B, in one run and in sessions, alone)")
	only := flag.String("process", "", "run only these processes, comma-separated (default: all)")
	strict := flag.Bool("strict", false, "exit 1 when a checklist line fails")
	flag.Parse()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "calibrate:", err)
		os.Exit(2)
	}
	cfg := calib.Config{Pairs: *pairs, Seed: *seed, Workers: *workers}
	switch *design {
	case abDesign:
		if *only != "" {
			fail(fmt.Errorf("-process %q: -design AB has its own processes (ab.go)", *only))
		}
		set := false
		flag.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
		if !set {
			*out = defaultABOut
		}
		fmt.Fprintf(os.Stderr, "calibrate: interleaved A/B, %d pairs a cell, %d workers\n", *pairs, *workers)
		res, err := runAB(abConfig{Pairs: *pairs, Seed: *seed, Workers: *workers, Tables: abTables})
		if err != nil {
			fail(err)
		}
		w, closeOut, err := output(*out)
		if err != nil {
			fail(err)
		}
		ok, err := res.write(w)
		if err == nil {
			err = closeOut()
		}
		if err != nil {
			fail(err)
		}
		if *strict && !ok {
			os.Exit(1)
		}
		return
	case "":
	case calib.PR.Name:
		cfg.Designs = []calib.Design{calib.PR}
	case calib.Nightly.Name:
		cfg.Designs = []calib.Design{calib.Nightly}
	default:
		fail(fmt.Errorf("-design %q: want PR or nightly", *design))
	}
	if *only != "" {
		for _, p := range strings.Split(*only, ",") {
			if _, err := synth.New(synth.Spec{Process: synth.Process(p)}); err != nil {
				fail(err)
			}
			cfg.Processes = append(cfg.Processes, synth.Process(p))
		}
	}
	start := time.Now()
	last := time.Time{}
	cfg.Progress = func(done, total int, frac float64) {
		if time.Since(last) < 5*time.Second && done < total {
			return
		}
		last = time.Now()
		el := time.Since(start)
		eta := time.Duration(float64(el) * (1 - frac) / max(frac, 1e-9))
		fmt.Fprintf(os.Stderr, "calibrate: %d/%d pairs, %.0f%% of the work, %s elapsed, ~%s left\n",
			done, total, 100*frac, el.Round(time.Second), eta.Round(time.Second))
	}
	fmt.Fprintf(os.Stderr, "calibrate: %d pairs a cell, GOMAXPROCS %d\n", *pairs, runtime.GOMAXPROCS(0))
	res, err := calib.Run(cfg)
	if err != nil {
		fail(err)
	}
	w, closeOut, err := output(*out)
	if err != nil {
		fail(err)
	}
	if err := res.Write(w); err != nil {
		fail(err)
	}
	if err := closeOut(); err != nil {
		fail(err)
	}
	if *strict {
		for _, c := range res.Checklist() {
			if !c.Pass {
				os.Exit(1)
			}
		}
	}
}

// defaultABOut is where -design AB writes its report when -out is not given.
const defaultABOut = ".cache/calibrate-ab.txt"

// output is stdout, and the file out too unless out is empty; closing it says where the report
// went.
func output(out string) (io.Writer, func() error, error) {
	if out == "" {
		return os.Stdout, func() error { return nil }, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, nil, err
	}
	return io.MultiWriter(os.Stdout, f), func() error {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "calibrate: report written to", out)
		return nil
	}, nil
}
