#!/usr/bin/env bash
# make bench: the harness's own cost, side by side in one run:
#   (a) Go benchmarks of the timed loop over the no-op backend (ns/op, allocs/op);
#   (b) tailgate's harness against a minimal C loop over the ONNX Runtime C API
#       (harness/internal/cref) on the fixture models, same process, same thread settings:
#       p50/p99/p99.9/max of each and the ratios.
# Environment: ONNXRUNTIME_LIB (required), BENCH_CPU (timing CPU, default the last one),
# BENCH_FIFO (SCHED_FIFO priority for both loops, default 10 when root, else 0 = SCHED_OTHER),
# BENCH_ITERATIONS (samples per side, default 4000).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${ONNXRUNTIME_LIB:?set ONNXRUNTIME_LIB (make bench does) to the pinned libonnxruntime.so}"
GO=${GO:-go}
CPU=${BENCH_CPU:-$(( $(nproc) - 1 ))}
if [ "$(id -u)" = 0 ]; then FIFO=${BENCH_FIFO:-10}; else FIFO=${BENCH_FIFO:-0}; fi
N=${BENCH_ITERATIONS:-4000}

echo "== (a) timed loop over the no-op backend (targets: loop ≤ 100 ns/op, 0 allocs/op)"
# Short benchtime keeps a SCHED_FIFO benchmark inside the kernel's RT budget (950ms/s).
TAILGATE_BENCH_CPU=$CPU TAILGATE_BENCH_FIFO=$FIFO \
	$GO test -run '^$' -bench 'BenchmarkLoopNop|BenchmarkClockRead' -benchmem -benchtime 200ms -count 3 ./harness | grep -E '^Benchmark'

echo
echo "== (b) tailgate vs a C loop over the ONNX Runtime C API (CPU $CPU, fifo=$FIFO; targets p50 ≤1.02×, p99 ≤1.05×, p99.9 ≤1.10×)"
CGO_CFLAGS="-I$($GO list -m -f '{{.Dir}}' github.com/yalue/onnxruntime_go)"
export CGO_CFLAGS
bin=$(mktemp -d)/crefbench
trap 'rm -rf "$(dirname "$bin")"' EXIT
$GO build -tags cref -o "$bin" ./harness/internal/cref/crefbench
"$bin" -lib "$ONNXRUNTIME_LIB" -model fixtures/models/vision-fp32.onnx -input x=1x3x96x96 \
	-iterations "$N" -rounds 8 -warmup 50 -cpu "$CPU" -fifo "$FIFO"
"$bin" -lib "$ONNXRUNTIME_LIB" -model fixtures/models/tinylm.onnx \
	-iterations "$N" -rounds 8 -warmup 100 -cpu "$CPU" -fifo "$FIFO"

echo
echo "== (c) the rest of the measuring path: one inference through ortbackend, the interval-log encoder"
echo "      (ours vs hdrhistogram-go's writer), telemetry and metrics per interval"
$GO test ./harness/ortbackend -run '^$' -bench 'BenchmarkRunVisionFP32$|BenchmarkRunVisionInt8$|BenchmarkRunTinyLM$' -benchmem -benchtime 300x | grep -E '^Benchmark'
$GO test ./baseline/result -run '^$' -bench 'BenchmarkLogWrite' -benchmem -benchtime 1s | grep -E '^Benchmark'
$GO test ./runner/telemetry ./runner/metrics -run '^$' -bench . -benchmem -benchtime 500x | grep -E '^Benchmark'

echo
echo "== (d) the gate: a pair of 48-hour nightly runs (17,280 intervals each), runs already in memory"
$GO test ./gate/stats -run '^$' -bench 'Compare48h' -benchmem -benchtime 2x | grep -E '^Benchmark'

echo
echo "uptime: $(uptime)   (ratios are only meaningful on a quiet machine)"
