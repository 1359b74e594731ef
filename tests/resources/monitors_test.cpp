#include "resources/monitors.hpp"

#include <gtest/gtest.h>

namespace vigil::resources {
namespace {

using namespace std::chrono_literals;
using detection::MonitorLevel;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

TEST(ComponentMonitors, RssCrossesWarnThenFailWithEvidence) {
  config::ResourcesSpec spec;
  spec.rss = config::ThresholdSpec{150.0 * 1024 * 1024, 190.0 * 1024 * 1024};
  ComponentMonitors m(spec);
  TreeSample s;
  s.rss_bytes = 100ull << 20;
  EXPECT_TRUE(m.observe(s, at(0s)).empty());
  s.rss_bytes = 160ull << 20;
  auto out = m.observe(s, at(1s));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].source, "rss");
  EXPECT_EQ(out[0].to, MonitorLevel::warn);
  EXPECT_EQ(out[0].reason, "rss 160.0MiB >= warn 150.0MiB");
  s.rss_bytes = 200ull << 20;
  out = m.observe(s, at(2s));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, MonitorLevel::fail);
  EXPECT_EQ(out[0].action, config::MonitorAction::restart);
  EXPECT_EQ(out[0].evidence["recent"].size(), 3u);
  EXPECT_EQ(out[0].evidence["sample"]["rss_bytes"], 200ull << 20);
}

TEST(ComponentMonitors, LeakNeedsSteadyGrowthOverTheWindow) {
  config::ResourcesSpec spec;
  spec.leak = config::LeakSpec{1024.0 * 1024 / 60, std::chrono::minutes(2)};  // 1 MiB/min
  ComponentMonitors leaking(spec);
  ComponentMonitors bursty(spec);
  std::vector<MonitorOutcome> leak_out, burst_out;
  for (int i = 0; i <= 150; ++i) {
    TreeSample steady;
    steady.rss_bytes = (100ull << 20) + static_cast<std::uint64_t>(i) * 40 * 1024;  // 2.3 MiB/min
    for (auto& o : leaking.observe(steady, at(i * 1s))) leak_out.push_back(o);
    TreeSample burst;  // one 50 MiB allocation at start-up, then flat
    burst.rss_bytes = (i < 5 ? 100ull : 150ull) << 20;
    for (auto& o : bursty.observe(burst, at(i * 1s))) burst_out.push_back(o);
  }
  ASSERT_EQ(leak_out.size(), 1u);
  EXPECT_EQ(leak_out[0].source, "leak");
  EXPECT_EQ(leak_out[0].to, MonitorLevel::fail);
  EXPECT_EQ(leak_out[0].action, config::MonitorAction::warn);  // the default for leaks
  EXPECT_NEAR(leak_out[0].evidence["rate_bytes_per_s"].get<double>(), 40.0 * 1024, 100.0);
  EXPECT_TRUE(burst_out.empty());
}

TEST(HostMonitors, LowMemoryAndDiskWarnWithDefaults) {
  HostMonitors m{config::HostSpec{}};
  HostSample s;
  s.cpus = 2;
  s.mem_total_bytes = 1000;
  s.mem_available_bytes = 80;  // 8 %: below the 10 % warn, for 3 samples by default
  s.disk_total_bytes = 1000;
  s.disk_available_bytes = 40;  // 4 %: below the 5 % fail
  std::vector<MonitorOutcome> out;
  for (int i = 0; i < 3; ++i) {
    for (auto& o : m.observe(s, at(i * 1s))) out.push_back(o);
  }
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].source, "disk_available");
  EXPECT_EQ(out[0].to, MonitorLevel::fail);
  EXPECT_EQ(out[1].source, "memory_available");
  EXPECT_EQ(out[1].to, MonitorLevel::warn);
  EXPECT_EQ(m.describe()["monitors"]["memory_available"], "warn");
  EXPECT_EQ(m.describe()["monitors"].count("temperature"), 1u);
}

}  // namespace
}  // namespace vigil::resources
