#!/usr/bin/env python3
"""What watching vigild costs it: 50 dashboards on the event stream and a Prometheus scrape
every second, against a vigild supervising 100 components (heartbeats every 200 ms, one
component crashing every 5 s so events flow).

vigild's CPU time (utime + stime from /proc) is measured over PHASE seconds twice in the same
run: once with nobody watching, once with 50 SSE clients reading and /metrics scraped each
second. The difference is what the HTTP side costs. Target (issue 4): under 2 % of one core.

  bench/http/run.sh                 # PHASE=60 by default
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VIGIL_BIN", os.path.join(ROOT, "build", "bin"))
PHASE = float(os.environ.get("PHASE", "60"))
COMPONENTS = int(os.environ.get("COMPONENTS", "100"))
CLIENTS = int(os.environ.get("CLIENTS", "50"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def config(state_dir):
    lines = [f"state_dir: {state_dir}", 'http: {listen: "127.0.0.1:0"}', "root:",
             "  intensity: {restarts: 1000, within: 10s}", "  children:"]
    for i in range(COMPONENTS):
        args = [f"{BIN}/robot_sim", "--heartbeat", "200ms"]
        if i == 0:
            args += ["--crash-after", "5s"]
        lines += [f"    - name: c{i:03d}",
                  f"      command: [{', '.join(args)}]",
                  "      ready: notify",
                  "      watchdog: {timeout: 2s}",
                  "      backoff: {initial: 10ms, jitter: 0}"]
    return "\n".join(lines) + "\n"


class SseClient(threading.Thread):
    def __init__(self, host, port, stop):
        super().__init__(daemon=True)
        self.host, self.port, self.stop, self.frames, self.bytes = host, port, stop, 0, 0

    def run(self):
        s = socket.create_connection((self.host, self.port))
        s.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(0.5)
        while not self.stop.is_set():
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            self.bytes += len(data)
            self.frames += data.count(b"\n\n")
        s.close()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-bench-http-")
    state = os.path.join(tmp, "state")
    cfg = os.path.join(tmp, "robot.yaml")
    with open(cfg, "w") as f:
        f.write(config(state))
    log = open(os.path.join(tmp, "vigild.log"), "w")
    vigild = subprocess.Popen([f"{BIN}/vigild", "-c", cfg], stdout=log, stderr=log)
    try:
        url_file = os.path.join(state, "http.url")
        deadline = time.time() + 60
        while not os.path.exists(url_file) and time.time() < deadline:
            time.sleep(0.1)
        url = open(url_file).read().strip()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        port = int(port)
        # Let every component start and the first samples settle.
        time.sleep(10)

        t0, c0 = time.time(), cpu_seconds(vigild.pid)
        time.sleep(PHASE)
        idle = (cpu_seconds(vigild.pid) - c0) / (time.time() - t0)

        stop = threading.Event()
        clients = [SseClient(host, port, stop) for _ in range(CLIENTS)]
        for c in clients:
            c.start()
        time.sleep(2)
        scrapes, scrape_bytes = 0, 0
        t0, c0 = time.time(), cpu_seconds(vigild.pid)
        next_scrape = t0
        while time.time() - t0 < PHASE:
            with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
                scrape_bytes = len(r.read())
            scrapes += 1
            next_scrape += 1.0
            time.sleep(max(0.0, next_scrape - time.time()))
        watched = (cpu_seconds(vigild.pid) - c0) / (time.time() - t0)
        status = json.load(urllib.request.urlopen(url + "/api/v1/components", timeout=5))
        stop.set()
        frames = sum(c.frames for c in clients)
        streams = status["daemon"]["http"]["streams"]
        print(f"vigild supervising {COMPONENTS} components, {PHASE:.0f} s per phase")
        print(f"  nobody watching:             {idle * 100:6.2f} % of one core")
        print(f"  {CLIENTS} SSE clients + 1 scrape/s: {watched * 100:6.2f} % of one core "
              f"({streams} streams open, {frames} frames received, {scrapes} scrapes of "
              f"{scrape_bytes / 1024:.0f} KiB)")
        print(f"  cost of watching:            {(watched - idle) * 100:6.2f} % of one core "
              f"(target < 2 %)")
        return 0 if watched - idle < 0.02 else 1
    finally:
        vigild.send_signal(signal.SIGTERM)
        vigild.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
