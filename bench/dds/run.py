#!/usr/bin/env python3
"""What topic monitors cost vigild: 100 DDS topics at 100 Hz each (issue 5, target < 10 % of
one core).

`topic_flood` (one process, one participant) publishes TOPICS topics bench/topic_000.. at RATE
Hz each, reliable like ROS 2's default QoS, on a private domain over loopback. vigild's CPU time
(utime + stime from /proc, every thread: Cyclone's receive threads included) is measured over
PHASE seconds in three phases, each with a fresh vigild and a fresh publisher:

  (a) vigild with DDS on, COMPONENTS idle components (`sleep infinity`), no monitors, the
      flood running: vigild's participant discovers the 100 writers but reads nothing;
  (b) the same components, with TOPICS monitors shared among them (min_rate 90 % of RATE,
      stale_after 500ms, action warn): vigild reads every sample;
  (c) the flood alone (no vigild): what the publisher costs itself.

(b) - (a) is the cost of monitoring. After (b)'s measurement, every monitored topic's rate is
read from the HTTP API (GET /api/v1/components) several times; the run fails (exit 1) unless
every topic is within TOLERANCE of RATE and at level OK, and no topic went stale or warned.

  bench/dds/run.sh                  # PHASE=30 TOPICS=100 RATE=100 COMPONENTS=10
"""
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("VIGIL_BIN", os.path.join(ROOT, "build-bench", "bin"))
PHASE = float(os.environ.get("PHASE", "30"))
TOPICS = int(os.environ.get("TOPICS", "100"))
RATE = float(os.environ.get("RATE", "100"))
COMPONENTS = int(os.environ.get("COMPONENTS", "10"))
TOLERANCE = float(os.environ.get("TOLERANCE", "0.05"))  # of RATE
TARGET = float(os.environ.get("TARGET", "0.10"))  # of one core, for (b) - (a)
SETTLE = float(os.environ.get("SETTLE", "5"))  # after every topic has data, before measuring
DOMAIN = int(os.environ.get("DOMAIN", str(1 + os.getpid() % 200)))
TICK = os.sysconf("SC_CLK_TCK")

# Whatever this run started is stopped however it ends (a failed check exits mid-phase).
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


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def topic_name(i):
    return f"bench/topic_{i:03d}"


def config(state_dir, with_monitors):
    sleep = shutil.which("sleep")
    lines = [f"state_dir: {state_dir}", 'http: {listen: "127.0.0.1:0"}', f"dds: {{domain: {DOMAIN}}}",
             "root:", "  children:"]
    for c in range(COMPONENTS):
        lines += [f"    - name: idle{c:02d}", f"      command: [{sleep}, infinity]"]
        if not with_monitors:
            continue
        mine = [i for i in range(TOPICS) if i % COMPONENTS == c]
        if not mine:
            continue
        lines.append("      monitors:")
        for i in mine:
            lines.append(f"        - {{dds_topic: {topic_name(i)}, min_rate: {RATE * 0.9:g}Hz, "
                         "stale_after: 500ms, action: warn}")
    return "\n".join(lines) + "\n"


class Flood:
    """topic_flood for one phase; stop() returns its closing line."""

    def __init__(self, tmp, phase):
        self.out = open(os.path.join(tmp, f"flood-{phase}.out"), "w+")
        self.proc = subprocess.Popen(
            [f"{BIN}/topic_flood", "--topics", str(TOPICS), "--rate", f"{RATE:g}",
             "--domain", str(DOMAIN)], stdout=self.out, stderr=subprocess.DEVNULL)
        children.append(self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        self.out.seek(0)
        text = self.out.read().strip()
        if rc != 0:
            sys.exit(f"topic_flood exited {rc}: {text}")
        return text


class Vigild:
    def __init__(self, tmp, phase, with_monitors):
        d = os.path.join(tmp, phase)
        os.makedirs(d)
        state = os.path.join(d, "state")
        cfg = os.path.join(d, "robot.yaml")
        with open(cfg, "w") as f:
            f.write(config(state, with_monitors))
        self.log_path = os.path.join(d, "vigild.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([f"{BIN}/vigild", "-c", cfg], stdout=self.log,
                                     stderr=self.log)
        children.append(self.proc)
        url_file = os.path.join(state, "http.url")
        deadline = time.time() + 60
        while not os.path.exists(url_file):
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit(f"vigild did not start: see {self.log_path}")
            time.sleep(0.1)
        time.sleep(0.1)  # the file is written whole, but give the writer its close
        self.url = open(url_file).read().strip()

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.load(r)

    def topics(self):
        """Every monitored topic's node in the status tree."""
        out = []

        def walk(node):
            out.extend(node.get("topics") or [])
            for child in node.get("children") or []:
                walk(child)

        walk(self.get("/api/v1/components")["tree"])
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def measure(pids):
    """CPU over PHASE seconds for each pid (fraction of one core), and the wall time."""
    load0 = os.getloadavg()[0]
    t0, c0 = time.time(), [cpu_seconds(p) for p in pids]
    time.sleep(PHASE)
    c1, t1 = [cpu_seconds(p) for p in pids], time.time()
    return [(b - a) / (t1 - t0) for a, b in zip(c0, c1)], max(load0, os.getloadavg()[0])


def wait_for_all_topics(v):
    deadline = time.time() + 60
    while time.time() < deadline:
        topics = v.topics()
        if len(topics) == TOPICS and all(t.get("messages", 0) > 0 for t in topics):
            return
        time.sleep(0.5)
    sys.exit(f"not every topic has data after 60 s: {json.dumps(v.topics())[:2000]}")


def pct(x):
    return f"{x * 100:6.2f} %"


def main():
    for exe in ("vigild", "topic_flood"):
        if not os.access(f"{BIN}/{exe}", os.X_OK):
            sys.exit(f"{BIN}/{exe} is missing: build it (bench/dds/run.sh does)")
    tmp = tempfile.mkdtemp(prefix="vigil-bench-dds-")
    print(f"{TOPICS} topics at {RATE:g} Hz, {COMPONENTS} idle components, {PHASE:.0f} s per "
          f"phase, domain {DOMAIN}, files in {tmp}", flush=True)
    results = {}

    # (a) DDS on, nothing monitored.
    flood = Flood(tmp, "a")
    v = Vigild(tmp, "a", with_monitors=False)
    try:
        time.sleep(SETTLE * 2)  # discovery of the flood's writers, components started
        (cpu_a, flood_a), load_a = measure([v.proc.pid, flood.proc.pid])
        rss_a = rss_mib(v.proc.pid)
    finally:
        v.stop()
    flood_out_a = flood.stop()
    print(f"(a) no monitors:   vigild {pct(cpu_a)} of one core, RSS {rss_a:.1f} MiB "
          f"(publisher {pct(flood_a)}; load {load_a:.2f})", flush=True)

    # (b) the same, every topic monitored.
    flood = Flood(tmp, "b")
    v = Vigild(tmp, "b", with_monitors=True)
    try:
        wait_for_all_topics(v)
        time.sleep(SETTLE)
        first_event = v.get("/api/v1/events?limit=1")["events"]
        after = first_event[-1]["id"] if first_event else 0
        (cpu_b, flood_b), load_b = measure([v.proc.pid, flood.proc.pid])
        rss_b = rss_mib(v.proc.pid)
        # The rates, read after the measurement (reading costs vigild CPU): per topic the median
        # of seven readings half a second apart, so one stall of a shared machine does not decide.
        readings = {}
        levels = {}
        for _ in range(7):
            for t in v.topics():
                readings.setdefault(t["dds_topic"], []).append(t.get("rate_hz", 0.0))
                levels[t["dds_topic"]] = t.get("level")
            time.sleep(0.5)
        events = v.get(f"/api/v1/events?after={after}&limit=10000")["events"]
    finally:
        v.stop()
    flood_out_b = flood.stop()
    rates = {topic: statistics.median(r) for topic, r in readings.items()}
    ok = sum(1 for level in levels.values() if level == "OK")
    stale = [e for e in events if e.get("kind") == "topic_stale"]
    warnings = [e for e in events
                if e.get("kind") == "warning"
                and str((e.get("detail") or {}).get("source", "")).startswith("topic:")]
    print(f"(b) {TOPICS} monitors:  vigild {pct(cpu_b)} of one core, RSS {rss_b:.1f} MiB "
          f"(publisher {pct(flood_b)}; load {load_b:.2f})", flush=True)

    # (c) the publisher alone.
    flood = Flood(tmp, "c")
    time.sleep(SETTLE)
    (flood_c,), load_c = measure([flood.proc.pid])
    flood_out_c = flood.stop()
    print(f"(c) publisher alone: {pct(flood_c)} of one core (load {load_c:.2f})", flush=True)

    cost = cpu_b - cpu_a
    values = sorted(rates.values())
    near = [r for r in values if abs(r - RATE) <= RATE * TOLERANCE]
    print()
    print(f"cost of monitoring {TOPICS} topics at {RATE:g} Hz: {pct(cost)} of one core "
          f"(target < {TARGET * 100:g} %); vigild RSS +{rss_b - rss_a:.1f} MiB")
    if values:
        print(f"rates: min {values[0]:.2f}  median {statistics.median(values):.2f}  "
              f"max {values[-1]:.2f} Hz over {len(values)} topics; {len(near)} within "
              f"{TOLERANCE * 100:g} % of {RATE:g} Hz; {ok} at level OK")
    print(f"during (b): {len(stale)} topic_stale events, {len(warnings)} topic warnings")
    for line in (flood_out_a, flood_out_b, flood_out_c):
        print(f"  {line}")
    results = {"topics": TOPICS, "rate_hz": RATE, "components": COMPONENTS, "phase_s": PHASE,
               "vigild_cpu_no_monitors": cpu_a, "vigild_cpu_monitors": cpu_b,
               "monitoring_cost": cost, "vigild_rss_mib_no_monitors": rss_a,
               "vigild_rss_mib_monitors": rss_b, "publisher_cpu": [flood_a, flood_b, flood_c],
               "load": [load_a, load_b, load_c], "rates": rates, "ok": ok,
               "stale_events": len(stale), "warning_events": len(warnings)}
    with open(os.path.join(tmp, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    failures = []
    if len(values) != TOPICS:
        failures.append(f"{len(values)} of {TOPICS} topics reported")
    if len(near) != len(values):
        off = {t: r for t, r in rates.items() if abs(r - RATE) > RATE * TOLERANCE}
        failures.append(f"{len(off)} topics not within {TOLERANCE * 100:g} % of {RATE:g} Hz: "
                        f"{dict(list(off.items())[:10])}")
    if ok != TOPICS:
        failures.append(f"{TOPICS - ok} topics not at level OK: "
                        f"{[t for t, l in levels.items() if l != 'OK'][:10]}")
    if stale or warnings:
        failures.append(f"{len(stale)} stale and {len(warnings)} warning events during (b): "
                        f"{[e.get('reason') for e in (stale + warnings)[:5]]}")
    if cost >= TARGET:
        failures.append(f"monitoring costs {cost * 100:.2f} % of one core (target < "
                        f"{TARGET * 100:g} %)")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
