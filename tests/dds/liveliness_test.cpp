// A component that beats over DDS is watched by Cyclone's liveliness leases too: when its
// heartbeat writer dies (kill -9 of the process that writes, while the component's main process
// lives on), vigild learns it from the lease expiring, within the lease and well before its own
// watchdog timeout.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "integration/harness.hpp"
#include "process/proc_stat.hpp"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

// The child of `parent` whose command name is `comm`, or 0.
pid_t child_named(pid_t parent, const std::string& comm) {
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return 0;
  pid_t found = 0;
  while (dirent* e = ::readdir(dir)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    auto st = process::read_proc_stat(pid);
    if (!st || st->ppid != parent) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(in, name);
    if (name == comm) found = pid;
  }
  ::closedir(dir);
  return found;
}

std::int64_t mono_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST(DdsLiveliness, AKilledHeartbeatWriterIsDetectedWithinItsLeasePlus50ms) {
  use_loopback_dds();
  const int domain = private_domain();
  // The main process lives on (sleep); only the writer dies, so nothing but the lease says so.
  // The watchdog timeout (5 s) is ten times the lease: a detection within the lease is
  // liveliness's.
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) +
           R"(}
root:
  children:
    - name: beater
      command: [/bin/sh, -c, "@BIN@/dds_heartbeat --name beater --lease 500ms --period 100ms & exec sleep 3600"]
      env: {ROS_DOMAIN_ID: ")" +
           std::to_string(domain) + R"("}
      watchdog: {timeout: 5s, stacks: false}
      stop: {timeout: 1s}
)");
  v.start();
  v.wait_for("beater", "ready");
  ASSERT_TRUE(
      v.poll_until([&] { return v.status()["daemon"]["dds"].value("heartbeats", 0) >= 5; }, 20s))
      << v.status()["daemon"].dump();
  const pid_t main_pid = v.component("beater")["pid"];
  const pid_t writer = child_named(main_pid, "dds_heartbeat");
  ASSERT_GT(writer, 0) << "no dds_heartbeat child of " << main_pid;

  const std::int64_t killed_us = mono_us();
  ASSERT_EQ(::kill(writer, SIGKILL), 0);
  auto hang = v.wait_for("beater", "hang_detected", 10s);
  const double latency_ms =
      static_cast<double>(hang.value("mono_us", std::int64_t{0}) - killed_us) / 1000.0;
  RecordProperty("liveliness_detection_ms", std::to_string(latency_ms));
  std::printf("liveliness loss detected %.1f ms after kill -9 (lease 500 ms)\n", latency_ms);
  // The last beat came at most one period (100 ms) before the kill.
  EXPECT_GE(latency_ms, 500.0 - 110.0) << hang.dump();
  EXPECT_LE(latency_ms, 500.0 + 50.0) << hang.dump();
  EXPECT_NE(hang.value("reason", "").find("DDS liveliness lost"), std::string::npos) << hang.dump();
  EXPECT_EQ(hang["detail"].value("source", ""), "dds_liveliness") << hang.dump();
  EXPECT_EQ(hang["detail"].value("writer_pid", 0), writer) << hang.dump();
  EXPECT_EQ(hang.value("failure", ""), "hang");
  // The recovery policy applies as to any hang: the component is restarted.
  v.wait_for("beater", "spawned", 10s, hang["id"]);
  EXPECT_EQ(v.status()["daemon"]["dds"].value("liveliness_lost", 0), 1);
}

TEST(DdsLiveliness, AWriterThatStopsBeatingButLivesIsAHangWithinItsLease) {
  use_loopback_dds();
  const int domain = private_domain();
  // The writer keeps its process and participant but stops writing after 1.5 s (its health
  // check turns false): MANUAL_BY_TOPIC liveliness lapses one lease later, long before the
  // 5 s watchdog would.
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) +
           R"(}
root:
  children:
    - name: beater
      command: [@BIN@/dds_heartbeat, --name, beater, --lease, 500ms, --period, 100ms, --stop-after, 1500ms]
      env: {ROS_DOMAIN_ID: ")" +
           std::to_string(domain) + R"("}
      watchdog: {timeout: 5s, stacks: false}
      backoff: {initial: 5s, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("beater", "ready");
  auto hang = v.wait_for("beater", "hang_detected", 15s, ready["id"]);
  EXPECT_NE(hang.value("reason", "").find("DDS liveliness lost"), std::string::npos) << hang.dump();
  const double after_ready_ms = static_cast<double>(hang.value("mono_us", std::int64_t{0}) -
                                                    ready.value("mono_us", std::int64_t{0})) /
                                1000.0;
  EXPECT_LT(after_ready_ms, 4000.0) << hang.dump();
  EXPECT_EQ(v.status()["daemon"]["dds"].value("liveliness_lost", 0), 1);
}

}  // namespace
}  // namespace vigil::testing
