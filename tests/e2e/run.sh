#!/usr/bin/env bash
# The dashboard's end-to-end test: starts a real vigild on a small robot made of robot_sim
# processes, runs dashboard.e2e.mjs against it in Debian's Chromium, stops vigild.
#
#   tests/e2e/run.sh [BIN_DIR]        BIN_DIR holds vigild and robot_sim (default: build/bin)
#   VIGIL_SCREENSHOT=docs/dashboard.png tests/e2e/run.sh     also writes a 1280x800 screenshot
#   KEEP_TMP=1 tests/e2e/run.sh                              keeps the temp dir (logs, events)
#
# Exits with the test's status; fails when node or chromium is missing (scripts/setup-deps.sh installs them).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$(cd "${1:-$repo/build/bin}" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is not installed: run scripts/setup-deps.sh"; exit 1; }
done
[[ -x $chromium ]] || { echo "e2e: no chromium at $chromium: run scripts/setup-deps.sh"; exit 1; }
for b in vigild robot_sim; do
  [[ -x $bin/$b ]] || { echo "e2e: $bin/$b is missing: build it first"; exit 1; }
done

# Pinned dependencies, from the lockfiles, when missing or not the locked version.
installed_as_locked() { # DIR PACKAGE
  node -e 'const [dir, pkg] = process.argv.slice(1);
    const lock = require(`${dir}/package-lock.json`).packages[`node_modules/${pkg}`];
    const have = require(`${dir}/node_modules/${pkg}/package.json`).version;
    process.exit(lock && lock.version === have ? 0 : 1);' "$1" "$2" 2>/dev/null
}
installed_as_locked "$here" playwright-core || npm ci --prefix "$here" --no-audit --no-fund
installed_as_locked "$repo/web" uplot || npm ci --prefix "$repo/web" --no-audit --no-fund

if [[ -n ${VIGIL_SCREENSHOT:-} && ${VIGIL_SCREENSHOT} != /* ]]; then
  VIGIL_SCREENSHOT="$PWD/$VIGIL_SCREENSHOT"
  export VIGIL_SCREENSHOT
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e.XXXXXX")
vigild_pid=""
cleanup() {
  local status=$?
  if [[ -n $vigild_pid ]] && kill -0 "$vigild_pid" 2>/dev/null; then
    kill -TERM "$vigild_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$vigild_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$vigild_pid" 2>/dev/null || true
    wait "$vigild_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f $tmp/vigild.log ]]; then
    echo "e2e: last lines of vigild's log:"
    tail -n 30 "$tmp/vigild.log" || true
  fi
  if [[ -n ${KEEP_TMP:-} ]]; then echo "e2e: kept $tmp"; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sim="$bin/robot_sim"
cat >"$tmp/robot.yaml" <<YAML
# A small robot for the dashboard test: robot_sim processes, HTTP on a free loopback port.
state_dir: $tmp/state
final_action: stop
monitoring: {interval: 1s}
http: {listen: "127.0.0.1:0"}
root:
  strategy: one_for_one
  intensity: {restarts: 50, within: 1m}
  children:
    - name: lidar
      command: [$sim, --name, lidar, --ready-delay, 200ms, --heartbeat, 250ms, --print-every, 1s]
      ready: notify
      watchdog: {detector: phi, threshold: 8, expected_interval: 250ms, timeout: 3s}
      backoff: {initial: 100ms, max: 2s}
    - name: camera
      command: [$sim, --name, camera, --print-every, 2s]
      ready: notify
      watchdog: {timeout: 2s}
      backoff: {initial: 100ms, max: 2s}
    - name: navigation
      strategy: rest_for_one
      intensity: {restarts: 10, within: 1m}
      after: [lidar]
      children:
        - name: planner
          command: [$sim, --name, planner, --loop, "plan:100ms:2s"]
          ready: notify
        - name: controller
          command: [$sim, --name, controller]
          ready: notify
          after: [planner]
    - name: mapper
      command: [$sim, --name, mapper, --grow-rss, "2", --grow-to, "40"]
      ready: notify
      resources:
        rss: {warn: 24MiB, fail: 200MiB, for: 2s}
    # Fails at once, always: its second recovery step waits for an operator (the approvals
    # panel). Not a group restart, so answering it disturbs no other component.
    - name: gate
      command: [/bin/sh, -c, "exit 3"]
      backoff: {initial: 100ms, max: 2s}
      recovery:
        - restart: 1
        - restart: 1
          approval: {timeout: 10m, default: deny}
YAML

"$bin/vigild" -c "$tmp/robot.yaml" >"$tmp/vigild.log" 2>&1 &
vigild_pid=$!

url_file="$tmp/state/http.url"
for _ in $(seq 1 300); do
  [[ -s $url_file ]] && break
  kill -0 "$vigild_pid" 2>/dev/null || { echo "e2e: vigild exited early"; exit 1; }
  sleep 0.1
done
[[ -s $url_file ]] || { echo "e2e: vigild wrote no $url_file within 30 s"; exit 1; }
echo "e2e: vigild $vigild_pid on $(cat "$url_file")"

set +e
VIGIL_STATE_DIR="$tmp/state" CHROMIUM="$chromium" node "$here/dashboard.e2e.mjs"
status=$?
set -e
exit $status
