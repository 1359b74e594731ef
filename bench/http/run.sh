#!/usr/bin/env bash
# vigild's cost of being watched: see run.py. About 3 minutes.
#   PHASE=60 CLIENTS=50 COMPONENTS=100 bench/http/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/build.sh
exec python3 bench/http/run.py
