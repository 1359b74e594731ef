// What survives vigild itself: committed events after kill -9, components adopted (not
// duplicated) by the next vigild, and reload that restarts only what changed.
#include <gtest/gtest.h>
#include <signal.h>

#include "diagnostics/event_log.hpp"
#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

TEST(Durability, AcknowledgedEventsSurviveKill9AndComponentsAreAdoptedNotDuplicated) {
  Vigild v(R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --print-every, 20ms]
      ready: notify
      watchdog: {timeout: 1s}
    - name: crasher
      command: [@BIN@/robot_sim, --crash-after, 100ms, --once, "@DIR@/crashed"]
      ready: notify
      backoff: {initial: 10ms}
)");
  v.start();
  auto lidar = v.wait_for("lidar", "ready");
  const pid_t lidar_pid = lidar["detail"]["pid"].get<pid_t>();
  // The event stream delivers an event only after it is committed: this one is acknowledged.
  auto crash = v.wait_for([](const json& e) {
    return e["component"] == "crasher" && e["kind"] == "exited" && e.value("failure", "") != "";
  });
  auto crasher_ready = v.wait_for("crasher", "ready", 10s, crash["id"]);
  const pid_t crasher_pid = crasher_ready["detail"]["pid"].get<pid_t>();
  v.kill9();

  {
    auto log = diagnostics::EventLog::open(v.state_dir() + "/events.db", {}, /*read_only=*/true);
    ASSERT_TRUE(log.ok()) << log.error();
    auto stored = (*log)->query({.component = "crasher", .limit = 1000});
    bool found = false;
    for (const auto& e : stored) found |= e.id == crash["id"].get<std::int64_t>();
    EXPECT_TRUE(found) << "acknowledged event " << crash["id"] << " lost after kill -9";
  }
  ASSERT_TRUE(process_alive(lidar_pid)) << "the component died with vigild (SIGPIPE?)";

  v.start();
  auto adopted = v.wait_for("lidar", "adopted", 10s, crasher_ready["id"]);
  EXPECT_EQ(adopted["detail"]["pid"], lidar_pid);
  v.wait_for("crasher", "adopted", 10s, crasher_ready["id"]);
  // Adopted processes keep heartbeating to the re-bound notify socket and keep logging.
  EXPECT_TRUE(v.poll_until([&] { return v.component("lidar")["heartbeats"] >= 3; }, 10s));
  EXPECT_TRUE(v.poll_until(
      [&] {
        auto lines = v.request({{"cmd", "logs"}, {"name", "lidar"}, {"limit", 5}})["lines"];
        return !lines.empty();
      },
      10s));
  EXPECT_EQ(v.component("lidar")["pid"], lidar_pid);
  EXPECT_EQ(v.component("crasher")["pid"], crasher_pid);
  for (const auto& e : v.events_of("lidar", "spawned")) {
    EXPECT_LT(e["id"], adopted["id"]) << "a duplicate lidar was started";
  }
  // An adopted process that dies is noticed (through its pidfd) and restarted.
  ::kill(lidar_pid, SIGKILL);
  auto exited = v.wait_for("lidar", "exited", 10s, adopted["id"]);
  EXPECT_EQ(exited["failure"], "crash");
  v.wait_for("lidar", "ready", 10s, exited["id"]);
}

TEST(Durability, ReloadRestartsOnlyWhatChanged) {
  const std::string before = R"(
root:
  children:
    - name: keep
      command: [@BIN@/robot_sim]
      ready: notify
    - name: change
      command: [@BIN@/robot_sim, --status, one]
      ready: notify
    - name: remove
      command: [@BIN@/robot_sim]
      ready: notify
)";
  Vigild v(before);
  v.start();
  const auto keep = v.wait_for("keep", "ready")["detail"]["pid"];
  const auto change = v.wait_for("change", "ready")["detail"]["pid"];
  const auto remove = v.wait_for("remove", "ready")["detail"]["pid"].get<pid_t>();
  v.write_config(R"(
root:
  children:
    - name: keep
      command: [@BIN@/robot_sim]
      ready: notify
    - name: change
      command: [@BIN@/robot_sim, --status, two]
      ready: notify
    - name: added
      command: [@BIN@/robot_sim]
      ready: notify
)");
  auto reply = v.request({{"cmd", "reload"}});
  ASSERT_TRUE(reply["ok"].get<bool>()) << reply.dump();
  EXPECT_EQ(reply["changes"]["added"], json::array({"added"}));
  EXPECT_EQ(reply["changes"]["removed"], json::array({"remove"}));
  EXPECT_EQ(reply["changes"]["changed"], json::array({"change"}));
  EXPECT_EQ(reply["changes"]["unchanged"], json::array({"keep"}));
  auto reloaded = v.wait_for("", "config_reloaded");
  auto changed_ready = v.wait_for("change", "ready", 10s, reloaded["id"]);
  EXPECT_NE(changed_ready["detail"]["pid"], change);
  v.wait_for("added", "ready", 10s, reloaded["id"]);
  v.wait_for("remove", "stopped", 10s, reloaded["id"]);
  EXPECT_FALSE(process_alive(remove));
  EXPECT_EQ(v.component("keep")["pid"], keep);
  EXPECT_TRUE(v.component("remove").is_null());
  EXPECT_EQ(v.component("change")["status_text"], "two");
  for (const auto& e : v.events_of("keep", "spawned")) EXPECT_LT(e["id"], reloaded["id"]);
}

TEST(Durability, ReloadWithABadConfigChangesNothing) {
  Vigild v(R"(
root:
  children:
    - name: keep
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  const auto pid = v.wait_for("keep", "ready")["detail"]["pid"];
  v.write_config("root:\n  children:\n    - name: keep\n      comand: [x]\n");
  auto reply = v.request({{"cmd", "reload"}});
  EXPECT_FALSE(reply["ok"].get<bool>());
  EXPECT_NE(reply["error"].get<std::string>().find("robot.yaml:4:7: error: unknown key 'comand'"),
            std::string::npos)
      << reply.dump();
  EXPECT_EQ(v.component("keep")["pid"], pid);
  EXPECT_EQ(v.component("keep")["state"], "running");
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

TEST(Durability, AnAdoptedComponentWhoseConfigChangedMeanwhileIsRestarted) {
  Vigild v(R"(
root:
  children:
    - name: same
      command: [@BIN@/robot_sim]
      ready: notify
    - name: edited
      command: [@BIN@/robot_sim, --status, old]
      ready: notify
)");
  v.start();
  const auto same = v.wait_for("same", "ready")["detail"]["pid"];
  const auto edited = v.wait_for("edited", "ready")["detail"]["pid"].get<pid_t>();
  const auto before = v.events().back()["id"].get<std::int64_t>();
  v.kill9();
  v.write_config(R"(
root:
  children:
    - name: same
      command: [@BIN@/robot_sim]
      ready: notify
    - name: edited
      command: [@BIN@/robot_sim, --status, new]
      ready: notify
)");
  v.start();
  v.wait_for("same", "adopted", 10s, before);
  v.wait_for("edited", "adopted", 10s, before);
  auto respawned = v.wait_for("edited", "spawned", 10s, before);
  EXPECT_NE(respawned["detail"]["pid"].get<pid_t>(), edited);
  v.wait_for("edited", "ready", 10s, respawned["id"]);
  EXPECT_FALSE(process_alive(edited));
  EXPECT_EQ(v.component("same")["pid"], same);
  EXPECT_EQ(v.component("edited")["status_text"], "new");
}

}  // namespace
}  // namespace vigil::testing
