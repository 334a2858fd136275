#!/usr/bin/env bash
# make demo: the main job on the bundled fixture models.
set -euo pipefail
cd "$(dirname "$0")/.."
./bin/tailgate version
