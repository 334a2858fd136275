//go:build cref

// Command crefbench times one model with tailgate's harness and with the C reference loop in
// the same process, alternating rounds so drift on a shared machine hits both alike, and
// prints p50/p99/p99.9/max of each and their ratios. .ci/bench.sh runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/internal/cref"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var (
		model   = flag.String("model", "", "ONNX model")
		lib     = flag.String("lib", os.Getenv(ortlib.EnvVar), "libonnxruntime.so")
		n       = flag.Int("iterations", 4000, "timed samples per side")
		rounds  = flag.Int("rounds", 8, "alternating rounds")
		warmup  = flag.Int("warmup", 200, "warm-up samples per side per round")
		threads = flag.Int("threads", 1, "intra-op threads")
		cpu     = flag.Int("cpu", -1, "pin both timing threads to this CPU (-1: not pinned)")
		fifo    = flag.Int("fifo", 0, "run both timing threads SCHED_FIFO at this priority (0: SCHED_OTHER)")
		yield   = flag.Duration("yield", 0, "harness YieldEvery (0: default, negative: never)")
		ins     multi
	)
	flag.Var(&ins, "input", "NAME=DIMS[:FILL] (repeatable)")
	flag.Parse()
	if err := run(*model, *lib, *n, *rounds, *warmup, *threads, *cpu, *fifo, *yield, ins); err != nil {
		fmt.Fprintln(os.Stderr, "crefbench:", err)
		os.Exit(1)
	}
}

func run(model, lib string, n, rounds, warmup, threads, cpu, fifo int, yield time.Duration, inTexts []string) error {
	pol := sched.Policy{Kind: sched.Other}
	var throttle sched.Throttle
	if fifo > 0 {
		pol = sched.Policy{Kind: sched.FIFO, Priority: fifo}
		var err error
		if throttle, err = sched.ReadThrottle("/"); err != nil {
			return err
		}
	}
	pace := sched.PaceFor(throttle)
	if _, err := ortlib.Load(lib); err != nil {
		return err
	}
	specs, err := inputs.ParseSpecs(inTexts)
	if err != nil {
		return err
	}
	b, err := ortbackend.Open(ortbackend.Options{Model: model, Inputs: specs, Seed: 1, Threads: threads, Sets: 1})
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.Run(0); err != nil {
		return err
	}
	// The C loop gets exactly the bytes tailgate feeds (one set, like Sets: 1 above).
	var cin, cout []cref.Tensor
	fed := b.Inputs()
	for k, in := range b.ModelInputs() {
		data := b.Input(in.Name)
		cin = append(cin, cref.Tensor{Name: in.Name, Type: int(in.Type), Shape: fed[k].Shape, Data: data, Size: len(data)})
	}
	for _, out := range b.ModelOutputs() {
		mem := b.Output(out.Name)
		cout = append(cout, cref.Tensor{Name: out.Name, Type: int(out.Type), Shape: out.Dims, Size: len(mem)})
	}
	c, err := cref.Open(lib, model, threads, cin, cout)
	if err != nil {
		return err
	}
	defer c.Close()

	var cpus []int
	if cpu >= 0 {
		cpus = []int{cpu}
	}
	hc, ht := result.NewHistogram(), result.NewHistogram()
	per := n / rounds
	buf := make([]int64, per)
	wbuf := make([]int64, warmup)
	for r := 0; r < rounds; r++ {
		// C side, on a locked and pinned thread like the harness's.
		errc := make(chan error)
		go func() {
			runtime.LockOSThread()
			if err := sched.Pin(cpus); err != nil {
				errc <- err
				return
			}
			if err := sched.Apply(pol); err != nil {
				errc <- err
				return
			}
			if err := c.Loop(wbuf); err != nil {
				errc <- err
				return
			}
			errc <- cLoopPaced(c, buf, pace)
		}()
		if err := <-errc; err != nil {
			return err
		}
		for _, v := range buf {
			_ = hc.RecordValue(v)
		}
		rep, err := harness.Run(b, harness.Options{Iterations: int64(per), WarmupIterations: int64(warmup),
			CPUs: cpus, Sched: pol, Throttle: throttle, Calibration: -1, YieldEvery: yield, Sink: harness.Discard{}})
		if err != nil {
			return err
		}
		ht.Merge(rep.Totals[0])
	}
	print(filepath.Base(model), threads, hc, ht)
	return nil
}

// cLoopPaced runs the C loop in chunks and, under RT throttling, sleeps between chunks the
// way the harness paces itself, so neither side is throttled mid-sample.
func cLoopPaced(c *cref.Session, buf []int64, pace sched.Pacing) error {
	if pace.Run == 0 {
		return c.Loop(buf)
	}
	const chunk = 16
	start := time.Now()
	for i := 0; i < len(buf); i += chunk {
		if err := c.Loop(buf[i:min(i+chunk, len(buf))]); err != nil {
			return err
		}
		if time.Since(start) > pace.Run-pace.Run/10 {
			time.Sleep(pace.Sleep)
			start = time.Now()
		}
	}
	return nil
}

func print(name string, threads int, hc, ht *hdrhistogram.Histogram) {
	type row struct {
		q      string
		c, t   int64
		target float64
	}
	rows := []row{
		{"p50", hc.ValueAtQuantile(50), ht.ValueAtQuantile(50), 1.02},
		{"p99", hc.ValueAtQuantile(99), ht.ValueAtQuantile(99), 1.05},
		{"p99.9", hc.ValueAtQuantile(99.9), ht.ValueAtQuantile(99.9), 1.10},
		{"max", hc.Max(), ht.Max(), 0},
	}
	fmt.Printf("%s (threads=%d, %d samples each)\n", name, threads, hc.TotalCount())
	fmt.Printf("  %-6s %12s %12s %8s %8s\n", "", "C loop", "tailgate", "ratio", "target")
	for _, r := range rows {
		ratio := float64(r.t) / float64(r.c)
		target, mark := "", ""
		if r.target > 0 {
			target = fmt.Sprintf("≤%.2f", r.target)
			mark = " ok"
			if ratio > r.target {
				mark = " MISS"
			}
		}
		fmt.Printf("  %-6s %10.1fµs %10.1fµs %8.3f %8s%s\n", r.q, float64(r.c)/1e3, float64(r.t)/1e3, ratio, target, mark)
	}
}
