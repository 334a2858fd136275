#!/usr/bin/env bash
# Installs the pinned ONNX Runtime shared library for this machine's architecture into
# .cache/onnxruntime/<version>/<arch>/libonnxruntime.so.1, checked by SHA-256.
#
# The library comes from the official npm package onnxruntime-node: `npm pack` fetches the
# tarball without installing it or running any of its scripts. A board with internet but no
# npm can take the release tarball instead (see README, "ONNX Runtime without npm").
set -euo pipefail

version=1.30.0
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TAILGATE_CACHE:-$root/.cache}

arch=${ORT_ARCH:-$(uname -m)}
case "$arch" in
  x86_64|amd64|x64) arch=x64;   want=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23 ;;
  aarch64|arm64)    arch=arm64; want=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76 ;;
  *) echo "ort.sh: no pinned ONNX Runtime $version for architecture '$arch' (have x64, arm64)" >&2; exit 2 ;;
esac

dest=$cache/onnxruntime/$version/$arch
lib=$dest/libonnxruntime.so.1

check() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$want" ]; }

if [ -f "$lib" ]; then
  if check "$lib"; then
    echo "ONNX Runtime $version ($arch) already installed: $lib"
    exit 0
  fi
  echo "ort.sh: $lib exists but its SHA-256 is not the pinned $want; refusing to use it." >&2
  echo "        Remove it (rm '$lib') and run 'make ort' again." >&2
  exit 2
fi

if ! command -v npm >/dev/null 2>&1; then
  cat >&2 <<MSG
ort.sh: npm is not installed, and it is how tailgate fetches ONNX Runtime $version.
  Either install Node.js/npm (Debian: apt-get install npm) and run 'make ort' again, or, on a
  board with internet, fetch the release tarball and put the library in place yourself:
    curl -LO https://github.com/microsoft/onnxruntime/releases/download/v$version/onnxruntime-linux-<x64|aarch64>-$version.tgz
    tar xzf onnxruntime-linux-*-$version.tgz
    export ONNXRUNTIME_LIB=\$PWD/onnxruntime-linux-*-$version/lib/libonnxruntime.so.$version
  (the release tarball's library is a different build from the npm one, so its SHA-256 differs;
  'tailgate doctor' pins whichever hash you record in tailgate.yaml).
MSG
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching onnxruntime-node@$version with npm pack (nothing is installed, no scripts run)"
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$tmp/onnxruntime-node-$version.tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
got=$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1
if ! check "$got"; then
  echo "ort.sh: SHA-256 of the downloaded library is $(sha256sum "$got" | cut -d' ' -f1), pinned is $want; refusing it." >&2
  exit 2
fi
mkdir -p "$dest"
cp "$got" "$dest/.libonnxruntime.so.1.tmp"
sync "$dest/.libonnxruntime.so.1.tmp"
mv "$dest/.libonnxruntime.so.1.tmp" "$lib"
echo "installed ONNX Runtime $version ($arch): $lib"
