#include "detection/liveness.hpp"

#include <gtest/gtest.h>

namespace vigil::detection {
namespace {

using namespace std::chrono_literals;
using Level = Verdict::Level;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

TEST(Liveness, FixedTimeoutWarnsThenHangs) {
  config::WatchdogSpec spec;
  spec.timeout = 1s;
  spec.warn_after = 750ms;
  Liveness l(spec);
  l.start(at(0s), 0s);
  EXPECT_TRUE(l.active());
  EXPECT_EQ(l.next_deadline(Level::ok), at(750ms));
  EXPECT_EQ(l.evaluate(at(700ms)).level, Level::ok);
  const auto warn = l.evaluate(at(750ms));
  EXPECT_EQ(warn.level, Level::warn);
  EXPECT_NE(warn.reason.find("late heartbeat"), std::string::npos);
  EXPECT_EQ(l.next_deadline(Level::warn), at(1s));
  const auto hang = l.evaluate(at(1s));
  EXPECT_EQ(hang.level, Level::hang);
  EXPECT_EQ(hang.evidence["timeout_ms"], 1000.0);
  EXPECT_EQ(hang.evidence["since_heartbeat_ms"], 1000.0);
  l.heartbeat(at(900ms));
  EXPECT_EQ(l.evaluate(at(1s)).level, Level::ok);
  EXPECT_EQ(l.next_deadline(Level::ok), at(1650ms));
}

TEST(Liveness, FixedTimeoutHasNoSoftWatchdogUnlessAsked) {
  config::WatchdogSpec spec;
  spec.timeout = 1s;
  Liveness l(spec);
  l.start(at(0s), 0s);
  EXPECT_EQ(l.next_deadline(Level::ok), at(1s));
  EXPECT_EQ(l.evaluate(at(999ms)).level, Level::ok);
}

TEST(Liveness, WarnCanBeTunedOrTurnedOff) {
  config::WatchdogSpec spec;
  spec.timeout = 1s;
  spec.warn_after = 200ms;
  Liveness tuned(spec);
  tuned.start(at(0s), 0s);
  EXPECT_EQ(tuned.next_deadline(Level::ok), at(200ms));
  spec.warn = false;
  Liveness off(spec);
  off.start(at(0s), 0s);
  EXPECT_EQ(off.next_deadline(Level::ok), at(1s));
  EXPECT_EQ(off.evaluate(at(999ms)).level, Level::ok);
  config::WatchdogSpec phi;
  phi.detector = config::DetectorKind::phi;
  phi.warn = false;
  Liveness phi_off(phi);
  phi_off.start(at(0s), 0s);
  EXPECT_EQ(phi_off.evaluate(phi_off.next_deadline(Level::ok)).level, Level::hang);
}

TEST(Liveness, GraceAndExtensionMoveDeadlinesToTheirEnd) {
  config::WatchdogSpec spec;
  spec.timeout = 1s;
  spec.warn = false;
  Liveness l(spec);
  l.start(at(0s), 5s);
  EXPECT_EQ(l.next_deadline(Level::ok), at(5s));
  EXPECT_EQ(l.evaluate(at(4s)).level, Level::ok);
  EXPECT_EQ(l.evaluate(at(5s)).level, Level::hang);
  l.heartbeat(at(5s));
  l.extend_until(at(20s));  // EXTEND_TIMEOUT_USEC: loading a map
  EXPECT_EQ(l.evaluate(at(19s)).level, Level::ok);
  EXPECT_EQ(l.next_deadline(Level::ok), at(20s));
  EXPECT_EQ(l.evaluate(at(20s)).level, Level::hang);  // extension over, no beat since
  l.heartbeat(at(19500ms));
  EXPECT_EQ(l.evaluate(at(20s)).level, Level::ok);
}

TEST(Liveness, OneStalledLoopIsAHangWhileAnotherBeats) {
  config::WatchdogSpec spec;
  spec.warn = false;
  Liveness l(spec);
  l.start(at(0s), 0s);
  EXPECT_FALSE(l.active());
  ASSERT_TRUE(l.declare_loop("planner", 500ms, at(0s)));
  ASSERT_TRUE(l.declare_loop("sensor_cb", 200ms, at(0s)));
  EXPECT_TRUE(l.active());
  for (int i = 1; i <= 10; ++i) {
    EXPECT_TRUE(l.loop_heartbeat("sensor_cb", at(i * 100ms)));
  }
  EXPECT_FALSE(l.loop_heartbeat("unknown", at(1s)));
  const auto v = l.evaluate(at(1s));
  EXPECT_EQ(v.level, Level::hang);
  EXPECT_NE(v.reason.find("'planner'"), std::string::npos) << v.reason;
  EXPECT_EQ(v.evidence["loops"]["sensor_cb"]["beats"], 11);  // the declaration is the first
  EXPECT_EQ(l.next_deadline(Level::ok), at(500ms));
  l.retire_loop("planner");
  EXPECT_EQ(l.evaluate(at(1050ms)).level, Level::ok);
}

TEST(Liveness, LoopDeclarationsAreChecked) {
  Liveness l(config::WatchdogSpec{});
  l.start(at(0s), 0s);
  EXPECT_FALSE(l.declare_loop("", 1s, at(0s)));
  EXPECT_FALSE(l.declare_loop("bad name", 1s, at(0s)));
  EXPECT_FALSE(l.declare_loop("x", 0s, at(0s)));
  for (std::size_t i = 0; i < Liveness::kMaxLoops; ++i) {
    ASSERT_TRUE(l.declare_loop("l" + std::to_string(i), 1s, at(0s)));
  }
  EXPECT_FALSE(l.declare_loop("one_more", 1s, at(0s)));
  EXPECT_TRUE(l.declare_loop("l0", 2s, at(0s)));  // redeclaring changes the deadline
}

TEST(Liveness, ConfiguredLoopsMustBeatFromReadiness) {
  config::WatchdogSpec spec;
  spec.loops["control"] = 300ms;
  spec.warn = false;
  Liveness l(spec);
  l.start(at(10s), 0s);
  EXPECT_EQ(l.next_deadline(Level::ok), at(10300ms));
  EXPECT_EQ(l.evaluate(at(10300ms)).level, Level::hang);
}

TEST(Liveness, PhiDetectorHangsOnSilenceAndCarriesEvidence) {
  config::WatchdogSpec spec;
  spec.detector = config::DetectorKind::phi;
  spec.phi.min_std = 20ms;
  spec.phi.expected_interval = 100ms;
  Liveness l(spec);
  l.start(at(0s), 0s);
  Duration t = 0s;
  for (int i = 0; i < 100; ++i) l.heartbeat(at(t += 100ms));
  EXPECT_EQ(l.evaluate(at(t + 120ms)).level, Level::ok);
  const TimePoint warn_at = l.next_deadline(Level::ok);
  const TimePoint hang_at = l.next_deadline(Level::warn);
  EXPECT_LT(warn_at, hang_at);
  EXPECT_EQ(l.evaluate(warn_at).level, Level::warn);
  const auto v = l.evaluate(hang_at);
  EXPECT_EQ(v.level, Level::hang);
  EXPECT_GE(v.evidence["phi"].get<double>(), 7.99);
  EXPECT_EQ(v.evidence["last_intervals_ms"].size(), 10u);
  EXPECT_EQ(v.evidence["mean_interval_ms"], 100.0);
  // 10 Hz beats, std floor 20 ms: a silence is caught well within 1 s.
  EXPECT_LT(hang_at - at(t), 400ms);
  EXPECT_GT(l.phi(hang_at), 7.99);
}

TEST(Liveness, PhiWithTimeoutUsesTheEarlierDeadline) {
  config::WatchdogSpec spec;
  spec.detector = config::DetectorKind::phi;
  spec.timeout = 150ms;  // the hard bound
  spec.phi.expected_interval = 100ms;
  spec.warn = false;
  Liveness l(spec);
  l.start(at(0s), 0s);
  EXPECT_EQ(l.next_deadline(Level::ok), at(150ms));
}

}  // namespace
}  // namespace vigil::detection

namespace vigil::detection {
namespace {

TEST(Liveness, LoopsDeclaredBeforeReadinessCountFromReadiness) {
  Liveness l(config::WatchdogSpec{});
  ASSERT_TRUE(l.declare_loop("plan", 300ms, at(0s)));  // while starting
  l.start(at(2s), 0s);
  EXPECT_EQ(l.next_deadline(Level::ok), at(2300ms));
  l.forget_process();  // restarted: the new process declares its own
  l.start(at(5s), 0s);
  EXPECT_FALSE(l.active());
}

}  // namespace
}  // namespace vigil::detection
