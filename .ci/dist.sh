#!/usr/bin/env bash
# make dist: reproducible release tarballs for linux/arm64 (the Pi 5) and linux/amd64.
# cgo is on because onnxruntime_go needs it; arm64 cross-compiles with Debian's
# gcc-aarch64-linux-gnu. Same commit, same bytes: -trimpath, an empty build id, sorted tar
# entries with the commit's timestamp and gzip without a name or time.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
out=${DIST:-dist}
ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit"
rm -rf "$out"
mkdir -p "$out"
for arch in arm64 amd64; do
  cc=gcc
  if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then cc=aarch64-linux-gnu-gcc; fi
  if [ "$arch" = amd64 ] && [ "$(uname -m)" != x86_64 ]; then cc=x86_64-linux-gnu-gcc; fi
  command -v "$cc" >/dev/null || { echo "dist: $cc not found (Debian: apt-get install gcc-aarch64-linux-gnu)" >&2; exit 2; }
  name=tailgate-$version-linux-$arch
  stage=$out/stage/$name
  mkdir -p "$stage"
  CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc \
    go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$stage/tailgate" ./cmd/tailgate
  cp README.md "$stage/"
  cp docs/tailgate.example.yaml "$stage/tailgate.yaml"
  if [ -d .github ]; then
    mkdir -p "$stage/github"
    cp -r .github/workflows "$stage/github/" 2>/dev/null || true
    cp -r .github/actions "$stage/github/" 2>/dev/null || true
  fi
  find "$stage" -exec touch -h -d "@$epoch" {} +
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu \
    -C "$out/stage" -cf - "$name" | gzip -n -9 > "$out/$name.tar.gz"
  cp "$stage/tailgate" "$out/tailgate-linux-$arch"
done
rm -rf "$out/stage"
(cd "$out" && sha256sum *.tar.gz tailgate-linux-* > SHA256SUMS)
cat "$out/SHA256SUMS"
