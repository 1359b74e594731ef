#!/usr/bin/env python3
"""Detector quality under load (benchmark, not a test).

vigild supervises N components heartbeating at 10 Hz with the phi-accrual detector
(threshold 8, vigild's defaults otherwise) while stress-ng saturates both cores (4 CPU hogs for 2 cores) and the disk (2 writers).
Every component records when it sent each heartbeat. Then:
  1. false hangs: hang_detected events from vigild during the stress phase (should be 0);
  2. real hangs: K components are frozen with SIGSTOP (still under stress) and the time from
     SIGSTOP to vigild's hang_detected is measured (target: < 1 s at 10 Hz);
  3. the recorded traces are replayed through the same detector code for fixed timeouts and
     phi thresholds (build/bin/detector_analyze): T_D, T_MR, T_M (Chen, Toueg, Aguilera).
Environment: N (200), DURATION seconds (540: 200 x 10 Hz x 540 s = 1,080,000 heartbeats),
HANGS (10), VIGIL_BIN (build/bin). The default 540 s gives more than 1,000,000 recorded
heartbeats even though the frozen components' traces are lost.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("VIGIL_BIN", os.path.join(ROOT, "build", "bin"))
BEAT = os.path.join(ROOT, "build", "bench", "beat")
N = int(os.environ.get("N", "200"))
DURATION = int(os.environ.get("DURATION", "540"))
HANGS = int(os.environ.get("HANGS", "10"))


def control(state_dir, request):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(state_dir, "control.sock"))
    s.sendall((json.dumps(request) + "\n").encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(1 << 22)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def components(state_dir):
    return {c["name"]: c for c in control(state_dir, {"cmd": "status"})["tree"]["children"]}


def main():
    work = tempfile.mkdtemp(prefix="vigil-detector-")
    state = os.path.join(work, "state")
    traces = os.path.join(work, "traces")
    os.makedirs(traces)
    lines = [f"state_dir: {state}", "root:", "  intensity: {restarts: 1000, within: 1s}",
             "  children:"]
    for i in range(N):
        lines += [f"    - name: c{i}",
                  f"      command: [{BEAT}, \"100\", \"{traces}/c{i}.trace\"]",
                  "      ready: notify",
                  "      watchdog: {detector: phi, threshold: 8, expected_interval: 100ms, "
                  "stack_budget: 5s}",
                  "      backoff: {initial: 100ms, jitter: 0}"]
    cfg = os.path.join(work, "robot.yaml")
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    vigild = subprocess.Popen([os.path.join(BIN, "vigild"), "-c", cfg, "--log-level", "warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if sum(c["state"] == "running" for c in components(state).values()) == N:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("components did not all become ready")
            time.sleep(0.2)
        print(f"{N} components at 10 Hz under stress-ng --cpu 4 --hdd 2 for {DURATION} s "
              f"(~{N * 10 * DURATION:,} heartbeats)", flush=True)
        stress = subprocess.Popen(["stress-ng", "--cpu", "4", "--hdd", "2", "--temp-path", work,
                                   "--timeout", f"{DURATION + 60}s", "--quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(DURATION)
        beats_seen = sum(c["heartbeats"] for c in components(state).values())
        events = control(state, {"cmd": "events", "limit": 100000})["events"]
        false_hangs = [e for e in events if e["kind"] == "hang_detected"]
        # Real hangs, still under stress.
        rng = random.Random(1)
        targets = rng.sample(sorted(components(state)), HANGS)
        latencies = []
        for name in targets:
            node = components(state)[name]
            stop_mono_us = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            os.kill(node["pid"], signal.SIGSTOP)
            found = None
            until = time.monotonic() + 15
            while found is None and time.monotonic() < until:
                time.sleep(0.05)
                for e in control(state, {"cmd": "events", "component": name, "limit": 20})["events"]:
                    if e["kind"] == "hang_detected" and e["mono_us"] >= stop_mono_us:
                        found = e
            latencies.append(None if found is None else (found["mono_us"] - stop_mono_us) / 1000.0)
        stress.send_signal(signal.SIGINT)
        stress.wait()
    finally:
        vigild.send_signal(signal.SIGTERM)
        vigild.wait(timeout=120)
    detected = [l for l in latencies if l is not None]
    print(f"\nheartbeats vigild received during the stress phase: {beats_seen:,}")
    print(f"false hangs at phi 8 during the stress phase: {len(false_hangs)}")
    for e in false_hangs[:10]:
        print("   ", e["component"], e["reason"])
    print(f"real hangs (SIGSTOP) detected: {len(detected)}/{len(latencies)}; SIGSTOP -> "
          f"hang_detected ms: " + ", ".join(f"{l:.0f}" for l in sorted(detected)))
    files = [os.path.join(traces, f) for f in sorted(os.listdir(traces))]
    print("\ntrace replay (the detector code vigild runs):", flush=True)
    subprocess.run([os.path.join(BIN, "detector_analyze"), "--json",
                    os.path.join(work, "quality.json")] + files, check=True)
    with open(os.path.join(work, "quality.json")) as f:
        quality = json.load(f)
    result = {"n": N, "duration_s": DURATION, "false_hangs": len(false_hangs),
              "heartbeats_received": beats_seen,
              "real_hang_latency_ms": latencies, "quality": quality,
              "date": time.strftime("%Y-%m-%d"), "machine": os.uname().nodename}
    with open(os.path.join(ROOT, "bench", "detector", "last-run.json"), "w") as f:
        json.dump(result, f, indent=2)
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
