// The topic monitor in simulated time: rate, jitter and gaps of known arrival patterns, the
// stale deadline, and the levels with their debounce and hysteresis.
#include "detection/topic_monitor.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vigil::detection {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

config::TopicMonitorSpec scan(std::optional<double> min_rate = 8.0,
                              std::optional<Duration> stale_after = 500ms) {
  config::TopicMonitorSpec s;
  s.topic = "/scan";
  s.dds_topic = "rt/scan";
  s.min_rate = min_rate;
  s.stale_after = stale_after;
  s.window = 1s;
  return s;
}

// Publishes at `hz` from `from` to `to`, judging every 100 ms as vigild does; returns the
// changes seen.
std::vector<TopicChange> publish(TopicMonitor& m, double hz, Duration from, Duration to) {
  std::vector<TopicChange> changes;
  const auto period = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1 / hz));
  Duration next_judge = from;
  for (Duration t = from; t < to; t += period) {
    while (next_judge <= t) {
      if (auto c = m.evaluate(at(next_judge))) changes.push_back(*c);
      next_judge += 100ms;
    }
    m.on_message(at(t));
  }
  return changes;
}

TEST(TopicMonitor, MeasuresTheRateOfASteadyPublisherExactly) {
  TopicMonitor m(scan(), at(0s));
  EXPECT_TRUE(publish(m, 10, 0s, 3s).empty());
  const auto f = m.figures(at(3s));
  EXPECT_NEAR(f.rate_hz, 10.0, 0.01);
  EXPECT_NEAR(f.jitter_ms, 0.0, 0.01);
  EXPECT_NEAR(f.largest_gap_ms, 100.0, 0.5);
  EXPECT_EQ(f.messages, 30u);
  EXPECT_TRUE(f.any);
}

TEST(TopicMonitor, JitterIsTheSpreadOfIntervals) {
  TopicMonitor m(scan(), at(0s));
  // Alternating 50 ms and 150 ms: mean 100 ms, standard deviation 50 ms.
  Duration t = 0ms;
  for (int i = 0; i < 40; ++i) {
    m.on_message(at(t));
    t += (i % 2 == 0) ? 50ms : 150ms;
  }
  const auto f = m.figures(at(t - 150ms));
  EXPECT_NEAR(f.jitter_ms, 50.0, 0.5);
  EXPECT_NEAR(f.rate_hz, 10.0, 0.6);
  EXPECT_NEAR(f.largest_gap_ms, 150.0, 0.5);
}

TEST(TopicMonitor, SlowPublisherWarnsAndRecoversWithHysteresis) {
  TopicMonitor m(scan(8.0, std::nullopt), at(0s));
  EXPECT_TRUE(publish(m, 10, 0s, 2s).empty());
  auto changes = publish(m, 5, 2s, 4s);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, MonitorLevel::warn);
  EXPECT_NE(changes[0].reason.find("below 8Hz"), std::string::npos) << changes[0].reason;
  // 8.1 Hz is above the limit but inside the 2 % hysteresis: still WARN.
  EXPECT_TRUE(publish(m, 8.1, 4s, 6s).empty());
  changes = publish(m, 10, 6s, 8s);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, MonitorLevel::ok);
}

TEST(TopicMonitor, RateOutOfRangeMustLastForHold) {
  auto spec = scan(8.0, std::nullopt);
  spec.hold = 2s;
  TopicMonitor m(spec, at(0s));
  publish(m, 10, 0s, 2s);
  EXPECT_TRUE(publish(m, 5, 2s, 3s).empty());  // a one-second dip: nothing
  publish(m, 10, 3s, 5s);
  auto changes = publish(m, 5, 5s, 9s);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, MonitorLevel::warn);
}

TEST(TopicMonitor, TooFastWarnsWithMaxRate) {
  auto spec = scan(std::nullopt, std::nullopt);
  spec.max_rate = 20.0;
  TopicMonitor m(spec, at(0s));
  auto changes = publish(m, 50, 0s, 2s);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].to, MonitorLevel::warn);
  EXPECT_NE(changes[0].reason.find("above 20Hz"), std::string::npos) << changes[0].reason;
}

TEST(TopicMonitor, RateIsNotJudgedBeforeAWholeWindow) {
  TopicMonitor m(scan(8.0, std::nullopt), at(0s));
  EXPECT_FALSE(m.evaluate(at(500ms)));  // nothing has arrived, but it is early
  auto c = m.evaluate(at(1s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::warn);
}

TEST(TopicMonitor, GoesStaleExactlyAtTheDeadlineAndComesBack) {
  TopicMonitor m(scan(), at(0s));
  publish(m, 10, 0s, 2s);  // last message at 1.9 s
  ASSERT_TRUE(m.stale_at());
  EXPECT_EQ(*m.stale_at(), at(1900ms + 500ms));
  EXPECT_FALSE(m.evaluate(at(2399ms)) && m.level() == MonitorLevel::fail);
  auto c = m.evaluate(at(2400ms));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::fail);
  EXPECT_NE(c->reason.find("no message for 500ms (stale after 500ms)"), std::string::npos)
      << c->reason;
  EXPECT_EQ(c->evidence.value("stale_after_ms", 0.0), 500.0);
  // Messages again: out of stale; the rate is still low over the window, so WARN first.
  m.on_message(at(3s));
  c = m.evaluate(at(3s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->from, MonitorLevel::fail);
  EXPECT_EQ(c->to, MonitorLevel::warn);
  auto changes = publish(m, 10, 3100ms, 5s);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().to, MonitorLevel::ok);
}

TEST(TopicMonitor, SilenceFromTheStartIsStaleAfterStaleAfter) {
  TopicMonitor m(scan(std::nullopt, 500ms), at(10s));
  EXPECT_EQ(*m.stale_at(), at(10500ms));
  auto c = m.evaluate(at(10500ms));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::fail);
  EXPECT_NE(c->reason.find("no message at all"), std::string::npos) << c->reason;
}

TEST(TopicMonitor, TheRateFallsWhileThePublisherIsSilent) {
  TopicMonitor m(scan(8.0, std::nullopt), at(0s));
  publish(m, 10, 0s, 2s);
  const double before = m.figures(at(2s)).rate_hz;
  const double during = m.figures(at(2500ms)).rate_hz;
  EXPECT_LT(during, before * 0.8);
  EXPECT_EQ(m.figures(at(4s)).rate_hz, 0.0);  // nothing left in the window
}

// Property: for steady publishers at random rates and phases, the measured rate is within 1 %.
TEST(TopicMonitor, RateIsAccurateWhateverTheRateAndPhase) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> rate(2.0, 500.0);
  std::uniform_real_distribution<double> phase(0.0, 1.0);
  for (int i = 0; i < 200; ++i) {
    const double hz = rate(rng);
    auto spec = scan(std::nullopt, std::nullopt);
    spec.window = 2s;
    TopicMonitor m(spec, at(0s));
    const Duration offset =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(phase(rng) / hz));
    publish(m, hz, offset, 3s);
    const double measured = m.figures(at(3s)).rate_hz;
    EXPECT_NEAR(measured, hz, hz * 0.01) << "at " << hz << " Hz";
  }
}

TEST(TopicMonitor, ArrivalsAreBoundedWhateverTheWindow) {
  auto spec = scan(std::nullopt, std::nullopt);
  spec.window = std::chrono::minutes(10);
  TopicMonitor m(spec, at(0s));
  for (std::size_t i = 0; i < TopicMonitor::kMaxArrivals + 1000; ++i) {
    m.on_message(at(std::chrono::microseconds(100) * i));
  }
  const auto f =
      m.figures(at(std::chrono::microseconds(100) * (TopicMonitor::kMaxArrivals + 1000)));
  EXPECT_EQ(f.messages, TopicMonitor::kMaxArrivals + 1000);
  EXPECT_NEAR(f.rate_hz, 10000.0, 100.0);
}

}  // namespace
}  // namespace vigil::detection
