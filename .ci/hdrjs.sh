#!/usr/bin/env bash
# Installs hdr-histogram-js 3.0.1 (HdrHistogram's JavaScript port) into
# .cache/hdr-histogram-js/3.0.1/node_modules for tailgate import's interop test, which writes a
# log with it. `npm ci` installs exactly .ci/hdrjs/package-lock.json: the package and its three
# dependencies at pinned versions, each checked against the lock's sha512 integrity; no install
# scripts run.
set -euo pipefail

version=3.0.1
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TAILGATE_CACHE:-$root/.cache}
dest=$cache/hdr-histogram-js/$version

installed() { [ -f "$dest/node_modules/hdr-histogram-js/package.json" ] &&
  node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
    "$dest/node_modules/hdr-histogram-js/package.json" "$version"; }

if installed; then
  echo "hdr-histogram-js $version already installed: $dest"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "hdrjs.sh: npm is not installed (Debian: apt-get install npm); tailgate import's JS interop test needs it" >&2
  exit 2
fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.hdrjs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$root/.ci/hdrjs/package.json" "$root/.ci/hdrjs/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --silent)
mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
installed || { echo "hdrjs.sh: $dest does not hold hdr-histogram-js $version after npm ci" >&2; exit 2; }
echo "installed hdr-histogram-js $version: $dest"
