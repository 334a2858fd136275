package execbackend_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/execbackend/workertest"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// BenchmarkWorkerSideBySide is issue 18's measurement (`make bench-worker`): the transport's
// cost per request (the echo worker), and the fixture model through the Node.js worker against
// the same model in process, alternated sample by sample on one pinned thread so both see the
// same machine. It reports medians and p99s in ns and the Node/in-process ratios, and logs the
// load average, which on a shared machine is half the story.
func BenchmarkWorkerSideBySide(b *testing.B) {
	ortlibtest.Load(b)
	modules, _ := filepath.Abs(nodeModules())
	node, err := execbackend.Open(execbackend.Options{Command: []string{"node", "workers/ort_worker.js", model},
		Env: []string{"NODE_PATH=" + modules, "PATH=" + os.Getenv("PATH")}})
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close()
	echo, err := execbackend.Open(execbackend.Options{Command: workertest.Command("echo")})
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	inproc, err := ortbackend.Open(ortbackend.Options{Model: model, Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer inproc.Close()

	backends := []harness.Backend{echo, inproc, node}
	hists := []*hdrhistogram.Histogram{result.NewHistogram(), result.NewHistogram(), result.NewHistogram()}
	load0, _ := os.ReadFile("/proc/loadavg")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if allowed, err := sched.Allowed(); err == nil && len(allowed) > 0 {
		_ = sched.Pin(allowed[len(allowed)-1:])
	}
	for i := 0; i < 50; i++ { // warm-up
		for _, be := range backends {
			_ = be.Run(0)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, be := range backends {
			t0 := harness.Now()
			if err := be.Run(0); err != nil {
				b.Fatal(err)
			}
			_ = hists[k].RecordValue(max(harness.Now()-t0, 1))
		}
	}
	b.StopTimer()
	load1, _ := os.ReadFile("/proc/loadavg")
	q := func(k int, p float64) float64 { return float64(hists[k].ValueAtQuantile(p)) }
	b.ReportMetric(q(0, 50), "transport-p50-ns")
	b.ReportMetric(q(0, 99), "transport-p99-ns")
	b.ReportMetric(q(1, 50), "inproc-p50-ns")
	b.ReportMetric(q(1, 99), "inproc-p99-ns")
	b.ReportMetric(q(2, 50), "node-p50-ns")
	b.ReportMetric(q(2, 99), "node-p99-ns")
	b.ReportMetric(q(2, 50)/q(1, 50), "node/inproc-p50")
	b.ReportMetric(q(2, 99)/q(1, 99), "node/inproc-p99")
	b.Logf("load average before %s, after %s (%d CPUs)", strings.TrimSpace(string(load0)), strings.TrimSpace(string(load1)), runtime.NumCPU())
}

// nodeModules is where onnxruntime-node is installed for the Node.js worker.
func nodeModules() string {
	if p := os.Getenv("TAILGATE_NODE_PATH"); p != "" {
		return p
	}
	return "../../.cache/node-worker/1.30.0/node_modules"
}
