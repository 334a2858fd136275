# tailgate — see README.md. `make demo` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN := bin/tailgate
ORT_LIB = $(CURDIR)/.cache/onnxruntime/1.30.0/$(shell uname -m | sed -e s/x86_64/x64/ -e s/aarch64/arm64/)/libonnxruntime.so.1
# Debian packages the tests use: real git, HdrHistogram's Java log processor (and javac, for
# the test that writes a log with HdrHistogram's Java writer), stress-ng, Chromium for the
# dashboard's browser test (gate/site), gcc and Python for the exec backend's C and Hailo
# workers. Node.js and npm are not among them: `make ort` already needs npm, and a machine's
# Node.js often comes from elsewhere (NodeSource), whose bundled npm Debian's npm conflicts with.
TEST_DEBS := git libhdrhistogram-java default-jre-headless default-jdk-headless stress-ng chromium gcc python3
NODE_PATH_WORKER = $(CURDIR)/.cache/node-worker/1.30.0/node_modules

.PHONY: all build ort hdrjs node-worker bench-worker demo test test-deps vet lint-actions bench bench-gate bench-48h bench-site calibrate e2e season test-long fuzz fixtures dist arm64-deps test-arm64 test-all clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tailgate

# Pinned ONNX Runtime 1.30.0 from the onnxruntime-node npm package, checked by SHA-256.
ort:
	./.ci/ort.sh

# Pinned hdr-histogram-js (npm ci against .ci/hdrjs/package-lock.json) for tailgate import's test.
hdrjs:
	./.ci/hdrjs.sh

test-deps: ort hdrjs
	./.ci/debs.sh $(TEST_DEBS)
	./.ci/node-worker.sh

# onnxruntime-node 1.30.0 for the Node.js worker (harness/execbackend/workers/ort_worker.js).
node-worker:
	./.ci/node-worker.sh

vet:
	$(GO) vet ./...

# The workflows users copy must lint clean (actionlint from the Go module proxy).
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
lint-actions:
	$(GO) run $(ACTIONLINT) -shellcheck= .github/workflows/*.yml

# -p 1: one package at a time, so the tests that time real models do not share the CPUs with
# another package's statistics tests.
test: test-deps vet lint-actions
	ONNXRUNTIME_LIB=$(ORT_LIB) TAILGATE_NODE_PATH=$(NODE_PATH_WORKER) $(GO) test -p 1 -count=1 -timeout 40m ./...

demo: build ort
	./.ci/demo.sh

bench: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) ./.ci/bench.sh

# The exec backend's costs, side by side on one pinned thread: the echo worker's round trip
# (the transport per request) and vision-fp32 through the Node.js worker vs in process
# (p50/p99 and their ratios), with the load average; state the load when quoting them.
BENCH_WORKER_N ?= 2000
bench-worker: ort node-worker
	ONNXRUNTIME_LIB=$(ORT_LIB) TAILGATE_NODE_PATH=$(NODE_PATH_WORKER) $(GO) test -count=3 -run '^$$' \
	  -bench WorkerSideBySide -benchtime $(BENCH_WORKER_N)x ./harness/execbackend

# Every parser of outside data under the fuzzer, FUZZTIME each (go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./baseline:FuzzParseHistoryLine ./baseline:FuzzValidateName \
	./baseline/result:FuzzParseLog ./baseline/result:FuzzParseMeta ./baseline/result:FuzzEncode \
	./baseline/result:FuzzDecodeCompressed ./baseline/result:FuzzScanLogBuckets \
	./baseline/importer:FuzzImportHLog ./baseline/importer:FuzzImportHistogram ./baseline/importer:FuzzImportLines \
	./baseline/importer:FuzzImportCSV ./baseline/importer:FuzzImportJSONL ./baseline/importer:FuzzParseDoctor \
	./fixtures/onnxbuild:FuzzInspect ./gate:FuzzParseRule ./gate/stats:FuzzPoint \
	./harness/inputs:FuzzParseNPY ./harness/inputs:FuzzParseSpec ./harness/sched:FuzzParse \
	./harness/synthetic:FuzzParse ./harness/execbackend:FuzzParseReady ./runner/ci:FuzzRecover ./runner/config:FuzzParse ./runner/config:FuzzParseRate \
	./runner/host:FuzzParseCPUList ./runner/host:FuzzParseCmdline ./runner/host:FuzzParseInterrupts \
	./runner/host:FuzzSumInterrupts ./runner/host:FuzzParseDecimal \
	./runner/publish:FuzzParseEvent ./runner/publish:FuzzParseReport
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "== $$pkg $$fn"; $(GO) test $$pkg -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; done

# Statistical calibration with known truths. The gate's operating characteristic: regression /
# inconclusive / pass shares per rule kind, process, per-run offset and true shift, for a 2-minute
# PR run against a 1-hour baseline and for 2-hour nightly pairs, with issue 13's "done when"
# checklist (report also in .cache/calibrate.txt); then interleaved A/B results (1-s and 250-ms rounds, and
# sessions), with issue 17's checklist (.cache/calibrate-ab.txt, ~7 CPU-minutes at 200 pairs); then
# pWCET accuracy and coverage.
# CALIBRATE_PAIRS=40 for a quicker look (~4.6 CPU-minutes); 200, the issue's number, takes ~23 CPU-minutes
# (~12 minutes on two idle cores).
CALIBRATE_PAIRS ?= 200
calibrate:
	$(GO) run ./gate/stats/internal/calibrate -pairs $(CALIBRATE_PAIRS) -out .cache/calibrate.txt
	$(GO) run ./gate/stats/internal/calibrate -design AB -pairs $(CALIBRATE_PAIRS) -out .cache/calibrate-ab.txt
	TAILGATE_CALIBRATE=1 $(GO) test -count=1 -v -timeout 60m ./gate/wcet -run 'TestCalibrate|TestCoverage'
	TAILGATE_CALIBRATE=1 $(GO) test -count=1 -v -timeout 20m ./gate/changepoint -run TestCalibrateAutocorrelated

# The fixture models through run + compare on the real runtime; needs a quiet CPU.
e2e: ort
	TAILGATE_E2E=1 ONNXRUNTIME_LIB=$(ORT_LIB) $(GO) test -count=1 -v ./cmd/tailgate -run TestCompareEndToEnd

# The season: the real binary through 60 nights and 40 pull requests on a simulated Actions
# runner (checkout cleanups, re-runs, a SIGKILL, a fork, injected step/tail/creep regressions)
# against a bare origin and a fake GitHub; prints the season table (also in .cache/season.txt).
# The short seeded season (12 nights, 5 pull requests) is part of `make test`.
season:
	mkdir -p .cache
	set -o pipefail; TAILGATE_SEASON=full $(GO) test -v -count=1 -timeout 40m -run '^TestSeason$$' ./cmd/tailgate \
	  | tee .cache/season.log | sed -n '/^season:/,/^season check failures/p' | tee .cache/season.txt

# Long crash-safety and concurrency runs of the stores (100 folder + 30 git SIGKILL rounds).
test-long:
	TAILGATE_LONG_TESTS=1 $(GO) test -count=1 -timeout 30m -run 'Crash|Concurrent' ./baseline

# The pair of 48-hour nightly results (17,280 intervals a side), written once into .cache/g48.
G48 := .cache/g48/cand/meta.json
$(G48):
	rm -rf .cache/g48 && mkdir -p .cache/g48 && TAILGATE_WRITE_48H=$(CURDIR)/.cache/g48 $(GO) test -count=1 -timeout 20m ./gate -run TestWrite48h

# Gating a pair of 48-hour nightly logs end to end.
bench-gate: build $(G48)
	/usr/bin/time -v $(BIN) compare .cache/g48/base .cache/g48/cand > /dev/null 2> .cache/g48/time.txt || true
	grep -E 'Elapsed|Maximum resident' .cache/g48/time.txt
	TAILGATE_48H=$(CURDIR)/.cache/g48 $(GO) test ./baseline/result ./gate/stats ./gate -run '^$$' -bench '48h' -benchtime 2x -benchmem

# Issue 16's table on the 48-hour pair: wall seconds and maximum RSS (/usr/bin/time) of every
# command that reads a whole run (compare, compare --store, baseline show, report, wcet GEV and
# GPD, a pWCET threshold, and ci --profile nightly's post-processing of a reused 48-hour run).
bench-48h: build $(G48)
	./.ci/bench48h.sh

# Issue 19's figures: `tailgate site` on a generated store of 365 nights × 3 suites × 2 boards
# (generated once into .cache/site-bench/store, which takes minutes: every run is fsynced), wall
# time, CPU seconds and maximum RSS (/usr/bin/time) of a fresh build and of an incremental one.
SITE_BENCH := .cache/site-bench
$(SITE_BENCH)/store/tailgate-store.json:
	rm -rf $(SITE_BENCH) && mkdir -p $(SITE_BENCH)
	TAILGATE_SITE_STORE=$(abspath $(SITE_BENCH))/store $(GO) test -count=1 -timeout 60m ./gate/site -run '^TestWriteBenchStore$$'
bench-site: build $(SITE_BENCH)/store/tailgate-store.json
	rm -rf $(SITE_BENCH)/site
	@for pass in fresh incremental; do \
	  /usr/bin/time -v $(BIN) site --store $(SITE_BENCH)/store --out $(SITE_BENCH)/site --repo-url https://github.com/example/app 2> $(SITE_BENCH)/time.txt; \
	  echo "== $$pass build"; grep -E 'Elapsed|User time|System time|Maximum resident' $(SITE_BENCH)/time.txt; done

# Regenerate the fixture models (the tests require the committed ones to be byte-identical).
fixtures:
	$(GO) run ./fixtures/gen

# Release tarballs for linux/arm64 (Pi 5) and linux/amd64 with SHA256SUMS; reproducible.
dist: arm64-deps
	./.ci/dist.sh

arm64-deps:
	./.ci/debs.sh gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static

# The arm64 binary under qemu-user with the arm64 ONNX Runtime: version, two short runs, a compare.
test-arm64: dist
	./.ci/test-arm64.sh

test-all: test test-arm64

clean:
	rm -rf bin dist demo-out
