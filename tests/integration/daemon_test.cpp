// vigild itself: signals, exclusivity, its own exit status.
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

// Regression: a notify read already queued when vigild tore the socket down ran on a
// destroyed object (SIGSEGV at shutdown under heartbeat load).
TEST(Daemon, ShutsDownCleanlyUnderHeartbeatLoad) {
  std::string yaml = "root:\n  intensity: {restarts: 100, within: 1m}\n  children:\n";
  for (int i = 0; i < 30; ++i) {
    yaml += "    - name: c" + std::to_string(i) +
            "\n      command: [@BIN@/robot_sim, --heartbeat, 2ms]\n      ready: notify\n"
            "      watchdog: {timeout: 2s}\n";
  }
  Vigild v(yaml);
  v.start();
  for (int i = 0; i < 30; ++i) v.wait_for("c" + std::to_string(i), "ready");
  EXPECT_TRUE(v.poll_until([&] { return v.status()["daemon"]["notify_received"] > 3000; }, 20s));
  EXPECT_EQ(v.stop(), 0) << v.vigild_output();
}

TEST(Daemon, ASecondVigildOnTheSameStateDirIsRefused) {
  Vigild v(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  const auto pid = v.wait_for("a", "ready")["detail"]["pid"];
  auto second = run_command({bin("vigild"), "--config", v.config_path()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another vigild is already running"), std::string::npos)
      << second.output;
  EXPECT_EQ(v.component("a")["pid"], pid) << "the second vigild touched the first one's work";
}

TEST(Daemon, SighupReloadsTheConfig) {
  Vigild v(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  v.wait_for("a", "ready");
  v.write_config(R"(
root:
  children:
    - name: a
      command: [@BIN@/robot_sim]
      ready: notify
    - name: b
      command: [@BIN@/robot_sim]
      ready: notify
)");
  ASSERT_EQ(::kill(v.pid(), SIGHUP), 0);
  auto reloaded = v.wait_for("", "config_reloaded");
  EXPECT_EQ(reloaded["detail"]["added"], json::array({"b"}));
  v.wait_for("b", "ready", 10s, reloaded["id"]);
}

}  // namespace
}  // namespace vigil::testing
