#include "diagnostics/event_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace vigil::diagnostics {
namespace {

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-eventlog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db() const { return (dir_ / "events.db").string(); }
  std::filesystem::path dir_;
};

health::Event event(std::int64_t wall_us, const std::string& component, health::EventKind kind,
                    nlohmann::json detail = nlohmann::json::object()) {
  health::Event e;
  e.wall_us = wall_us;
  e.mono_us = wall_us;
  e.boot_id = "b1";
  e.component = component;
  e.kind = kind;
  e.state = "running";
  e.reason = "because";
  e.detail = std::move(detail);
  return e;
}

TEST_F(EventLogTest, StoresQueriesAndAssignsIncreasingIds) {
  auto log = EventLog::open(db(), {});
  ASSERT_TRUE(log.ok()) << log.error();
  std::vector<health::Event> batch = {event(1, "a", health::EventKind::spawned),
                                      event(2, "b", health::EventKind::ready),
                                      event(3, "a", health::EventKind::exited)};
  batch[2].failure = health::FailureKind::core_dump;
  (*log)->store(batch);
  EXPECT_LT(batch[0].id, batch[1].id);
  EXPECT_LT(batch[1].id, batch[2].id);
  auto a = (*log)->query({.component = "a"});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].failure, health::FailureKind::core_dump);
  EXPECT_EQ(a[1].reason, "because");
  EXPECT_EQ((*log)->query({.after_id = batch[1].id}).size(), 1u);
  EXPECT_EQ((*log)->query({.limit = 2}).front().id, batch[1].id) << "newest N, oldest first";
  EXPECT_EQ((*log)->query({.since_wall_us = 2}).size(), 2u);
}

TEST_F(EventLogTest, TracksLiveProcessesFromSpawnedAndExitedEvents) {
  auto log = EventLog::open(db(), {});
  ASSERT_TRUE(log.ok());
  std::vector<health::Event> batch = {
      event(1, "a", health::EventKind::spawned, {{"pid", 10}, {"start_time", 99}}),
      event(2, "b", health::EventKind::spawned, {{"pid", 11}, {"start_time", 98}}),
      event(3, "a", health::EventKind::exited, {{"pid", 10}})};
  (*log)->store(batch);
  auto rows = (*log)->processes();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].component, "b");
  EXPECT_EQ(rows[0].pid, 11);
  EXPECT_EQ(rows[0].start_time, 98u);
}

TEST_F(EventLogTest, RetentionBoundsCountAndAge) {
  config::EventLogSpec retention;
  retention.max_events = 100;
  retention.max_age = std::chrono::seconds(1000);
  auto log = EventLog::open(db(), retention);
  ASSERT_TRUE(log.ok());
  std::vector<health::Event> batch;
  for (int i = 0; i < 300; ++i) {
    batch.push_back(
        event(static_cast<std::int64_t>(i) * 10'000'000, "a", health::EventKind::ready));
  }
  (*log)->store(batch);
  // Age: now = 3000 s keeps events from 2000 s on (100 events); count keeps the newest 100.
  EXPECT_EQ((*log)->prune(3000'000'000), 200);
  EXPECT_EQ((*log)->count(), 100);
  EXPECT_EQ((*log)->query({.limit = 1}).front().wall_us, 2990'000'000);
}

TEST_F(EventLogTest, UnwritableLocationIsAClearError) {
  auto log = EventLog::open("/nonexistent/dir/events.db", {});
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().find("open event log /nonexistent/dir/events.db"), std::string::npos);
}

}  // namespace
}  // namespace vigil::diagnostics

namespace vigil::diagnostics {
namespace {

TEST_F(EventLogTest, StateBeforeGivesEachComponentsLastFailureOrReadiness) {
  auto log = EventLog::open(db(), {});
  ASSERT_TRUE(log.ok());
  std::vector<health::Event> batch = {
      event(1, "a", health::EventKind::ready), event(2, "a", health::EventKind::exited),
      event(3, "b", health::EventKind::ready), event(4, "b", health::EventKind::spawned),
      event(9, "a", health::EventKind::ready)};
  batch[1].failure = health::FailureKind::crash;
  (*log)->store(batch);
  auto before = (*log)->state_before(5);
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].component, "a");
  EXPECT_EQ(before[0].failure, health::FailureKind::crash);
  EXPECT_EQ(before[1].component, "b");
  EXPECT_EQ(before[1].kind, health::EventKind::ready);
}

}  // namespace
}  // namespace vigil::diagnostics
