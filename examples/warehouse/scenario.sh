#!/usr/bin/env bash
# Breaks the running warehouse robot (examples/warehouse/run.sh) in the five ways robots fail,
# one after another, and shows how vigil detects and repairs each:
#   1. node crash              SIGUSR1 to controller    -> exited (SIGABRT), restarted
#   2. communication failure   SIGUSR1 to odometry      -> hang_detected (no heartbeat), navigation restarted
#   3. sensor dropout          SIGUSR1 to lidar         -> topic_stale on /scan, lidar restarted
#   4. navigation stuck        SIGUSR1 to planner       -> hang_detected naming the loop "plan"
#   5. resource exhaustion     SIGUSR1 to localization  -> warning, then resource_exceeded (RSS)
# Each step waits for vigil's events (polling `vigil events` with a deadline) and for the robot
# to be ready again before the next. Needs python3 (to read vigil's JSON).
# Usage: examples/warehouse/scenario.sh [CONFIG]   (default examples/warehouse/robot.yaml)
# Environment: BUILD_DIR (default build), where bin/vigil is.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
config="${1:-$repo/examples/warehouse/robot.yaml}"
vigil_bin="$(realpath -m "${BUILD_DIR:-$repo/build}")/bin/vigil"
command -v python3 >/dev/null || { echo "scenario: needs python3" >&2; exit 1; }
[[ -x "$vigil_bin" ]] || { echo "scenario: no $vigil_bin: run examples/warehouse/run.sh" >&2; exit 1; }

vigil() { "$vigil_bin" -c "$config" "$@"; }

# Monotonic microseconds, the clock of the events' mono_us.
now_us() { python3 -c 'import time; print(int(time.monotonic() * 1e6))'; }

# The id of the newest event (0 when there is none).
last_id() {
  vigil events -n 1 --json | python3 -c '
import json, sys
ids = [json.loads(line)["id"] for line in sys.stdin if line.strip()]
print(ids[-1] if ids else 0)'
}

# A component's field from `vigil status --json` (pid, state, status_text, ...), or "".
field_of() {
  vigil status --json | python3 -c '
import json, sys
def find(node, name):
    if node.get("type") == "component" and node.get("name") == name:
        return node
    for child in node.get("children", []):
        found = find(child, name)
        if found:
            return found
node = find(json.load(sys.stdin)["tree"], sys.argv[1]) or {}
print(node.get(sys.argv[2], ""))' "$1" "$2"
}

# await_status COMPONENT PREFIX TIMEOUT_S: polls vigild's control socket every 20 ms until the
# component's STATUS starts with PREFIX (a STATUS may last well under a second, too short for
# `vigil status` in a loop); prints it, or "(not seen)".
await_status() {
  python3 - "$control_socket" "$@" <<'PY'
import json, socket, sys, time
path, name, prefix, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
def find(node):
    if node.get("type") == "component" and node.get("name") == name:
        return node
    for child in node.get("children", []):
        found = find(child)
        if found:
            return found
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
        s.sendall(b'{"cmd":"status"}\n')
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            reply += chunk
    text = (find(json.loads(reply)["tree"]) or {}).get("status_text", "")
    if text.startswith(prefix):
        print(text)
        sys.exit(0)
    time.sleep(0.02)
print("(not seen)")
PY
}

# Whether every component is running and ready (no starting, backoff, stopping).
all_running() {
  vigil status --json | python3 -c '
import json, sys
def states(node):
    if node.get("type") == "component":
        yield node.get("state")
    for child in node.get("children", []):
        yield from states(child)
sys.exit(0 if all(s == "running" for s in states(json.load(sys.stdin)["tree"])) else 1)'
}

# await COMPONENT KIND AFTER_ID SINCE_US [TIMEOUT_S]: waits for the first KIND event of
# COMPONENT after event AFTER_ID (an `exited` only if it is a failure), prints it with the time
# since SINCE_US, and leaves its id in $event_id. Fails the script on timeout.
event_id=0
await() {
  local component=$1 kind=$2 after=$3 since=$4 deadline=$((SECONDS + ${5:-20})) found
  while ((SECONDS < deadline)); do
    found=$(vigil events --component "$component" -n 200 --json | python3 -c '
import json, sys
kind, after, since = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for line in sys.stdin:
    if not line.strip():
        continue
    e = json.loads(line)
    if e["id"] <= after or e["kind"] != kind or (kind == "exited" and "failure" not in e):
        continue
    failure = " [" + e["failure"] + "]" if "failure" in e else ""
    print(e["id"], "    %+7.0f ms  %-12s %-17s%s %s" % ((e["mono_us"] - since) / 1000,
          e["component"], kind, failure, e["reason"][:160]))
    break' "$kind" "$after" "$since")
    if [[ -n "$found" ]]; then
      event_id=${found%% *}
      echo "${found#* }"
      return 0
    fi
    sleep 0.2
  done
  echo "scenario: no $kind of $component within ${5:-20} s" >&2
  exit 1
}

# inject COMPONENT SIGNAL WHAT: sends the signal; leaves the event id before it in $before and
# the time in $injected.
inject() {
  local pid
  pid=$(field_of "$1" pid)
  [[ -n "$pid" && "$pid" != 0 ]] || { echo "scenario: $1 has no pid" >&2; exit 1; }
  before=$(last_id)
  injected=$(now_us)
  kill "-$2" "$pid"
  echo "  $(date +%T) SIGUSR${2#USR} -> $1 (pid $pid): $3"
}

# Waits until the whole robot runs again (after a recovery, before the next failure).
settle() {
  local deadline=$((SECONDS + 30))
  until all_running; do
    ((SECONDS < deadline)) || { echo "scenario: the robot did not come back" >&2; exit 1; }
    sleep 0.2
  done
}

step() { echo; echo "== $*"; }

vigil status >/dev/null 2>&1 || { echo "scenario: vigild is not running: start examples/warehouse/run.sh" >&2; exit 1; }
control_socket=$(vigil status --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["daemon"]["state_dir"] + "/control.sock")')
settle
echo "the robot runs; controller: $(field_of controller status_text)"

step "1. node crash: the controller aborts"
inject controller USR1 "abort()"
await controller exited "$before" "$injected"
await controller ready "$event_id" "$injected"
settle

step "2. communication failure: odometry stops heartbeating (and runs on)"
inject odometry USR1 "heartbeats stop"
await odometry hang_detected "$before" "$injected"
hang=$event_id
echo "     rest_for_one: odometry and everything after it in navigation restart"
for node in odometry localization planner controller; do await "$node" ready "$hang" "$injected"; done
settle

step "3. sensor dropout: the lidar stops publishing /scan (its heartbeat goes on)"
lidar_pid=$(field_of lidar pid)
inject lidar USR1 "scans stop"
echo "     localization falls back to the camera; its STATUS: $(await_status localization stale 5)"
await lidar topic_stale "$before" "$injected"
stale=$event_id
if [[ "$(field_of lidar pid)" == "$lidar_pid" ]]; then
  # A monitor with `action: warn` leaves the lidar running: let it publish again.
  kill -USR2 "$lidar_pid"
  echo "  $(date +%T) SIGUSR2 -> lidar (pid $lidar_pid): scans again"
fi
await lidar ready "$stale" "$injected"
settle

step "4. navigation stuck: the planner's loop 'plan' stops turning (the process heartbeats on)"
inject planner USR1 "plan loop stuck"
await planner hang_detected "$before" "$injected"
hang=$event_id
for node in planner controller; do await "$node" ready "$hang" "$injected"; done
settle

step "5. resource exhaustion: localization leaks 20 MiB/s"
inject localization USR1 "memory leak"
await localization warning "$before" "$injected"
await localization resource_exceeded "$event_id" "$injected" 30
exceeded=$event_id
for node in localization planner controller; do await "$node" ready "$exceeded" "$injected"; done
settle

echo
echo "all five failures detected and repaired; the robot runs. The whole story:"
echo "  ${vigil_bin#"$repo"/} -c ${config#"$repo"/} report"
