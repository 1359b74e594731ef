#!/usr/bin/env bash
# The warehouse robot: builds what is missing (vigild, vigil and the seven nodes), then runs
# vigild on examples/warehouse/robot.yaml in the foreground, with DDS on loopback. Ctrl-C stops
# the robot (vigild stops every node in reverse dependency order).
# In another terminal, from the repository:
#   examples/warehouse/scenario.sh                                 break it five ways
#   build/bin/vigil -c examples/warehouse/robot.yaml events -f     watch vigil repair it
#   build/bin/vigil -c examples/warehouse/robot.yaml top           the live view
# Environment: BUILD_DIR (default build/: the config's programs are build/bin/*; another build
# directory runs a copy of the config pointing at its bin/), CYCLONEDDS_URI (default: the
# loopback-only dds/cyclonedds-loopback.xml). Arguments go to vigild (e.g. --log-level debug).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
build="$(realpath -m "${BUILD_DIR:-build}")"

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  scripts/setup-deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j2 --target vigild vigil warehouse

config=examples/warehouse/robot.yaml
if [[ "$build" != "$repo/build" ]]; then
  # The same robot, its programs from this build directory; the same state directory, so
  # `vigil -c examples/warehouse/robot.yaml ...` still finds it.
  config="$build/warehouse-robot.yaml"
  sed -e "s#\.\./\.\./build/bin/#$build/bin/#" -e "s#^state_dir: \.\./\.\./#state_dir: $repo/#" \
    examples/warehouse/robot.yaml >"$config"
fi
state_dir="$repo/.vigil/warehouse"
export CYCLONEDDS_URI="${CYCLONEDDS_URI:-file://$repo/dds/cyclonedds-loopback.xml}"

# vigild in the background so that this script can say where the dashboard is once vigild
# knows (it writes state_dir/http.url before it is ready); Ctrl-C and SIGTERM reach it.
rm -f "$state_dir/http.url"
"$build/bin/vigild" --config "$config" "$@" &
vigild=$!
trap 'kill -TERM "$vigild" 2>/dev/null || true' INT TERM
for _ in $(seq 100); do
  [[ -s "$state_dir/http.url" ]] && break
  kill -0 "$vigild" 2>/dev/null || break
  sleep 0.1
done
if [[ -s "$state_dir/http.url" ]]; then
  echo "warehouse robot: dashboard at $(cat "$state_dir/http.url")/"
  echo "warehouse robot: in another terminal: examples/warehouse/scenario.sh"
fi
status=0
wait "$vigild" || status=$?
# The first wait returns when a trapped signal arrives; then vigild is still stopping.
if kill -0 "$vigild" 2>/dev/null; then wait "$vigild" || status=$?; fi
exit "$status"
