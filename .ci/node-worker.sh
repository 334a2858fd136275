#!/usr/bin/env bash
# Installs onnxruntime-node 1.30.0 (the npm package tailgate already pins for its ONNX Runtime
# library) for the Node.js worker, harness/execbackend/workers/ort_worker.js, into
# .cache/node-worker/1.30.0/node_modules; `node-worker.sh VERSION` installs another version beside
# it (an A/B of two ONNX Runtime versions, docs/comparison.md). --ignore-scripts: the package's install script only
# fetches GPU providers; the CPU binding and library are in the tarball.
set -euo pipefail
version=${1:-1.30.0}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${TAILGATE_CACHE:-$root/.cache}/node-worker/$version
if [ -f "$dest/node_modules/onnxruntime-node/package.json" ]; then
  echo "onnxruntime-node $version already installed: $dest/node_modules"
  exit 0
fi
command -v npm >/dev/null || { echo "node-worker.sh: npm is not installed (Debian: apt-get install nodejs npm)" >&2; exit 2; }
mkdir -p "$dest"
npm install --silent --ignore-scripts --no-audit --no-fund --prefix "$dest" "onnxruntime-node@$version" >/dev/null
got=$(node -p "require('$dest/node_modules/onnxruntime-node/package.json').version")
[ "$got" = "$version" ] || { echo "node-worker.sh: installed onnxruntime-node $got, want $version" >&2; exit 2; }
echo "onnxruntime-node $version installed: $dest/node_modules"
