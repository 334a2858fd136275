# tailgate — see README.md. `make demo` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN := bin/tailgate
ORT_LIB = $(CURDIR)/.cache/onnxruntime/1.30.0/$(shell uname -m | sed -e s/x86_64/x64/ -e s/aarch64/arm64/)/libonnxruntime.so.1
# Debian packages the tests use: real git, HdrHistogram's Java log processor, stress-ng.
TEST_DEBS := git libhdrhistogram-java default-jre-headless stress-ng

.PHONY: all build ort demo test test-deps vet bench calibrate fuzz dist arm64-deps test-arm64 test-all clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/tailgate

# Pinned ONNX Runtime 1.30.0 from the onnxruntime-node npm package, checked by SHA-256.
ort:
	./.ci/ort.sh

test-deps: ort
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

vet:
	$(GO) vet ./...

test: test-deps vet
	ONNXRUNTIME_LIB=$(ORT_LIB) $(GO) test -count=1 -timeout 40m ./...

demo: build ort
	./.ci/demo.sh

bench: build ort
	ONNXRUNTIME_LIB=$(ORT_LIB) ./.ci/bench.sh

fuzz:
	$(GO) test ./baseline/result -run '^$$' -fuzz FuzzParseLog -fuzztime 30s
	$(GO) test ./baseline/result -run '^$$' -fuzz FuzzParseMeta -fuzztime 30s

# Release tarballs for linux/arm64 (Pi 5) and linux/amd64 with SHA256SUMS; reproducible.
dist: arm64-deps
	./.ci/dist.sh

arm64-deps:
	@missing=""; for p in gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The arm64 binary under qemu-user with the arm64 ONNX Runtime: version, two short runs, a compare.
test-arm64: dist
	./.ci/test-arm64.sh

test-all: test test-arm64

clean:
	rm -rf bin dist demo-out
