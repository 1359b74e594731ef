#!/usr/bin/env python3
"""vigil side by side with runit, s6, supervisord and a bare fork/exec respawner.

Measures, in one run on one machine:
  1. crash -> restart latency: SIGKILL of a settled process (up > 1 s, so runit's and s6's
     1-second restart throttle does not apply) to the new process's first report from main()
     of a static binary;
  2. hang detection latency beyond the configured watchdog timeout (vigil only: none of the
     peers detects a hang);
  3. supervisor CPU and memory: idle with 100 components, and vigild with 1, 100 and 1,000
     components heartbeating at 10 Hz;
  4. time to start 100 components.
Prints a table with ratios against vigil and writes bench/last-run.json.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("VIGIL_BIN", os.path.join(ROOT, "build", "bin"))
BBIN = os.path.join(ROOT, "build", "bench")
TARGET = os.path.join(BBIN, "target")
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "30"))
SETTLE = 1.1


def percentile(values, p):
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Reports:
    """The datagram socket the target reports to: 'start PID NS' and 'hang PID NS'."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)

    def next(self, kind="start", timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no '{kind}' report within {timeout}s")
            self.sock.settimeout(left)
            fields = self.sock.recv(256).decode().split()
            if fields[0] == kind:
                return int(fields[1]), int(fields[2])

    def drain(self):
        self.sock.setblocking(False)
        try:
            while True:
                self.sock.recv(256)
        except BlockingIOError:
            pass
        self.sock.setblocking(True)


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def cpu_ns(pids):
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def memory_kib(pids):
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


class Tool:
    """One supervisor under test, supervising n copies of the target."""

    name = "?"

    def __init__(self, workdir, reports):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.reports = reports
        self.proc = None
        self.env = dict(os.environ, BENCH_SOCKET=reports.path)

    def start(self, n, mode="sleep"):
        raise NotImplementedError

    def supervisor_pids(self):
        return [self.proc.pid]

    def stop(self):
        if self.proc is None:
            return
        pids = self.supervisor_pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        subprocess.run(["pkill", "-KILL", "-f", TARGET], check=False)
        self.proc = None


class Vigil(Tool):
    name = "vigil"

    def start(self, n, mode="sleep", watchdog=None):
        lines = [f"state_dir: {self.dir}/state", "root:",
                 "  intensity: {restarts: 1000000, within: 1s}", "  children:"]
        for i in range(n):
            lines += [f"    - name: t{i}",
                      f"      command: [{TARGET}, {mode}" + (", \"300\"]" if mode == "hang" else "]"),
                      "      ready: notify",
                      "      backoff: {initial: 0ms, max: 0ms, jitter: 0}"]
            if watchdog:
                lines.append(f"      watchdog: {{timeout: {watchdog}, signal: SIGKILL}}")
        cfg = os.path.join(self.dir, "robot.yaml")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        shutil.rmtree(os.path.join(self.dir, "state"), ignore_errors=True)
        self.proc = subprocess.Popen([os.path.join(BIN, "vigild"), "-c", cfg, "--log-level", "warn"],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def control(self, request):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = os.path.join(self.dir, "state", "control.sock")
        for _ in range(200):
            try:
                s.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        s.sendall((json.dumps(request) + "\n").encode())
        return s


class Floor(Tool):
    """The least any supervisor can do: respawn with fork+exec+wait; start with posix_spawn."""

    name = "fork+exec"

    def start(self, n, mode="sleep"):
        if n == 1:
            self.proc = subprocess.Popen([os.path.join(BBIN, "respawn"), TARGET, mode], env=self.env)
        else:
            self.proc = subprocess.Popen([os.path.join(BBIN, "spawn_many"), str(n), TARGET, mode],
                                         env=self.env)


class Runit(Tool):
    name = "runit"

    def start(self, n, mode="sleep"):
        shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        for i in range(n):
            d = os.path.join(self.dir, f"t{i}")
            os.makedirs(d)
            os.symlink(TARGET, os.path.join(d, "run"))  # no shell in between
        if n == 1:
            self.proc = subprocess.Popen(["runsv", os.path.join(self.dir, "t0")], env=self.env)
        else:
            self.proc = subprocess.Popen(["runsvdir", self.dir], env=self.env)

    def supervisor_pids(self):
        return [self.proc.pid] + children_of(self.proc.pid)


class S6(Tool):
    name = "s6"

    def start(self, n, mode="sleep"):
        shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        for i in range(n):
            d = os.path.join(self.dir, f"t{i}")
            os.makedirs(d)
            os.symlink(TARGET, os.path.join(d, "run"))
            with open(os.path.join(d, "notification-fd"), "w") as f:
                f.write("3\n")
        env = dict(self.env, S6_READY="1")
        if n == 1:
            self.proc = subprocess.Popen(["s6-supervise", os.path.join(self.dir, "t0")], env=env)
        else:
            self.proc = subprocess.Popen(["s6-svscan", self.dir], env=env)

    def supervisor_pids(self):
        return [self.proc.pid] + [p for p in children_of(self.proc.pid)]


class Supervisord(Tool):
    name = "supervisord"

    def start(self, n, mode="sleep"):
        conf = os.path.join(self.dir, "supervisord.conf")
        with open(conf, "w") as f:
            f.write(f"[supervisord]\nnodaemon=true\nlogfile={self.dir}/supervisord.log\n"
                    f"pidfile={self.dir}/supervisord.pid\n\n")
            for i in range(n):
                f.write(f"[program:t{i}]\ncommand={TARGET} {mode}\nautorestart=true\nstartsecs=0\n"
                        "startretries=1000000\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n")
        self.proc = subprocess.Popen(["supervisord", "-c", conf], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def restart_latency(tool):
    tool.reports.drain()
    tool.start(1)
    pid, _ = tool.reports.next(timeout=15)
    samples = []
    for _ in range(SAMPLES):
        time.sleep(SETTLE)
        t0 = time.monotonic_ns()
        os.kill(pid, signal.SIGKILL)
        pid, t1 = tool.reports.next(timeout=15)
        samples.append((t1 - t0) / 1e6)
    tool.stop()
    return samples


def start_time(tool, n=100):
    tool.reports.drain()
    t0 = time.monotonic_ns()
    tool.start(n)
    seen = set()
    last = t0
    while len(seen) < n:
        pid, t = tool.reports.next(timeout=30)
        seen.add(pid)
        last = max(last, t)
    elapsed = (last - t0) / 1e6
    return elapsed


def resources(tool, window):
    pids = tool.supervisor_pids()
    c0 = cpu_ns(pids)
    time.sleep(window)
    c1 = cpu_ns(pids)
    rss, pss = memory_kib(pids)
    return {"cpu_percent": (c1 - c0) / (window * 1e9) * 100.0, "rss_mib": rss / 1024.0,
            "pss_mib": pss / 1024.0}


def wait_ready(vigil, n, timeout=120):
    """Waits until vigild reports n components running (via the control socket)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = vigil.control({"cmd": "status"})
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        s.close()
        tree = json.loads(data)["tree"]
        running = sum(1 for c in tree["children"] if c.get("state") == "running")
        if running >= n:
            return
        time.sleep(0.2)
    raise TimeoutError(f"only some of {n} components became ready")


def hang_latency(vigil, timeout_ms=200):
    vigil.reports.drain()
    vigil.start(1, mode="hang", watchdog=f"{timeout_ms}ms")
    stream = vigil.control({"cmd": "events", "follow": True, "limit": 0})
    stream_file = stream.makefile("r")
    samples = []
    while len(samples) < SAMPLES:
        pid, last_beat_ns = vigil.reports.next("hang", timeout=15)
        while True:
            msg = json.loads(stream_file.readline())
            e = msg.get("event")
            if e and e["kind"] == "hang_detected" and e["detail"]["pid"] == pid:
                break
        deadline_ns = last_beat_ns + timeout_ms * 1_000_000
        samples.append((e["mono_us"] * 1000 - deadline_ns) / 1e6)
    stream.close()
    vigil.stop()
    return samples


def main():
    for prog in ("runsv", "runsvdir", "s6-supervise", "s6-svscan", "supervisord"):
        if shutil.which(prog) is None:
            sys.exit(f"bench: {prog} is missing; run scripts/setup-deps.sh --bench")
    work = tempfile.mkdtemp(prefix="vigil-bench-")
    reports = Reports(os.path.join(work, "reports.sock"))
    results = {"machine": os.uname().nodename, "kernel": os.uname().release,
               "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"), "samples": SAMPLES}
    tools = [Vigil(work, reports), Floor(work, reports), Runit(work, reports), S6(work, reports),
             Supervisord(work, reports)]
    try:
        print(f"crash -> restart latency ({SAMPLES} settled kills each)", flush=True)
        results["restart_ms"] = {}
        for t in tools:
            s = restart_latency(t)
            results["restart_ms"][t.name] = {"p50": percentile(s, 50), "p99": percentile(s, 99),
                                             "max": max(s)}
            print(f"  {t.name:<12} p50 {percentile(s, 50):8.2f} ms  p99 {percentile(s, 99):8.2f} ms",
                  flush=True)

        print("hang detection beyond a 200 ms watchdog (vigil)", flush=True)
        h = hang_latency(Vigil(work, reports))
        results["hang_late_ms"] = {"p50": percentile(h, 50), "p99": percentile(h, 99), "max": max(h)}
        print(f"  vigil        p50 {percentile(h, 50):8.2f} ms  p99 {percentile(h, 99):8.2f} ms late",
              flush=True)

        print("time to start 100 components", flush=True)
        results["start100_ms"] = {}
        for t in tools:
            ms = start_time(t)
            results["start100_ms"][t.name] = ms
            if t.name == "vigil":
                wait_ready(t, 100)
            print(f"  {t.name:<12} {ms:8.1f} ms", flush=True)
            if t.name == "fork+exec":
                t.stop()
                continue
            if t.name == "vigil":
                r = resources(t, 20)
                results["idle100"] = {"vigil": r}
            else:
                time.sleep(2)
                results["idle100"][t.name] = resources(t, 20)
            r = results["idle100"][t.name]
            print(f"  {t.name:<12} idle: {r['cpu_percent']:.4f} % CPU, RSS {r['rss_mib']:.1f} MiB, "
                  f"PSS {r['pss_mib']:.1f} MiB", flush=True)
            t.stop()

        print("vigild with N components heartbeating at 10 Hz", flush=True)
        results["heartbeat"] = {}
        for n in (1, 100, 1000):
            v = Vigil(work, reports)
            v.start(n, mode="heartbeat", watchdog="1s")
            wait_ready(v, n, timeout=300)
            time.sleep(2)
            r = resources(v, 10)
            results["heartbeat"][n] = r
            print(f"  {n:>5}: {r['cpu_percent']:.3f} % CPU, RSS {r['rss_mib']:.1f} MiB, "
                  f"PSS {r['pss_mib']:.1f} MiB", flush=True)
            v.stop()
    finally:
        for t in tools:
            t.stop()
        subprocess.run(["pkill", "-KILL", "-f", TARGET], check=False)
        shutil.rmtree(work, ignore_errors=True)

    print("\nratios (peer / vigil; > 1 means vigil is better)")
    base = results["restart_ms"]["vigil"]
    for name, r in results["restart_ms"].items():
        print(f"  restart p50 {name:<12} {r['p50'] / base['p50']:7.2f}x")
    for name, ms in results["start100_ms"].items():
        print(f"  start 100   {name:<12} {ms / results['start100_ms']['vigil']:7.2f}x")
    with open(os.path.join(ROOT, "bench", "last-run.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
