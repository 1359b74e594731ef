// Detection with real processes: the phi-accrual detector, watched loops, EXTEND_TIMEOUT_USEC
// while running, the soft watchdog, and the stacks attached to a hang.
#include <gtest/gtest.h>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

TEST(Detection, PhiDetectsAStoppedHeartbeatWithinASecond) {
  Vigild v(R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --heartbeat, 100ms, --hang-after, 3s, --once, "@DIR@/hung"]
      ready: notify
      watchdog: {detector: phi, threshold: 8, min_std: 50ms, expected_interval: 100ms}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  v.wait_for("lidar", "ready");
  auto hang = v.wait_for("lidar", "hang_detected", 15s);
  EXPECT_EQ(hang["failure"], "hang");
  EXPECT_NE(hang["reason"].get<std::string>().find("phi"), std::string::npos) << hang.dump();
  const auto& d = hang["detail"];
  EXPECT_GE(d["phi"].get<double>(), 8.0);
  EXPECT_EQ(d["detector"], "phi");
  EXPECT_NEAR(d["mean_interval_ms"].get<double>(), 100.0, 30.0);
  EXPECT_LT(d["since_heartbeat_ms"].get<double>(), 1000.0) << "a 10 Hz component's hang within 1 s";
  EXPECT_EQ(d["last_intervals_ms"].size(), 10u);
  // The restarted process is watched by a fresh detector and stays up.
  auto respawned = v.wait_for("lidar", "spawned", 10s, hang["id"]);
  v.wait_for("lidar", "ready", 10s, respawned["id"]);
  EXPECT_TRUE(v.poll_until([&] { return v.component("lidar").value("phi", 99.0) < 3.0; }, 5s));
}

TEST(Detection, OneStalledLoopOfTwoIsAHangAndEveryThreadsStackIsAttached) {
  Vigild v(R"(
root:
  children:
    - name: planner
      command: [@BIN@/robot_sim, --heartbeat, 100ms, --loop, "plan:50ms:400ms",
                --loop, "sensors:50ms:400ms", --stall-loop, plan, --stall-after, 1s,
                --once, "@DIR@/stalled"]
      ready: notify
      watchdog: {timeout: 2s, stack_budget: 10s}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  v.wait_for("planner", "ready");
  auto hang = v.wait_for("planner", "hang_detected", 15s);
  const std::string reason = hang["reason"];
  EXPECT_NE(reason.find("watched loop 'plan'"), std::string::npos) << reason;
  const auto& d = hang["detail"];
  // The other loop and the main heartbeat were still going: only "plan" was stuck.
  EXPECT_LT(d["loops"]["sensors"]["age_ms"].get<double>(), 400.0) << d.dump();
  EXPECT_GE(d["loops"]["plan"]["age_ms"].get<double>(), 400.0);
  EXPECT_LT(d["since_heartbeat_ms"].get<double>(), 2000.0);
  // Stacks of every thread: the main thread and the two loop threads.
  const auto& stacks = d["stacks"];
  EXPECT_EQ(stacks["tool"], "eu-stack") << stacks.dump();
  EXPECT_TRUE(stacks["complete"].get<bool>()) << stacks.dump();
  ASSERT_EQ(stacks["processes"].size(), 1u) << stacks.dump();
  const auto& p = stacks["processes"][0];
  EXPECT_EQ(p["pid"], d["pid"]);
  EXPECT_EQ(p["threads"], 3) << p["text"].get<std::string>();
  EXPECT_NE(p["text"].get<std::string>().find("main"), std::string::npos);
  EXPECT_NE(p["text"].get<std::string>().find("pause"), std::string::npos)
      << "the stuck thread is blocked in pause()";
  EXPECT_GE(d["stack_capture_ms"].get<int>(), 0);
  // The event is dated at detection, before the capture finished.
  auto exited = v.wait_for("planner", "exited", 15s, hang["id"]);
  EXPECT_EQ(exited["detail"].value("signal", ""), "SIGABRT");
  v.wait_for("planner", "ready", 10s, exited["id"]);
}

TEST(Detection, ExtendTimeoutDefersTheHangOfALongOperation) {
  // Two identical programs pause their heartbeats for 2 s (a map load) against a 500 ms
  // watchdog; only one announces it with EXTEND_TIMEOUT_USEC. That one must survive.
  Vigild v(R"(
root:
  children:
    - name: announced
      command: [@BIN@/robot_sim, --heartbeat, 100ms, --pause-at, 1s, --pause-for, 2s,
                --extend, 4s]
      ready: notify
      watchdog: {timeout: 500ms}
    - name: silent
      command: [@BIN@/robot_sim, --heartbeat, 100ms, --pause-at, 1s, --pause-for, 2s,
                --once, "@DIR@/silent"]
      ready: notify
      watchdog: {timeout: 500ms}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("announced", "ready");
  v.wait_for("silent", "hang_detected", 10s);
  const auto pid = v.component("announced")["pid"];
  // Heartbeats resume 3 s after start: wait until well past that.
  const auto beats_before = v.component("announced")["heartbeats"].get<int>();
  ASSERT_TRUE(v.poll_until(
      [&] { return v.component("announced")["heartbeats"].get<int>() >= beats_before + 15; }, 15s));
  EXPECT_TRUE(v.events_of("announced", "hang_detected").empty());
  EXPECT_EQ(v.component("announced")["pid"], pid);
  EXPECT_EQ(v.component("announced")["state"], "running");
}

TEST(Detection, SoftWatchdogWarnsBeforeTheHang) {
  Vigild v(R"(
root:
  children:
    - name: odometry
      command: [@BIN@/robot_sim, --heartbeat, 100ms, --pause-at, 1s, --pause-for, 700ms]
      ready: notify
      watchdog: {timeout: 1s, warn_after: 400ms}
)");
  v.start();
  v.wait_for("odometry", "ready");
  auto warning = v.wait_for("odometry", "warning");
  EXPECT_EQ(warning["detail"]["source"], "watchdog");
  EXPECT_EQ(warning["state"], "running");
  auto cleared = v.wait_for("odometry", "warning_cleared", 10s, warning["id"]);
  EXPECT_EQ(v.component("odometry")["level"], "OK");
  EXPECT_TRUE(v.events_of("odometry", "hang_detected").empty());
}

}  // namespace
}  // namespace vigil::testing
