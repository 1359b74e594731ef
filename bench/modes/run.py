#!/usr/bin/env python3
"""Sensor dropout -> a component receives the degraded mode (issue 6: target < stale_after +
200 ms).

vigild supervises one component, `lidar`, which is `dropout_probe`: it publishes /scan (DDS
topic rt/scan) at 20 Hz and listens to vigild's mode over DDS (vigil::ModeListener). vigild
watches /scan with a topic monitor (`stale_after: STALE_AFTER_MS`, `action: warn`: the level goes
WARN, nothing restarts) and has two modes, nominal and `degraded: {when: "lidar != ok"}`. Each
of TRIALS trials: the probe publishes until the mode is nominal, 3 s more, then stops; it times
from right after its last write to the on_change callback that delivers "degraded" (one
process, one CLOCK_MONOTONIC). The probe then exits; this script reads its JSON summary from
the component's log, prints it, and exits 1 if any trial timed out.

  bench/modes/run.sh                 # TRIALS=20 STALE_AFTER_MS=500
"""
import atexit
import glob
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VIGIL_BIN", os.path.join(ROOT, "build-bench-modes", "bin"))
TRIALS = int(os.environ.get("TRIALS", "20"))
STALE_AFTER_MS = int(os.environ.get("STALE_AFTER_MS", "500"))
TARGET_MS = float(os.environ.get("TARGET_MS", "200"))  # beyond stale_after
DOMAIN = int(os.environ.get("DOMAIN", str(1 + os.getpid() % 200)))

children = []


@atexit.register
def stop_children():
    for proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def config(state_dir):
    # restart: temporary: the probe exits 0 after its trials and stays stopped.
    return f"""state_dir: {state_dir}
http: {{listen: "127.0.0.1:0"}}
dds: {{domain: {DOMAIN}}}
modes:
  nominal: {{}}
  degraded: {{when: "lidar != ok", exit_after: 200ms, dwell: 200ms}}
root:
  children:
    - name: lidar
      command: [{BIN}/dropout_probe, --trials, "{TRIALS}", --stale-after-ms, "{STALE_AFTER_MS}"]
      env: {{ROS_DOMAIN_ID: "{DOMAIN}"}}
      restart: temporary
      ready: notify
      start_timeout: 10s
      grace: 1s
      monitors: [{{topic: /scan, stale_after: {STALE_AFTER_MS}ms, action: warn}}]
"""


def probe_output(state_dir):
    """The probe's captured output (stdout and stderr), or '' before it has any."""
    text = ""
    for path in sorted(glob.glob(os.path.join(state_dir, "logs", "lidar*"))):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def summary_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith('{"trials"'):
            return json.loads(line)
    return None


def lidar_state(cfg):
    out = subprocess.run([f"{BIN}/vigil", "-c", cfg, "status", "--json"], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        return None

    def find(node):
        if node.get("name") == "lidar":
            return node
        for child in node.get("children") or []:
            hit = find(child)
            if hit:
                return hit
        return None

    try:
        data = json.loads(out.stdout)
        node = find(data.get("tree", data))
        return node.get("state") if node else None
    except (ValueError, AttributeError):
        return None


def breakdown(state_dir, stamps):
    """Splits each trial at vigild's events (stamped on the same CLOCK_MONOTONIC): T0 ->
    topic_stale (detection), -> mode_changed to degraded (the mode rule), -> T1 (DDS delivery to
    the component). Milliseconds, as {part: {p50, max}}; None when the events are missing."""
    db = sqlite3.connect(f"file:{state_dir}/events.db?mode=ro", uri=True)
    stale = [r[0] for r in db.execute(
        "SELECT mono_us FROM events WHERE component = 'lidar' AND kind = 'topic_stale' "
        "ORDER BY id")]
    modes = [r[0] for r in db.execute(
        "SELECT mono_us FROM events WHERE component = 'system' AND kind = 'mode_changed' AND "
        "reason LIKE '% -> degraded%' ORDER BY id")]
    db.close()
    parts = {"detection": [], "mode_rule": [], "delivery": []}
    for t0, t1 in stamps:
        s = next((m for m in stale if t0 < m <= t1), None)
        m = next((m for m in modes if t0 < m <= t1), None)
        if s is None or m is None:
            return None
        parts["detection"].append((s - t0) / 1000)
        parts["mode_rule"].append((m - s) / 1000)
        parts["delivery"].append((t1 - m) / 1000)

    def p50_max(values):
        values = sorted(values)
        return {"p50": round(values[(len(values) - 1) // 2], 2), "max": round(values[-1], 2)}

    return {k: p50_max(v) for k, v in parts.items()} if stamps else None


def main():
    for exe in ("vigild", "vigil", "dropout_probe"):
        if not os.access(f"{BIN}/{exe}", os.X_OK):
            sys.exit(f"{BIN}/{exe} is missing: build it (bench/modes/run.sh does)")
    tmp = tempfile.mkdtemp(prefix="vigil-bench-modes-")
    state = os.path.join(tmp, "state")
    cfg = os.path.join(tmp, "robot.yaml")
    with open(cfg, "w") as f:
        f.write(config(state))
    print(f"{TRIALS} trials, stale_after {STALE_AFTER_MS} ms, domain {DOMAIN}, files in {tmp}",
          flush=True)
    log_path = os.path.join(tmp, "vigild.log")
    with open(log_path, "w") as log:
        vigild = subprocess.Popen([f"{BIN}/vigild", "-c", cfg], stdout=log, stderr=log)
    children.append(vigild)

    # Each trial: ~1 s back to nominal, 3 s of publishing, stale_after + detection.
    deadline = time.time() + 60 + TRIALS * (10 + STALE_AFTER_MS / 1000)
    started = time.time()
    summary = None
    shown = 0
    while time.time() < deadline:
        if vigild.poll() is not None:
            sys.exit(f"vigild exited {vigild.returncode}: see {log_path}")
        text = probe_output(state)
        lines = text.splitlines()
        for line in lines[shown:]:
            if line.startswith("trial ") or line.startswith("dropout_probe:"):
                print(line, flush=True)
        shown = len(lines)
        summary = summary_line(text)
        if summary is not None:
            break
        if time.time() - started > 10 and lidar_state(cfg) in ("stopped", "failed", "given_up"):
            time.sleep(1)  # the log may trail the exit
            summary = summary_line(probe_output(state))
            if summary is None:
                sys.exit(f"the probe ended without a summary: see {state}/logs and {log_path}")
            break
        time.sleep(1)
    if summary is None:
        sys.exit(f"no summary from the probe within the deadline: see {state}/logs")

    summary["breakdown_ms"] = breakdown(state, summary.get("t0_t1_mono_us") or [])
    summary["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(summary), flush=True)
    beyond = summary["beyond_stale_after_ms"]
    if beyond:
        print(f"dropout -> degraded mode at the component: p50 {summary['latency_ms']['p50']:.1f} "
              f"ms, p95 {summary['latency_ms']['p95']:.1f} ms, max "
              f"{summary['latency_ms']['max']:.1f} ms; beyond stale_after p50 {beyond['p50']:.1f}"
              f" / p95 {beyond['p95']:.1f} / max {beyond['max']:.1f} ms (target < {TARGET_MS:g})"
              f"; {summary['measured']}/{summary['trials']} trials, load average "
              f"{os.getloadavg()[0]:.2f}", flush=True)
    if summary["timed_out"]:
        sys.exit(f"{summary['timed_out']} trial(s) timed out")
    if beyond and beyond["max"] >= TARGET_MS:
        print(f"target missed: max {beyond['max']:.1f} ms beyond stale_after", flush=True)


if __name__ == "__main__":
    main()
