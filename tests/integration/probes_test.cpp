// Readiness and liveness probes with real sockets and real commands.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

TEST(Probes, TcpReadinessWaitsForTheListeningSocket) {
  Vigild v(R"(
root:
  children:
    - name: server
      command: [sh, -c, "sleep 0.3; exec @BIN@/robot_sim --listen 47231"]
      ready: {tcp: "127.0.0.1:47231", period: 50ms, timeout: 1s}
      start_timeout: 10s
)");
  v.start();
  auto spawned = v.wait_for("server", "spawned");
  auto ready = v.wait_for("server", "ready");
  EXPECT_NE(ready["reason"].get<std::string>().find("tcp 127.0.0.1:47231 accepted"),
            std::string::npos);
  // Not before the program listened (it sleeps 300 ms first).
  EXPECT_GE(ready["mono_us"].get<std::int64_t>() - spawned["mono_us"].get<std::int64_t>(), 250'000);
}

TEST(Probes, ExecProbeGatesReadinessAndItsFailuresRestartTheComponent) {
  Vigild v(R"(
root:
  children:
    - name: worker
      command: [@BIN@/robot_sim]
      ready: {exec: [test, -f, "@DIR@/healthy"], period: 50ms, timeout: 1s, failure_threshold: 3}
      start_timeout: 20s
      backoff: {initial: 10s}
)");
  v.start();
  auto spawned = v.wait_for("worker", "spawned");
  EXPECT_EQ(v.component("worker")["state"], "starting");
  std::ofstream(v.dir() + "/healthy") << "ok\n";
  v.wait_for("worker", "ready");
  std::filesystem::remove(v.dir() + "/healthy");
  auto failed = v.wait_for("worker", "probe_failed");
  EXPECT_EQ(failed["failure"], "probe");
  EXPECT_EQ(failed["detail"]["failures"], 3);
  v.wait_for("worker", "restart_scheduled", 10s, failed["id"]);
}

}  // namespace
}  // namespace vigil::testing
