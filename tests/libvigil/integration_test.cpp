// vigild supervising libvigil_example: ready over the notify protocol, heartbeats from the
// Heartbeat thread, a watched loop, and a checkpointed counter that survives kill -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>
#include <regex>

#include "integration/harness.hpp"
#include "vigil/checkpoint.hpp"

namespace vigil::testing {
namespace {

std::uint64_t saved_counter(const std::string& path) {
  auto loaded = vigil::Checkpoint<std::uint64_t>(path).load();
  return loaded ? *loaded.value : 0;
}

TEST(LibvigilExample, ReadyHeartbeatsLoopAndCounterSurvivesKill9) {
  Vigild v(R"(
root:
  children:
    - name: counter
      command: [@BIN@/libvigil_example, --checkpoint, "@DIR@/counter", --period-ms, "20"]
      ready: notify
      watchdog: {timeout: 1s}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("counter", "ready", 15s);
  const std::string checkpoint = v.dir() + "/counter";

  // Heartbeats from the Heartbeat thread (WATCHDOG_USEC=1000000 -> every 500 ms) and the
  // watched loop declared with a 500 ms deadline.
  ASSERT_TRUE(v.poll_until(
      [&] {
        const auto c = v.component("counter");
        return c.value("heartbeats", 0) >= 2 && c.contains("liveness") &&
               c["liveness"].contains("loops") && c["liveness"]["loops"].contains("count") &&
               c["liveness"]["loops"]["count"].value("beats", 0) > 5;
      },
      10s))
      << v.component("counter").dump();
  const auto before = v.component("counter");
  EXPECT_EQ(before["state"], "running");
  EXPECT_EQ(before["liveness"]["loops"]["count"]["deadline_ms"].get<double>(), 500.0)
      << before.dump();

  // Let it count, then kill -9 it.
  ASSERT_TRUE(v.poll_until([&] { return saved_counter(checkpoint) >= 20; }, 10s));
  const pid_t pid = before["pid"].get<pid_t>();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto exited = v.wait_for("counter", "exited", 10s, ready["id"]);
  // Read once it is reaped: a process can still finish a rename just after kill() returns.
  const std::uint64_t at_kill = saved_counter(checkpoint);
  EXPECT_EQ(exited["failure"], "signal") << exited.dump();
  v.wait_for("counter", "ready", 15s, exited["id"]);

  // The new process restored the counter and continues from it.
  ASSERT_TRUE(v.poll_until(
      [&] {
        const auto logs = v.request({{"cmd", "logs"}, {"name", "counter"}, {"limit", 100}});
        for (const auto& line : logs.value("lines", json::array()))
          if (line.get<std::string>().find("restored counter") != std::string::npos) return true;
        return false;
      },
      10s));
  const auto logs = v.request({{"cmd", "logs"}, {"name", "counter"}, {"limit", 100}});
  std::uint64_t restored = 0;
  for (const auto& line : logs["lines"]) {
    std::smatch m;
    const std::string text = line.get<std::string>();
    if (std::regex_search(text, m, std::regex("restored counter ([0-9]+)")))
      restored = std::stoull(m[1]);
  }
  EXPECT_EQ(restored, at_kill) << logs.dump();
  ASSERT_TRUE(v.poll_until([&] { return saved_counter(checkpoint) > at_kill + 10; }, 10s));
  EXPECT_NE(v.component("counter")["pid"].get<pid_t>(), pid);
}

}  // namespace
}  // namespace vigil::testing
