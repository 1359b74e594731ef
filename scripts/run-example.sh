#!/usr/bin/env bash
# Installs what is missing, builds, and runs vigild on the example warehouse robot in the
# foreground (examples/warehouse/run.sh). In another terminal:
#   examples/warehouse/scenario.sh                              break it five ways
#   build/bin/vigil -c examples/warehouse/robot.yaml events -f  watch vigil repair it
# The older example of robot_sim processes told to misbehave: build/bin/vigild -c examples/robot.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec examples/warehouse/run.sh "$@"
