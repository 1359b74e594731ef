#!/usr/bin/env bash
# Detector quality under load: see run.py. About 10 minutes with the defaults.
#   N=200 DURATION=500 bench/detector/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/setup-deps.sh --bench
scripts/build.sh
mkdir -p build/bench
gcc -O2 -o build/bench/beat bench/detector/beat.c
exec python3 bench/detector/run.py
