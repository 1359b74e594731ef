// Each failure mode vigild detects, with real processes: crash, hang, never ready, ignored
// SIGTERM, a double fork, a foreign heartbeat, a client built on libsystemd.
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

TEST(FailureModes, CrashIsRestarted) {
  Vigild v(R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --crash-after, 200ms, --once, "@DIR@/crashed"]
      ready: notify
      backoff: {initial: 10ms, max: 1s, jitter: 0}
)");
  v.start();
  auto first = v.wait_for("lidar", "ready");
  auto exited = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("kind", "") == "exited" &&
           e.value("failure", "") != "";
  });
  EXPECT_TRUE(exited.value("failure", "") == "signal" || exited.value("failure", "") == "core_dump")
      << exited.dump();
  EXPECT_EQ(exited["detail"].value("signal", ""), "SIGABRT");
  // The process's last output is attached to the failure.
  bool saw_output = false;
  for (const auto& line : exited["detail"]["output"]) {
    saw_output |= line.get<std::string>().find("crashing") != std::string::npos;
  }
  EXPECT_TRUE(saw_output) << exited.dump();
  auto respawned = v.wait_for("lidar", "spawned", 10s, exited["id"]);
  EXPECT_NE(respawned["detail"]["pid"], first["detail"]["pid"]);
  v.wait_for("lidar", "ready", 10s, respawned["id"]);
  auto node = v.component("lidar");
  EXPECT_EQ(node["state"], "running");
  EXPECT_EQ(node["restarts"], 1);
  EXPECT_EQ(node["last_failure"]["kind"], exited["failure"]);
}

TEST(FailureModes, HangIsDetectedWithinTimeoutAndRestarted) {
  Vigild v(R"(
root:
  children:
    - name: planner
      command: [@BIN@/robot_sim, --heartbeat, 50ms, --hang-after, 500ms, --once, "@DIR@/hung"]
      ready: notify
      watchdog: {timeout: 400ms}
      stop: {timeout: 1s}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("planner", "ready");
  auto hang = v.wait_for("planner", "hang_detected");
  EXPECT_EQ(hang["failure"], "hang");
  const auto since_beat = hang["detail"]["since_heartbeat_ms"].get<std::int64_t>();
  EXPECT_GE(since_beat, 400);
  EXPECT_LE(since_beat, 400 + 500) << "detected long after the deadline";  // generous slack
  EXPECT_GT(hang["detail"]["heartbeats"].get<int>(), 3);
  // The hung process gets the watchdog signal (SIGABRT, as systemd) and is restarted.
  auto exited = v.wait_for("planner", "exited", 10s, hang["id"]);
  EXPECT_EQ(exited["detail"].value("signal", ""), "SIGABRT");
  auto respawned = v.wait_for("planner", "spawned", 10s, hang["id"]);
  EXPECT_NE(respawned["detail"]["pid"], ready["detail"]["pid"]);
  v.wait_for("planner", "ready", 10s, respawned["id"]);
}

TEST(FailureModes, NeverReadyHitsStartTimeout) {
  Vigild v(R"(
root:
  intensity: {restarts: 100, within: 1m}
  children:
    - name: camera
      command: [@BIN@/robot_sim, --never-ready]
      ready: notify
      start_timeout: 300ms
      backoff: {initial: 5s, jitter: 0}
)");
  v.start();
  auto spawned = v.wait_for("camera", "spawned");
  auto timeout = v.wait_for("camera", "start_timeout");
  EXPECT_EQ(timeout["failure"], "not_ready");
  const auto waited_us =
      timeout["mono_us"].get<std::int64_t>() - spawned["mono_us"].get<std::int64_t>();
  EXPECT_GE(waited_us, 300'000);
  EXPECT_LE(waited_us, 300'000 + 1'000'000);
  auto scheduled = v.wait_for("camera", "restart_scheduled", 10s, timeout["id"]);
  EXPECT_EQ(scheduled["detail"]["delay_ms"], 5000);
  EXPECT_EQ(v.component("camera")["state"], "backoff");
}

TEST(FailureModes, ProcessIgnoringSigtermIsKilledAfterStopTimeout) {
  Vigild v(R"(
root:
  children:
    - name: stubborn
      command: [@BIN@/robot_sim, --ignore-sigterm]
      ready: notify
      stop: {signal: SIGTERM, timeout: 400ms}
)");
  v.start();
  auto ready = v.wait_for("stubborn", "ready");
  ASSERT_TRUE(v.request({{"cmd", "stop"}, {"name", "stubborn"}})["ok"].get<bool>());
  auto requested = v.wait_for("stubborn", "stop_requested");
  auto escalated = v.wait_for("stubborn", "stop_escalated");
  const auto waited =
      escalated["mono_us"].get<std::int64_t>() - requested["mono_us"].get<std::int64_t>();
  EXPECT_GE(waited, 400'000);
  EXPECT_LE(waited, 400'000 + 1'000'000);
  auto exited = v.wait_for("stubborn", "exited");
  EXPECT_EQ(exited["detail"].value("signal", ""), "SIGKILL");
  auto stopped = v.wait_for("stubborn", "stopped");
  EXPECT_EQ(stopped["state"], "stopped");
  EXPECT_FALSE(process_alive(ready["detail"]["pid"].get<pid_t>()));
}

TEST(FailureModes, DoubleForkingProgramIsReapedAndAttributed) {
  Vigild v(R"(
root:
  children:
    - name: forker
      command: [@BIN@/robot_sim, --double-fork, 300ms]
      ready: notify
)");
  v.start();
  v.wait_for("forker", "ready");
  // The grandchild was re-parented to vigild (child subreaper) and reaped when it exited.
  auto orphan = v.wait_for("forker", "orphan_reaped");
  const auto orphan_pid = orphan["detail"]["orphan_pid"].get<pid_t>();
  EXPECT_GT(orphan_pid, 0);
  EXPECT_FALSE(process_alive(orphan_pid)) << "the orphan is still a zombie";
  EXPECT_EQ(v.component("forker")["state"], "running");
}

TEST(FailureModes, HeartbeatFromForeignProcessIsRejected) {
  Vigild v(R"(
root:
  children:
    - name: silent
      command: [@BIN@/robot_sim, --no-heartbeat]
      ready: notify
      watchdog: {timeout: 700ms}
      backoff: {initial: 10s}
)");
  v.start();
  auto ready = v.wait_for("silent", "ready");
  // This test process is no part of the component; its heartbeats, even claiming the
  // component's pid, must not keep the component alive.
  const auto pid = ready["detail"]["pid"].get<int>();
  const std::string notify = v.state_dir() + "/notify.sock";
  for (int i = 0; i < 5; ++i) {
    send_datagram(notify, "WATCHDOG=1\nMAINPID=" + std::to_string(pid));
  }
  auto hang = v.wait_for("silent", "hang_detected");
  EXPECT_EQ(hang["detail"]["heartbeats"], 0);
  EXPECT_GE(v.status()["daemon"]["notify_dropped"].get<int>(), 5);
}

TEST(FailureModes, LibsystemdClientWorksUnchanged) {
  Vigild v(R"(
root:
  children:
    - name: legacy
      command: [@BIN@/sd_notify_client, --hang-after, "1500"]
      ready: notify
      watchdog: {timeout: 300ms}
      backoff: {initial: 10s}
)");
  v.start();
  auto ready = v.wait_for("legacy", "ready");
  auto hang = v.wait_for("legacy", "hang_detected");
  // It heartbeated through sd_notify() (WATCHDOG_PID matched its own pid) for 1.5 s, five
  // watchdog periods, before it stopped on purpose.
  const auto alive_us = hang["mono_us"].get<std::int64_t>() - ready["mono_us"].get<std::int64_t>();
  EXPECT_GE(alive_us, 1'400'000);
  EXPECT_GE(hang["detail"]["heartbeats"].get<int>(), 5);
  auto lines = v.request({{"cmd", "logs"}, {"name", "legacy"}, {"limit", 10}})["lines"];
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].get<std::string>().find("watchdog enabled (300000 us)"), std::string::npos)
      << lines.dump();
}

}  // namespace
}  // namespace vigil::testing
