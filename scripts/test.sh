#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration with real
# processes, and a short run of each fuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
if [[ -x fuzz/run.sh ]]; then fuzz/run.sh 20; fi
