#include "diagnostics/report.hpp"

#include <gtest/gtest.h>

namespace vigil::diagnostics {
namespace {

using health::Event;
using health::EventKind;
using health::FailureKind;

Event at(std::int64_t s, const std::string& component, EventKind kind,
         FailureKind failure = FailureKind::none,
         nlohmann::json detail = nlohmann::json::object()) {
  Event e;
  e.wall_us = s * 1'000'000;
  e.mono_us = s * 1'000'000 + 7;  // a different origin: intervals must not depend on it
  e.boot_id = "boot";
  e.component = component;
  e.kind = kind;
  e.failure = failure;
  e.detail = std::move(detail);
  return e;
}

TEST(Report, MtbfMttrAndAvailabilityFromEvents) {
  // Window 0..1000 s. lidar fails twice: at 100 s (respawned 101, ready 102) and at 500 s
  // (respawned 504, ready 510). camera never fails.
  std::vector<Event> events = {
      at(0, "lidar", EventKind::spawned),
      at(1, "lidar", EventKind::ready),
      at(0, "camera", EventKind::spawned),
      at(1, "camera", EventKind::ready),
      at(100, "lidar", EventKind::exited, FailureKind::signal),
      at(100, "lidar", EventKind::restart_scheduled),
      at(101, "lidar", EventKind::spawned, FailureKind::none, {{"restart", 1}}),
      at(102, "lidar", EventKind::ready),
      at(500, "lidar", EventKind::hang_detected, FailureKind::hang),
      at(502, "lidar", EventKind::exited),
      at(504, "lidar", EventKind::spawned, FailureKind::none, {{"restart", 2}}),
      at(510, "lidar", EventKind::ready),
  };
  auto r = compute_report(events, 0, 1000'000'000);
  const auto& lidar = r.components.at("lidar");
  EXPECT_EQ(lidar.failures, 2);
  EXPECT_EQ(lidar.failures_by_kind.at("signal"), 1);
  EXPECT_EQ(lidar.failures_by_kind.at("hang"), 1);
  EXPECT_EQ(lidar.restarts, 2);
  EXPECT_DOUBLE_EQ(*lidar.mttr_running_s, (1.0 + 4.0) / 2);
  EXPECT_DOUBLE_EQ(*lidar.mttr_ready_s, (2.0 + 10.0) / 2);
  EXPECT_DOUBLE_EQ(lidar.downtime_s, 12.0);
  EXPECT_DOUBLE_EQ(lidar.availability, 1.0 - 12.0 / 1000.0);
  EXPECT_DOUBLE_EQ(*lidar.mtbf_s, (1000.0 - 12.0) / 2);
  const auto& camera = r.components.at("camera");
  EXPECT_EQ(camera.failures, 0);
  EXPECT_FALSE(camera.mtbf_s);
  EXPECT_DOUBLE_EQ(camera.availability, 1.0);
  EXPECT_EQ(r.system.failures, 2);
  EXPECT_DOUBLE_EQ(r.system.availability, 1.0 - 12.0 / 1000.0);
  EXPECT_NE(r.to_text().find("lidar"), std::string::npos);
  EXPECT_EQ(r.to_json()["components"]["lidar"]["restarts"], 2);
}

TEST(Report, OverlappingDowntimeCountsOnceForTheSystem) {
  std::vector<Event> events = {
      at(10, "a", EventKind::exited, FailureKind::exit_code),
      at(20, "b", EventKind::exited, FailureKind::crash),
      at(30, "a", EventKind::ready),
      at(40, "b", EventKind::ready),
  };
  auto r = compute_report(events, 0, 100'000'000);
  EXPECT_DOUBLE_EQ(r.components.at("a").downtime_s, 20);
  EXPECT_DOUBLE_EQ(r.components.at("b").downtime_s, 20);
  EXPECT_DOUBLE_EQ(r.system.downtime_s, 30);  // 10..40
}

TEST(Report, StillDownAtTheEndOfTheWindow) {
  std::vector<Event> events = {at(90, "a", EventKind::start_timeout, FailureKind::not_ready)};
  auto r = compute_report(events, 0, 100'000'000);
  EXPECT_DOUBLE_EQ(r.components.at("a").downtime_s, 10);
  EXPECT_FALSE(r.components.at("a").mttr_ready_s);
}

}  // namespace
}  // namespace vigil::diagnostics

namespace vigil::diagnostics {
namespace {

TEST(Report, AComponentAlreadyDownWhenTheWindowOpensCountsAsDown) {
  // Failed at 50 s, ready again at 120 s; the window is 100..200 s.
  std::vector<health::Event> events = {
      at(50, "a", health::EventKind::exited, health::FailureKind::signal),
      at(120, "a", health::EventKind::ready),
      at(150, "b", health::EventKind::ready),
  };
  auto r = compute_report(events, 100'000'000, 200'000'000);
  const auto& a = r.components.at("a");
  EXPECT_DOUBLE_EQ(a.downtime_s, 20);  // 100..120, clipped to the window
  EXPECT_EQ(a.failures, 0) << "the failure happened before the window";
  EXPECT_FALSE(a.mttr_ready_s);
  EXPECT_DOUBLE_EQ(r.system.availability, 0.8);
}

}  // namespace
}  // namespace vigil::diagnostics
