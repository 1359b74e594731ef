#!/usr/bin/env bash
# Benchmarks (not tests): installs the peers (runit, s6, supervisord), builds vigil and the
# benchmark programs, and runs everything side by side. Takes about 10 minutes.
#   BENCH_SAMPLES=30 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh --bench
scripts/build.sh
mkdir -p build/bench
gcc -O2 -static -o build/bench/target bench/target.c
gcc -O2 -o build/bench/respawn bench/respawn.c
gcc -O2 -o build/bench/spawn_many bench/spawn_many.c
exec python3 bench/bench.py
