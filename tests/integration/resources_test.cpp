// Resource monitoring and limits with real processes: a memory hog crosses warn then fail and
// is restarted; a forking program runs into its process limit while vigild carries on; the
// status carries each component's resources and a `host` node.
#include <gtest/gtest.h>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

TEST(Resources, MemoryHogCrossesWarnThenFailAndIsRestarted) {
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: mapper
      command: [@BIN@/robot_sim, --grow-rss, "40", --once, "@DIR@/hogged"]
      ready: notify
      resources:
        rss: {warn: 60MiB, fail: 120MiB, for: 600ms}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("mapper", "ready");
  auto warning = v.wait_for("mapper", "warning", 15s);
  EXPECT_EQ(warning["detail"]["source"], "rss");
  EXPECT_EQ(warning["state"], "running");
  EXPECT_GE(warning["detail"]["evidence"]["sample"]["rss_bytes"].get<double>(), 60.0 * 1024 * 1024);
  auto exceeded = v.wait_for("mapper", "resource_exceeded", 15s, warning["id"]);
  EXPECT_EQ(exceeded["failure"], "resource");
  EXPECT_NE(exceeded["reason"].get<std::string>().find("rss"), std::string::npos);
  EXPECT_EQ(exceeded["detail"]["action"], "restart");
  const auto& recent = exceeded["detail"]["recent"];
  ASSERT_GE(recent.size(), 3u) << "the evidence holds the samples that crossed the threshold";
  EXPECT_GE(recent.back()["value"].get<double>(), 120.0 * 1024 * 1024);
  // Detected at the fail threshold, long before the machine is in trouble.
  EXPECT_LT(exceeded["detail"]["sample"]["rss_bytes"].get<double>(), 400.0 * 1024 * 1024);
  auto respawned = v.wait_for("mapper", "spawned", 10s, exceeded["id"]);
  EXPECT_NE(respawned["detail"]["pid"], ready["detail"]["pid"]);
  v.wait_for("mapper", "ready", 10s, respawned["id"]);
  EXPECT_EQ(v.component("mapper")["last_failure"]["kind"], "resource");
}

TEST(Resources, ForkingProgramHitsItsProcessLimitAndVigildCarriesOn) {
  // RLIMIT_NPROC counts the processes of a user and root ignores it, so the program runs as
  // `nobody` (user:), as a robot's programs should.
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: forker
      command: [@BIN@/robot_sim, --fork-children, "40"]
      cwd: /
      user: nobody
      limits: {processes: 8, open_files: 64, core: 0}
      resources:
        processes: {warn: 6}
    - name: lidar
      command: [@BIN@/robot_sim, --heartbeat, 50ms]
      ready: notify
      watchdog: {timeout: 1s}
)");
  v.start();
  v.wait_for("lidar", "ready");
  v.wait_for("forker", "spawned");
  json lines;
  ASSERT_TRUE(v.poll_until(
      [&] {
        lines = v.request({{"cmd", "logs"}, {"name", "forker"}, {"limit", 20}})["lines"];
        for (const auto& l : lines) {
          if (l.get<std::string>().find("forks failed") != std::string::npos) return true;
        }
        return false;
      },
      10s))
      << lines.dump();
  std::string report;
  for (const auto& l : lines) {
    if (l.get<std::string>().find("forks failed") != std::string::npos) report = l;
  }
  int forked = -1, failed = -1;
  ASSERT_EQ(std::sscanf(report.substr(report.find("forked")).c_str(),
                        "forked %d children, %d forks failed", &forked, &failed),
            2)
      << report;
  EXPECT_LT(forked, 8) << report;  // the limit held: the main process counts too
  EXPECT_EQ(forked + failed, 40);
  // The monitor sees the tree, and warns.
  auto warning = v.wait_for("forker", "warning", 10s);
  EXPECT_EQ(warning["detail"]["source"], "processes");
  const auto resources = v.component("forker")["resources"];
  EXPECT_EQ(resources["processes"], forked + 1);
  // vigild itself is unaffected: it answers, restarts another component, and spawns it.
  auto before = v.component("lidar");
  ASSERT_TRUE(v.request({{"cmd", "restart"}, {"name", "lidar"}})["ok"].get<bool>());
  auto respawned = v.wait_for(
      [&](const json& e) {
        return e.value("component", "") == "lidar" && e.value("kind", "") == "spawned" &&
               e["detail"]["pid"] != before["pid"];
      },
      10s);
  v.wait_for("lidar", "ready", 10s, respawned["id"]);
}

TEST(Resources, StatusCarriesResourcesAndAHostNode) {
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: busy
      command: [@BIN@/robot_sim, --busy]
)");
  v.start();
  v.wait_for("busy", "ready");
  json node;
  ASSERT_TRUE(v.poll_until(
      [&] {
        node = v.component("busy");
        return node.contains("resources") && node["resources"]["cpu_percent"].get<double>() > 20;
      },
      10s))
      << node.dump();
  const auto& r = node["resources"];
  EXPECT_GT(r["rss_bytes"].get<double>(), 0);
  EXPECT_GE(r["threads"].get<int>(), 1);
  EXPECT_GE(r["fds"].get<int>(), 3);
  EXPECT_EQ(r["processes"], 1);
  const auto host = v.status()["host"];
  EXPECT_EQ(host["type"], "host");
  EXPECT_GT(host["mem_total_bytes"].get<double>(), 0);
  EXPECT_GT(host["disk_total_bytes"].get<double>(), 0);
  EXPECT_GE(host["cpus"].get<int>(), 1);
  EXPECT_TRUE(host["monitors"].contains("memory_available"));
  EXPECT_TRUE(host["monitors"].contains("disk_available"));
}

}  // namespace
}  // namespace vigil::testing
