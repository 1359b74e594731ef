#!/usr/bin/env bash
# Installs what is missing, builds, and runs vigild on the example robot in the foreground.
# In another terminal: build/bin/vigil -c examples/robot.yaml status|events -f|report
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/bin/vigild --config examples/robot.yaml "$@"
