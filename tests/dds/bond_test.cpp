// Nav2's bond protocol as a component's watchdog signal: a real vigild watches bond/msg/Status
// on /bond through Cyclone DDS on loopback; bond_peer plays the node's side of the bond (run
// by vigild as the component) or someone else's (run by the test itself).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "integration/harness.hpp"
#include "support/dds_env.hpp"

extern char** environ;

namespace vigil::testing {
namespace {

// Every participant of this test and the vigild it starts: loopback, unicast, and a domain
// of its own (tests run in parallel).
int join_private_domain() {
  use_loopback_dds();
  const int domain = private_domain();
  ::setenv("ROS_DOMAIN_ID", std::to_string(domain).c_str(), 1);
  return domain;
}

// A bond_peer that is not vigild's: started by the test, stopped (SIGTERM) and reaped when the
// test ends.
class ForeignPeer {
 public:
  explicit ForeignPeer(std::vector<std::string> args) {
    args.insert(args.begin(), bin("bond_peer"));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ);
    EXPECT_EQ(rc, 0) << "cannot start " << argv[0];
    if (rc != 0) pid_ = 0;
  }
  ForeignPeer(const ForeignPeer&) = delete;
  ForeignPeer& operator=(const ForeignPeer&) = delete;
  ~ForeignPeer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
};

// A config with DDS on the test's domain and one component.
std::string config(int domain, const std::string& component) {
  return "dds: {domain: " + std::to_string(domain) +
         "}\n"
         "root:\n"
         "  children:\n" +
         component;
}

// The component's env: Cyclone on loopback and the test's domain, as ROS 2 reads it.
std::string dds_env(int domain) {
  return "      env: {CYCLONEDDS_URI: \"file://" VIGIL_SOURCE_DIR
         "/dds/cyclonedds-loopback.xml\", ROS_DOMAIN_ID: \"" +
         std::to_string(domain) + "\"}\n";
}

json bond_counters(Vigild& v) {
  return v.status()["daemon"]["dds"].value("bonds", json::object());
}

std::vector<json> bond_warnings(const Vigild& v, const std::string& component) {
  std::vector<json> out;
  for (const auto& e : v.events_of(component, "warning")) {
    if (e["detail"].value("source", "") == "bond") out.push_back(e);
  }
  return out;
}

// The node beats at Nav2's 10 Hz; vigild treats each Status as a heartbeat, so a 2 s timeout
// never fires. The lifecycle manager's side of the bond (same id, another process) is seen
// and not counted for the component.
TEST(Bond, KeepsAComponentHealthyWhileItsNodeBeats) {
  const int domain = join_private_domain();
  Vigild v(config(domain,
                  "    - name: controller_server\n"
                  "      command: [@BIN@/bond_peer, --id, controller_server]\n" +
                      dds_env(domain) +
                      "      watchdog: {timeout: 2s, bond: true}\n"
                      "      backoff: {initial: 5s, jitter: 0}\n"));
  v.start();
  v.wait_for("controller_server", "ready", 20s);
  ForeignPeer manager({"--id", "controller_server"});
  // Four seconds of beats (twice the timeout) and the manager's messages seen.
  ASSERT_TRUE(v.poll_until(
      [&] {
        return v.component("controller_server").value("heartbeats", 0) >= 40 &&
               bond_counters(v).value("foreign", 0) > 0;
      },
      30s))
      << v.component("controller_server").dump() << "\n"
      << v.status()["daemon"].dump();
  EXPECT_TRUE(v.events_of("controller_server", "hang_detected").empty());
  const auto c = v.component("controller_server");
  EXPECT_EQ(c.value("state", ""), "running") << c.dump();
  EXPECT_EQ(c.value("restarts", -1), 0) << c.dump();
  EXPECT_EQ(c.value("level", ""), "OK") << c.dump();
  const auto counters = bond_counters(v);
  EXPECT_GE(counters.value("beats", 0), 40) << counters.dump();
  EXPECT_EQ(counters.value("broken", -1), 0) << counters.dump();
}

// A node that stops beating but keeps running (a hung executor) is a hang after the timeout.
TEST(Bond, DetectsANodeThatStopsBeatingAsAHang) {
  const int domain = join_private_domain();
  Vigild v(config(domain,
                  "    - name: planner_server\n"
                  "      command: [@BIN@/bond_peer, --id, planner_server, --stop-after, 2500]\n" +
                      dds_env(domain) +
                      "      watchdog: {timeout: 2s, bond: true}\n"
                      "      backoff: {initial: 5s, jitter: 0}\n"));
  v.start();
  auto ready = v.wait_for("planner_server", "ready", 20s);
  ASSERT_TRUE(
      v.poll_until([&] { return v.component("planner_server").value("heartbeats", 0) >= 5; }, 15s))
      << v.component("planner_server").dump();
  auto hang = v.wait_for("planner_server", "hang_detected", 20s, ready["id"]);
  const double silent_ms = hang["detail"].value("since_heartbeat_ms", 0.0);
  EXPECT_GE(silent_ms, 1900.0) << hang.dump();
  EXPECT_LT(silent_ms, 2000.0 + 1500.0) << hang.dump();
  EXPECT_GE(hang["detail"].value("heartbeats", 0), 5) << hang.dump();
}

// Bond messages with the component's id from a process that is not the component's (here the
// test's own bond_peers, one beating and one breaking the bond) neither keep it alive nor
// warn about it.
TEST(Bond, CountsOnlyMessagesFromTheComponentsOwnProcesses) {
  const int domain = join_private_domain();
  Vigild v(config(domain,
                  "    - name: bt_navigator\n"
                  "      command: [@BIN@/robot_sim, --no-heartbeat]\n" +
                      dds_env(domain) +
                      "      ready: notify\n"
                      "      watchdog: {timeout: 2s, bond: true}\n"
                      "      backoff: {initial: 10s, jitter: 0}\n"));
  v.start();
  auto ready = v.wait_for("bt_navigator", "ready", 20s);
  ForeignPeer forger({"--id", "bt_navigator", "--period", "50"});
  ForeignPeer breaker({"--id", "bt_navigator", "--active", "false"});
  ASSERT_TRUE(v.poll_until([&] { return bond_counters(v).value("foreign", 0) >= 10; }, 15s))
      << v.status()["daemon"].dump();
  auto hang = v.wait_for("bt_navigator", "hang_detected", 20s, ready["id"]);
  EXPECT_EQ(hang["detail"].value("heartbeats", -1), 0) << hang.dump();
  const auto counters = bond_counters(v);
  EXPECT_EQ(counters.value("beats", -1), 0) << counters.dump();
  EXPECT_EQ(counters.value("broken", -1), 0) << counters.dump();
  EXPECT_TRUE(bond_warnings(v, "bt_navigator").empty());
}

// A node that breaks its bond (active=false, as Nav2 does on deactivation) is a warning with
// source bond while it keeps running; its active=false messages are not beats, so the
// watchdog then reports the hang.
TEST(Bond, ABrokenBondIsAWarningAndNotABeat) {
  const int domain = join_private_domain();
  Vigild v(config(domain,
                  "    - name: smoother_server\n"
                  "      command: [@BIN@/bond_peer, --id, smoother_server, --break-after, 1500]\n" +
                      dds_env(domain) +
                      "      watchdog: {timeout: 3s, bond: {id: smoother_server, topic: /bond}}\n"
                      "      backoff: {initial: 10s, jitter: 0}\n"));
  v.start();
  auto ready = v.wait_for("smoother_server", "ready", 20s);
  const int pid = v.component("smoother_server")["pid"];
  auto warning = v.wait_for(
      [](const json& e) {
        return e.value("component", "") == "smoother_server" && e.value("kind", "") == "warning" &&
               e["detail"].value("source", "") == "bond";
      },
      20s, ready["id"]);
  EXPECT_EQ(warning.value("state", ""), "running") << warning.dump();
  EXPECT_NE(warning.value("reason", "").find("broke its bond 'smoother_server'"), std::string::npos)
      << warning.dump();
  EXPECT_EQ(warning["detail"]["evidence"].value("writer_pid", 0), pid) << warning.dump();
  auto hang = v.wait_for("smoother_server", "hang_detected", 20s, warning["id"]);
  // Beats stopped when the bond broke (about 1.5 s in), though messages kept coming.
  EXPECT_GE(hang["detail"].value("since_heartbeat_ms", 0.0), 2900.0) << hang.dump();
  EXPECT_GE(bond_counters(v).value("broken", 0), 1);
  EXPECT_EQ(bond_warnings(v, "smoother_server").size(), 1u) << "one warning per break";
}

}  // namespace
}  // namespace vigil::testing
