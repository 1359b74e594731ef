// The chaos report from a hand-written event log: injections matched to their detections and
// recoveries, false alarms told from collateral failures, lost events, mode shares, targets.
#include "chaos/soak_report.hpp"

#include <gtest/gtest.h>

namespace vigil::chaos {
namespace {

using health::Event;
using health::EventKind;
using health::FailureKind;

constexpr std::int64_t kMs = 1000;  // µs

class Log {
 public:
  Event& add(const std::string& component, EventKind kind, std::int64_t at_ms,
             FailureKind failure = FailureKind::none, nlohmann::json detail = {}) {
    Event e;
    e.id = ++id_;
    e.component = component;
    e.kind = kind;
    e.wall_us = at_ms * kMs;
    e.mono_us = at_ms * kMs;
    e.failure = failure;
    e.detail = detail.is_null() ? nlohmann::json::object() : detail;
    events.push_back(e);
    return events.back();
  }
  void skip_ids(int n) { id_ += n; }
  std::vector<Event> events;

 private:
  std::int64_t id_ = 0;
};

TEST(Distribution, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const auto d = Distribution::of(v);
  EXPECT_EQ(d.count, 100);
  EXPECT_EQ(d.p50, 50);
  EXPECT_EQ(d.p95, 95);
  EXPECT_EQ(d.p99, 99);
  EXPECT_EQ(d.max, 100);
  EXPECT_EQ(Distribution::of({7}).p99, 7);
  EXPECT_EQ(Distribution::of({}).count, 0);
}

TEST(SoakReport, MatchesEachInjectionToItsDetectionAndRecovery) {
  Log log;
  for (const char* c : {"lidar", "planner"}) {
    log.add(c, EventKind::spawned, 0);
    log.add(c, EventKind::ready, 10);
  }
  // kill lidar at 1 s: exited 3 ms later, ready 120 ms after that.
  log.add("lidar", EventKind::fault_injected, 1000, FailureKind::none, {{"fault", "kill"}});
  log.add("lidar", EventKind::exited, 1003, FailureKind::signal);
  log.add("lidar", EventKind::spawned, 1050);
  log.add("lidar", EventKind::ready, 1123);
  // heartbeat loss on planner at 2 s: a hang 600 ms later, ready 400 ms after that.
  log.add("planner", EventKind::fault_injected, 2000, FailureKind::none,
          {{"fault", "heartbeat_loss"}});
  log.add("planner", EventKind::hang_detected, 2600, FailureKind::hang);
  // ... during which lidar fails too: collateral, not a false alarm.
  log.add("lidar", EventKind::exited, 2700, FailureKind::exit_code);
  log.add("lidar", EventKind::ready, 2800);
  log.add("planner", EventKind::ready, 3000);
  // A hang of lidar nobody detects (it lasted less than the watchdog timeout).
  log.add("lidar", EventKind::fault_injected, 40'000, FailureKind::none, {{"fault", "hang"}});
  // Much later, planner crashes on its own: a false alarm.
  log.add("planner", EventKind::exited, 100'000, FailureKind::core_dump);
  log.add("planner", EventKind::ready, 100'100);

  const auto r = compute_soak_report(log.events, 0, 120'000 * kMs);
  ASSERT_EQ(r.by_fault.size(), 3u);
  const auto& kill = r.by_fault.at("kill");
  EXPECT_EQ(kill.injected, 1);
  EXPECT_EQ(kill.detected, 1);
  EXPECT_EQ(kill.recovered, 1);
  EXPECT_EQ(kill.detection_ms.max, 3);
  EXPECT_EQ(kill.recovery_ms.max, 120);
  const auto& loss = r.by_fault.at("heartbeat_loss");
  EXPECT_EQ(loss.detection_ms.p50, 600);
  EXPECT_EQ(loss.recovery_ms.p50, 400);
  EXPECT_EQ(r.by_fault.at("hang").detected, 0);
  ASSERT_EQ(r.missed.size(), 1u);
  EXPECT_EQ(r.all.injected, 3);
  EXPECT_EQ(r.all.detected, 2);
  EXPECT_EQ(r.all.recovered, 2);
  EXPECT_EQ(r.collateral, 1);
  EXPECT_EQ(r.false_alarms, 1);
  ASSERT_EQ(r.false_alarm_events.size(), 1u);
  EXPECT_EQ(r.false_alarm_events[0]["component"], "planner");
  EXPECT_EQ(r.lost_events, 0);

  // Targets: one missed detection and a 33 % false-positive rate are not met; MTTR is.
  auto target = [&](const std::string& name) {
    for (const auto& t : r.targets) {
      if (t.name == name) return t;
    }
    return Target{};
  };
  EXPECT_EQ(target("detection").met, std::optional<bool>(false));
  EXPECT_EQ(target("MTTR").met, std::optional<bool>(true));
  EXPECT_EQ(target("false positives").met, std::optional<bool>(false));
  EXPECT_EQ(target("MTBF").met, std::optional<bool>(false)) << target("MTBF").measured;
  const std::string md = r.to_markdown();
  EXPECT_NE(md.find("| detection | 100 % of injected faults | 2 of 3 | NOT MET |"),
            std::string::npos)
      << md;
  EXPECT_EQ(r.to_json()["faults"]["kill"]["detection_ms"]["max"], 3);
  // The page: the same verdicts, one dot per detection and recovery, nothing to fetch.
  const std::string html = r.to_html();
  EXPECT_NE(html.find("<td class=\"notmet\">NOT MET</td>"), std::string::npos);
  EXPECT_NE(html.find("<title>600 ms</title>"), std::string::npos) << "heartbeat_loss detection";
  EXPECT_NE(html.find("<title>120 ms</title>"), std::string::npos) << "kill recovery";
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);
  // The timeline: every injection in order, the missed hang as a cross.
  ASSERT_EQ(r.injections.size(), 3u);
  EXPECT_EQ(r.injections[2].fault, "hang");
  EXPECT_EQ(r.injections[2].target, "lidar");
  EXPECT_FALSE(r.injections[2].detection_ms.has_value());
  EXPECT_EQ(r.injections[0].recovery_ms, std::optional<double>(120));
  EXPECT_NE(html.find("timeline of 3 injections"), std::string::npos);
  EXPECT_NE(html.find("<title>kill"), std::string::npos);
  EXPECT_NE(html.find("recovered in 120 ms</title>"), std::string::npos) << html;
  EXPECT_NE(html.find("<title>hang lidar: not detected</title>"), std::string::npos);
}

TEST(SoakReport, AFaultDetectedOnlyAfterTheWindowIsMissedAndTheNextFaultEndsTheSearch) {
  Log log;
  log.add("arm", EventKind::ready, 0);
  log.add("arm", EventKind::fault_injected, 1000, FailureKind::none, {{"fault", "hang"}});
  log.add("arm", EventKind::fault_injected, 2000, FailureKind::none, {{"fault", "kill"}});
  log.add("arm", EventKind::exited, 2002, FailureKind::signal);
  log.add("arm", EventKind::ready, 2100);
  log.add("arm", EventKind::fault_injected, 10'000, FailureKind::none, {{"fault", "kill"}});
  log.add("arm", EventKind::exited, 50'000, FailureKind::signal);  // 40 s later: too late
  const auto r = compute_soak_report(log.events, 0, 60'000 * kMs);
  EXPECT_EQ(r.by_fault.at("hang").detected, 0) << "the kill's detection is the kill's";
  EXPECT_EQ(r.by_fault.at("kill").injected, 2);
  EXPECT_EQ(r.by_fault.at("kill").detected, 1);
  EXPECT_EQ(r.missed.size(), 2u);
  EXPECT_EQ(r.false_alarms, 1) << "the late exit matched nothing";
}

TEST(SoakReport, CountsLostEventsAndModeShares) {
  Log log;
  log.add("lidar", EventKind::ready, 0);
  log.add("system", EventKind::mode_changed, 10'000, FailureKind::none,
          {{"from", "nominal"}, {"to", "degraded"}})
      .state = "degraded";
  log.skip_ids(2);
  log.add("system", EventKind::mode_changed, 15'000, FailureKind::none,
          {{"from", "degraded"}, {"to", "safe_stop"}})
      .state = "safe_stop";
  log.add("system", EventKind::mode_changed, 16'000, FailureKind::none,
          {{"from", "safe_stop"}, {"to", "nominal"}})
      .state = "nominal";
  const auto r = compute_soak_report(log.events, 0, 20'000 * kMs);
  EXPECT_EQ(r.lost_events, 2);
  EXPECT_DOUBLE_EQ(r.mode_share.at("nominal"), 0.7);
  EXPECT_DOUBLE_EQ(r.mode_share.at("degraded"), 0.25);
  EXPECT_DOUBLE_EQ(r.mode_share.at("safe_stop"), 0.05);
  ASSERT_TRUE(r.nominal_or_degraded.has_value());
  EXPECT_DOUBLE_EQ(*r.nominal_or_degraded, 0.95);
  ASSERT_EQ(r.mode_spans.size(), 4u);
  EXPECT_EQ(r.mode_spans[1].mode, "degraded");
  EXPECT_EQ(r.mode_spans[1].from_us, 10'000 * kMs);
  EXPECT_EQ(r.mode_spans[1].to_us, 15'000 * kMs);
  EXPECT_EQ(r.mode_spans[3].to_us, 20'000 * kMs);
  EXPECT_EQ(r.targets[3].name, "availability");
  EXPECT_EQ(r.targets[3].met, std::optional<bool>(false));
  EXPECT_EQ(r.targets[4].name, "availability of nominal or degraded (vigil)");
  EXPECT_EQ(r.targets[4].measured, "95.000 %");
  EXPECT_EQ(r.targets[4].met, std::optional<bool>(false));
}

TEST(SoakReport, MarksVigilsOwnMttrTargetForCrashesAndHangsOnly) {
  Log log;
  log.add("a", EventKind::ready, 0);
  // A crash recovered in 300 ms, a hang in 800 ms: p99 800 ms, met.
  log.add("a", EventKind::fault_injected, 1000, FailureKind::none, {{"fault", "kill"}});
  log.add("a", EventKind::exited, 1001, FailureKind::signal);
  log.add("a", EventKind::ready, 1301);
  log.add("a", EventKind::fault_injected, 40'000, FailureKind::none,
          {{"fault", "hang"}, {"duration_ms", 3000}});
  log.add("a", EventKind::hang_detected, 41'000, FailureKind::hang);
  log.add("a", EventKind::ready, 41'800);
  // A heartbeat loss whose recovery takes 5 s does not count here.
  log.add("a", EventKind::fault_injected, 80'000, FailureKind::none,
          {{"fault", "heartbeat_loss"}, {"duration_ms", 3000}});
  log.add("a", EventKind::hang_detected, 81'000, FailureKind::hang);
  log.add("a", EventKind::ready, 86'000);
  auto vigils = [](const SoakReport& report) {
    const auto it = std::find_if(report.targets.begin(), report.targets.end(), [](const Target& t) {
      return t.name == "MTTR of crashes and hangs (vigil)";
    });
    return it == report.targets.end() ? Target{} : *it;
  };
  const auto r = compute_soak_report(log.events, 0, 100'000 * kMs);
  EXPECT_EQ(vigils(r).measured, "p99 800 ms, max 800 ms (2 recoveries: too few for a p99)");
  EXPECT_EQ(vigils(r).met, std::nullopt) << "two samples cannot show a p99";
  EXPECT_EQ(r.all.recovery_ms.max, 5000.0) << "the seed's MTTR counts every fault";

  // 100 more crashes recovered in 300 ms: p99 300 ms, met.
  for (int k = 0; k < 100; ++k) {
    const std::int64_t at = 100'000 + k * 40'000;
    log.add("a", EventKind::fault_injected, at, FailureKind::none, {{"fault", "kill"}});
    log.add("a", EventKind::exited, at + 1, FailureKind::signal);
    log.add("a", EventKind::ready, at + 301);
  }
  const auto many = compute_soak_report(log.events, 0, 5'000'000 * kMs);
  EXPECT_EQ(vigils(many).measured, "p99 300 ms, max 800 ms (102 recoveries)");
  EXPECT_EQ(vigils(many).met, std::optional<bool>(true));
}

TEST(SoakReport, ATimedFaultHittingTheRestartedProcessAgainIsNotAFalseAlarm) {
  Log log;
  log.add("odometry", EventKind::ready, 0);
  log.add("odometry", EventKind::fault_injected, 1000, FailureKind::none,
          {{"fault", "heartbeat_loss"}, {"duration_ms", 4000}});
  log.add("odometry", EventKind::hang_detected, 2000, FailureKind::hang);
  log.add("odometry", EventKind::ready, 2300);
  // Its heartbeats are still dropped: the new process is a hang too, within the 4 s.
  log.add("odometry", EventKind::hang_detected, 3300, FailureKind::hang);
  log.add("odometry", EventKind::ready, 3600);
  // The beats of the process started at 3.6 s were dropped until 5 s: its hang at 6.5 s (timeout
  // 3 s) is the fault's too.
  log.add("odometry", EventKind::hang_detected, 6500, FailureKind::hang, {{"timeout_ms", 3000.0}});
  log.add("odometry", EventKind::ready, 6800);
  SoakOptions options;
  options.initial_mode = "nominal";
  const auto r = compute_soak_report(log.events, 0, 60'000 * kMs, options);
  EXPECT_EQ(r.all.detected, 1);
  EXPECT_EQ(r.false_alarms, 0);
  EXPECT_EQ(r.collateral, 2);
  // No mode changed in the run: it was nominal throughout.
  EXPECT_DOUBLE_EQ(r.mode_share.at("nominal"), 1.0);
  EXPECT_DOUBLE_EQ(r.nominal_or_degraded.value_or(0), 1.0);
}

TEST(SoakReport, AFaultToRideOutCountsAsRiddenOutOnlyWithoutAFailure) {
  Log log;
  log.add("beater", EventKind::ready, 0);
  log.add("camera", EventKind::ready, 0);
  // 20 % loss for 30 s that the lease absorbs: ridden out.
  log.add("beater", EventKind::fault_injected, 1000, FailureKind::none,
          {{"fault", "packet_loss"}, {"duration_ms", 30'000}, {"expect", "none"}});
  // The same into the camera, which fails meanwhile: not ridden out (and not a false alarm).
  log.add("camera", EventKind::fault_injected, 40'000, FailureKind::none,
          {{"fault", "packet_loss"}, {"duration_ms", 30'000}, {"expect", "none"}});
  log.add("camera", EventKind::hang_detected, 45'000, FailureKind::hang);
  log.add("camera", EventKind::ready, 45'300);
  const auto r = compute_soak_report(log.events, 0, 100'000 * kMs);
  EXPECT_EQ(r.to_ride_out, 2);
  EXPECT_EQ(r.ridden_out, 1);
  ASSERT_EQ(r.not_ridden_out.size(), 1u);
  EXPECT_EQ(r.not_ridden_out[0]["component"], "camera");
  EXPECT_EQ(r.false_alarms, 0);
  EXPECT_EQ(r.all.injected, 0) << "not counted as faults to detect";
  EXPECT_TRUE(r.missed.empty());
  const auto it = std::find_if(r.targets.begin(), r.targets.end(),
                               [](const Target& t) { return t.name == "ridden out"; });
  ASSERT_NE(it, r.targets.end());
  EXPECT_EQ(it->measured, "1 of 2");
  EXPECT_EQ(it->met, std::optional<bool>(false));
  const std::string html = r.to_html();
  EXPECT_NE(html.find("<title>packet_loss beater: ridden out</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>packet_loss camera: not ridden out</title>"), std::string::npos);
  EXPECT_NE(
      r.to_markdown().find("Faults to ride out with no failure (`expect: none`): 2, ridden out 1."),
      std::string::npos);
}

}  // namespace
}  // namespace vigil::chaos
