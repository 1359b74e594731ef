// A monitoring tick's samples and liveness become history series.
#include "history/tick_recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace vigil::history {
namespace {

using nlohmann::json;
constexpr std::int64_t kSecond = 1'000'000;

class TickRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-tickrec-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto h = MetricHistory::open((dir_ / "metrics.db").string(), config::HistorySpec{});
    ASSERT_TRUE(h.ok()) << h.error();
    history_ = std::move(*h);
  }
  void TearDown() override {
    history_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::vector<Point> points(const std::string& component, const std::string& series) {
    auto q = history_->query(component, series, 0, 0, 1000);
    EXPECT_TRUE(q.ok()) << q.error();
    return q.ok() ? q->points : std::vector<Point>{};
  }
  std::filesystem::path dir_;
  std::unique_ptr<MetricHistory> history_;
};

json tree(json liveness) {
  json lidar = {{"type", "component"}, {"name", "lidar"}};
  if (!liveness.is_null()) lidar["liveness"] = std::move(liveness);
  return {{"type", "group"},
          {"name", "root"},
          {"children", json::array({lidar, {{"type", "component"}, {"name", "idle"}}})}};
}

TEST_F(TickRecorderTest, RecordsResourcesLivenessAndHostSeries) {
  TickRecorder recorder(*history_);
  const json host = {{"cpu_percent", 12.5},     {"load", {0.5, 0.4, 0.3}},
                     {"mem_total_bytes", 1000}, {"mem_available_bytes", 250},
                     {"disk_total_bytes", 0},   {"temperatures", {{"a", 40.0}, {"b", 55.0}}}};
  // Heartbeats every 100 ms: 10 more per 1 s tick; the last one 30 ms before each tick.
  for (int t = 0; t < 5; ++t) {
    const std::int64_t now = 1000 * kSecond + t * kSecond;
    std::map<std::string, json> samples = {
        {"lidar", {{"cpu_percent", 3.5}, {"rss_bytes", 1000 + t}, {"threads", 4}, {"fds", 9}}}};
    recorder.on_tick(now, samples, host,
                     tree({{"detector", "phi"},
                           {"heartbeats", 10 * t},
                           {"since_heartbeat_ms", 30.0},
                           {"phi", 0.25},
                           {"mean_interval_ms", 99.0}}));
  }
  ASSERT_TRUE(history_->flush(1010 * kSecond).ok());
  EXPECT_EQ(history_->series("lidar"),
            (std::vector<std::string>{"cpu_percent", "fds", "heartbeat_interval_ms", "phi",
                                      "rss_bytes", "threads"}));
  EXPECT_TRUE(history_->series("idle").empty()) << "not running: no liveness, no samples";
  EXPECT_EQ(history_->series("host"),
            (std::vector<std::string>{"cpu_percent", "load", "memory_available_percent",
                                      "temperature_max_celsius"}))
      << "no disk figure: no disk series";

  const auto rss = points("lidar", "rss_bytes");
  ASSERT_EQ(rss.size(), 5u);
  EXPECT_DOUBLE_EQ(rss.back().avg, 1004);
  const auto interval = points("lidar", "heartbeat_interval_ms");
  ASSERT_EQ(interval.size(), 5u);
  EXPECT_DOUBLE_EQ(interval[0].avg, 99.0) << "first tick: the detector's learned mean";
  EXPECT_NEAR(interval[1].avg, 100.0, 1e-6) << "then the observed mean since the last tick";
  EXPECT_NEAR(interval[4].avg, 100.0, 1e-6);
  EXPECT_DOUBLE_EQ(points("lidar", "phi").back().avg, 0.25);
  EXPECT_DOUBLE_EQ(points("host", "memory_available_percent").back().avg, 25.0);
  EXPECT_DOUBLE_EQ(points("host", "load").back().avg, 0.5);
  EXPECT_DOUBLE_EQ(points("host", "temperature_max_celsius").back().avg, 55.0);
}

TEST_F(TickRecorderTest, TimeoutDetectorGetsIntervalsFromHeartbeatCounts) {
  TickRecorder recorder(*history_);
  // A heartbeat every 2 s, ticks every second: an interval is recorded when one arrived.
  const int beats[] = {1, 1, 2, 2, 3};
  const double since_ms[] = {0, 1000, 0, 1000, 0};
  for (int t = 0; t < 5; ++t) {
    recorder.on_tick(2000 * kSecond + t * kSecond, {}, json::object(),
                     tree({{"detector", "timeout"},
                           {"heartbeats", beats[t]},
                           {"since_heartbeat_ms", since_ms[t]}}));
  }
  ASSERT_TRUE(history_->flush(2010 * kSecond).ok());
  const auto interval = points("lidar", "heartbeat_interval_ms");
  ASSERT_EQ(interval.size(), 2u);
  EXPECT_NEAR(interval[0].avg, 2000.0, 1e-6);
  EXPECT_NEAR(interval[1].avg, 2000.0, 1e-6);
  EXPECT_TRUE(points("lidar", "phi").empty());
}

}  // namespace
}  // namespace vigil::history
