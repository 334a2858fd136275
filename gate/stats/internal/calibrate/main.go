// Command calibrate is the long calibration of package stats (`make calibrate`): for every
// synthetic process it gates at least 200 A/A pairs and 200 pairs with an injected shift, at
// confidence 0.99, and prints how often the gate's rule (material and significant), the
// significance test alone and a plain ratio rule said "regression", with 95 % bounds.
//
//	go run ./gate/stats/internal/calibrate [-pairs 200] [-seed 1] [-method woodruff|bootstrap]
//	    [-blocklen L] [-process ar1-lognormal] [-scenario 0]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tailgate-ci/tailgate/gate/stats"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/calib"
	"github.com/tailgate-ci/tailgate/gate/stats/internal/synth"
)

func main() {
	pairs := flag.Int("pairs", 200, "pairs of runs per process and scenario")
	seed := flag.Uint64("seed", 1, "first seed")
	workers := flag.Int("workers", 0, "parallel pairs (0: one per CPU)")
	method := flag.String("method", "woodruff", "quantile interval: woodruff or bootstrap")
	resamples := flag.Int("resamples", stats.DefaultResamples, "bootstrap resamples (means, and -method bootstrap)")
	blockLen := flag.Int("blocklen", 0, "intervals per block (0: chosen from the data)")
	only := flag.String("process", "", "run only this process (default: all)")
	scenario := flag.Int("scenario", -1, "run only scenario i of the long list (default: all)")
	flag.Parse()
	o := stats.Options{Resamples: *resamples, BlockLen: *blockLen}
	procs, scs := synth.Processes, calib.Long
	if *only != "" {
		procs = []synth.Process{synth.Process(*only)}
	}
	if *scenario >= 0 && *scenario < len(scs) {
		scs = scs[*scenario : *scenario+1]
	}
	switch *method {
	case "woodruff":
		o.Method = stats.Woodruff
	case "bootstrap":
		o.Method = stats.Bootstrap
	default:
		fmt.Fprintf(os.Stderr, "calibrate: -method %q: want woodruff or bootstrap\n", *method)
		os.Exit(2)
	}
	start := time.Now()
	outs, err := calib.Run(calib.Config{Pairs: *pairs, Seed: *seed, Workers: *workers, Options: o}, procs, scs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "calibrate:", err)
		os.Exit(1)
	}
	fmt.Printf("tailgate stats calibration: %d pairs per row, confidence 0.99, quantile intervals %s, seed %d\n", *pairs, *method, *seed)
	fmt.Println("A/A rows: false-alarm rate (95% upper bound); shift rows: detection rate (95% lower bound).")
	fmt.Println("gate rule = ratio > 1+limit AND interval lower bound > 1; naive = ratio > 1+limit.")
	fmt.Println()
	if err := calib.Write(os.Stdout, outs); err != nil {
		fmt.Fprintln(os.Stderr, "calibrate:", err)
		os.Exit(1)
	}
	fmt.Printf("\n%s\n", time.Since(start).Round(time.Second))
}
