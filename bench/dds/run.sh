#!/usr/bin/env bash
# What monitoring 100 DDS topics at 100 Hz costs vigild: see run.py. About 2 minutes.
#   PHASE=60 TOPICS=100 RATE=100 COMPONENTS=10 bench/dds/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target vigild topic_flood >/dev/null
# Loopback only (the robot's processes on one machine), never the network.
export CYCLONEDDS_URI="file://$PWD/dds/cyclonedds-loopback.xml"
VIGIL_BIN="$PWD/$BUILD/bin" exec python3 bench/dds/run.py
