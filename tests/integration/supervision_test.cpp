// The supervision tree with real processes: strategies restart exactly the right set, a crash
// loop backs off and escalates, dependencies order start and stop.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

std::set<std::string> respawned_after(const Vigild& v, std::int64_t after_id) {
  std::set<std::string> names;
  for (const auto& e : v.events()) {
    if (e["id"].get<std::int64_t>() > after_id && e["kind"] == "spawned") {
      names.insert(e["component"].get<std::string>());
    }
  }
  return names;
}

// a, b, c in a group with `strategy`; b crashes once. `outside` is a sibling of the group.
std::string strategy_config(const std::string& strategy) {
  return R"(
root:
  strategy: one_for_one
  children:
    - name: outside
      command: [@BIN@/robot_sim]
      ready: notify
    - name: group
      strategy: )" +
         strategy + R"(
      children:
        - name: a
          command: [@BIN@/robot_sim]
          ready: notify
        - name: b
          command: [@BIN@/robot_sim, --crash-after, 300ms, --once, "@DIR@/b-crashed"]
          ready: notify
          backoff: {initial: 20ms, jitter: 0}
        - name: c
          command: [@BIN@/robot_sim]
          ready: notify
)";
}

void expect_restart_set(const std::string& strategy, const std::set<std::string>& expected) {
  Vigild v(strategy_config(strategy));
  v.start();
  for (const char* n : {"outside", "a", "b", "c"}) v.wait_for(n, "ready");
  auto crash = v.wait_for([](const json& e) {
    return e["component"] == "b" && e["kind"] == "exited" && e.value("failure", "") != "";
  });
  auto scheduled = v.wait_for("b", "restart_scheduled", 10s, crash["id"]);
  EXPECT_EQ(scheduled["detail"]["strategy"], strategy);
  for (const auto& n : expected) v.wait_for(n, "ready", 10s, crash["id"]);
  // Everything restarted is up again: exactly the expected set was respawned.
  EXPECT_EQ(respawned_after(v, crash["id"]), expected);
  std::set<std::string> listed;
  for (const auto& n : scheduled["detail"]["restarting"]) listed.insert(n.get<std::string>());
  EXPECT_EQ(listed, expected);
}

TEST(Supervision, OneForOneRestartsOnlyTheFailedChild) {
  expect_restart_set("one_for_one", {"b"});
}

TEST(Supervision, OneForAllRestartsEveryChildOfTheGroup) {
  expect_restart_set("one_for_all", {"a", "b", "c"});
}

TEST(Supervision, RestForOneRestartsTheFailedChildAndThoseAfterIt) {
  expect_restart_set("rest_for_one", {"b", "c"});
}

TEST(Supervision, CrashLoopBacksOffThenEscalatesToTheParent) {
  Vigild v(R"(
root:
  intensity: {restarts: 10, within: 1m}
  children:
    - name: drivers
      intensity: {restarts: 3, within: 30s}
      backoff: {initial: 2s, jitter: 0}
      children:
        - name: flaky
          command: [@BIN@/robot_sim, --crash-after, 0ms]
          backoff: {initial: 50ms, factor: 2, max: 10s, jitter: 0}
)");
  v.start();
  auto escalated = v.wait_for("drivers", "escalated", 20s);
  std::vector<std::int64_t> delays;
  for (const auto& e : v.events_of("flaky", "restart_scheduled")) {
    if (e["id"] < escalated["id"] && e["detail"].contains("attempt")) {
      delays.push_back(e["detail"]["delay_ms"].get<std::int64_t>());
    }
  }
  // Exponential backoff: 50, 100, 200 ms; the 4th failure exceeds 3 restarts in 30 s.
  EXPECT_EQ(delays, (std::vector<std::int64_t>{50, 100, 200}));
  EXPECT_EQ(v.events_of("flaky", "exited").size(), 4u);
  EXPECT_NE(escalated["reason"].get<std::string>().find("more than 3 restarts"), std::string::npos);
  // The parent (root, one_for_one) restarts the whole group with the group's backoff.
  auto group_restart = v.wait_for("drivers", "restart_scheduled", 10s, escalated["id"]);
  EXPECT_EQ(group_restart["detail"]["delay_ms"], 2000);
  EXPECT_EQ(group_restart["detail"]["group"], "root");
  EXPECT_EQ(v.component("flaky")["state"], "backoff");
}

TEST(Supervision, RootIntensityExhaustedStopsEverythingAndGivesUp) {
  Vigild v(R"(
final_action: stop
root:
  intensity: {restarts: 2, within: 30s}
  children:
    - name: steady
      command: [@BIN@/robot_sim]
      ready: notify
    - name: flaky
      command: [@BIN@/robot_sim, --crash-after, 0ms]
      after: [steady]
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto given_up = v.wait_for("root", "given_up", 20s);
  v.wait_for("steady", "given_up", 10s, given_up["id"]);
  EXPECT_EQ(v.component("steady")["state"], "given_up");
  EXPECT_EQ(v.component("flaky")["state"], "given_up");
  // An operator can bring it back.
  ASSERT_TRUE(v.request({{"cmd", "start"}, {"name", "steady"}})["ok"].get<bool>());
  auto spawned = v.wait_for("steady", "spawned", 10s, given_up["id"]);
  v.wait_for("steady", "ready", 10s, spawned["id"]);
}

TEST(Supervision, StartsInDependencyOrderAndStopsInReverse) {
  Vigild v(R"(
root:
  children:
    - name: controller
      command: [@BIN@/robot_sim, --ready-delay, 100ms]
      ready: notify
      after: [planner]
    - name: planner
      command: [@BIN@/robot_sim, --ready-delay, 100ms]
      ready: notify
      after: [lidar]
    - name: lidar
      command: [@BIN@/robot_sim, --ready-delay, 100ms]
      ready: notify
)");
  v.start();
  auto lidar_ready = v.wait_for("lidar", "ready");
  auto planner_spawned = v.wait_for("planner", "spawned");
  auto planner_ready = v.wait_for("planner", "ready");
  auto controller_spawned = v.wait_for("controller", "spawned");
  EXPECT_GT(planner_spawned["id"], lidar_ready["id"]);
  EXPECT_GT(controller_spawned["id"], planner_ready["id"]);
  ASSERT_TRUE(v.request({{"cmd", "shutdown"}})["ok"].get<bool>());
  auto controller_stopped = v.wait_for("controller", "stopped");
  auto planner_stop = v.wait_for("planner", "stop_requested");
  auto planner_stopped = v.wait_for("planner", "stopped");
  auto lidar_stop = v.wait_for("lidar", "stop_requested");
  EXPECT_GT(planner_stop["id"], controller_stopped["id"]);
  EXPECT_GT(lidar_stop["id"], planner_stopped["id"]);
}

TEST(Supervision, TransientComponentThatExitsCleanlyStaysDown) {
  Vigild v(R"(
root:
  children:
    - name: job
      command: [@BIN@/robot_sim, --exit-after, 100ms]
      restart: transient
    - name: worker
      command: [@BIN@/robot_sim, --exit-after, 100ms, --exit-code, "3", --once, "@DIR@/w"]
      restart: transient
      backoff: {initial: 10ms}
)");
  v.start();
  auto stopped = v.wait_for("job", "stopped");
  EXPECT_EQ(stopped["state"], "stopped");
  // An abnormal exit of a transient component is restarted.
  auto exited = v.wait_for("worker", "exited");
  EXPECT_EQ(exited["failure"], "exit_code");
  EXPECT_EQ(exited["detail"]["code"], 3);
  v.wait_for("worker", "spawned", 10s, exited["id"]);
  EXPECT_EQ(v.events_of("job", "spawned").size(), 1u);
}

TEST(Supervision, ExecFailureIsReportedOnceNotAsACrashLoop) {
  Vigild v(R"(
root:
  children:
    - name: broken
      command: [@DIR@/program]
      backoff: {initial: 10ms, max: 200ms}
)");
  // Executable, so the config is valid, but its interpreter does not exist: execve fails.
  std::ofstream(v.dir() + "/program") << "#!/nonexistent/interpreter\n";
  std::filesystem::permissions(v.dir() + "/program", std::filesystem::perms::owner_all);
  v.start();
  auto failed = v.wait_for("broken", "exec_failed");
  EXPECT_EQ(failed["failure"], "exec");
  EXPECT_NE(failed["reason"].get<std::string>().find("No such file"), std::string::npos)
      << failed.dump();
  // Retried every backoff.max (200 ms), silently: no event per attempt.
  EXPECT_TRUE(v.poll_until([&] { return v.component("broken")["exec_failures"] >= 3; }, 10s));
  ASSERT_TRUE(v.request({{"cmd", "stop"}, {"name", "broken"}})["ok"].get<bool>());
  v.wait_for("broken", "operator_command");
  int exec_events = 0;
  const json reply = v.request({{"cmd", "events"}, {"component", "broken"}});
  for (const auto& e : reply["events"]) {
    exec_events += e["kind"] == "exec_failed" ? 1 : 0;
  }
  EXPECT_EQ(exec_events, 1);
  EXPECT_EQ(v.component("broken")["state"], "stopped");
}

}  // namespace
}  // namespace vigil::testing
