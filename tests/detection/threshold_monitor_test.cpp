#include "detection/threshold_monitor.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vigil::detection {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

TEST(ThresholdMonitor, EntersWarnThenFail) {
  ThresholdMonitor m({.warn = 150, .fail = 190});
  EXPECT_FALSE(m.sample(100, at(0s)));
  auto c = m.sample(160, at(1s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::warn);
  EXPECT_EQ(c->threshold, 150);
  c = m.sample(195, at(2s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->from, MonitorLevel::warn);
  EXPECT_EQ(c->to, MonitorLevel::fail);
  EXPECT_EQ(m.recent(at(2s)).size(), 3u);
}

TEST(ThresholdMonitor, DurationDebounceIgnoresShortSpikes) {
  ThresholdMonitor m({.fail = 100, .hold = 5s});
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(m.sample(150, at(i * 1s)));
  EXPECT_FALSE(m.sample(50, at(4s)));  // the spike ended after 4 s: nothing
  for (int i = 5; i < 10; ++i) EXPECT_FALSE(m.sample(150, at(i * 1s)));
  auto c = m.sample(150, at(10s));  // 5 s beyond the threshold
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::fail);
}

TEST(ThresholdMonitor, CountDebounceNeedsConsecutiveSamples) {
  ThresholdMonitor m({.warn = 10, .samples = 3});
  EXPECT_FALSE(m.sample(11, at(0s)));
  EXPECT_FALSE(m.sample(11, at(1s)));
  EXPECT_FALSE(m.sample(9, at(2s)));
  EXPECT_FALSE(m.sample(11, at(3s)));
  EXPECT_FALSE(m.sample(11, at(4s)));
  EXPECT_TRUE(m.sample(11, at(5s)));
}

TEST(ThresholdMonitor, HysteresisStopsFlappingOnANoisySignal) {
  // A signal hovering around the threshold: 100 +- 5. Without hysteresis and debounce it
  // would change level on about every other sample.
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(-5, 5);
  ThresholdMonitor naive({.warn = 100, .warn_clear = 100});
  ThresholdMonitor steady({.warn = 100, .samples = 3});  // clears below 90
  int naive_changes = 0, steady_changes = 0;
  for (int i = 0; i < 1000; ++i) {
    const double v = 100 + noise(rng);
    naive_changes += naive.sample(v, at(i * 1s)) ? 1 : 0;
    steady_changes += steady.sample(v, at(i * 1s)) ? 1 : 0;
  }
  EXPECT_GT(naive_changes, 100);
  EXPECT_EQ(steady_changes, 1);  // entered warn once, and stayed
  EXPECT_EQ(steady.level(), MonitorLevel::warn);
  // Leaving needs the signal clearly below the clear value, for as long as entering did.
  EXPECT_FALSE(steady.sample(85, at(2000s)));
  EXPECT_FALSE(steady.sample(85, at(2001s)));
  auto c = steady.sample(85, at(2002s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::ok);
  EXPECT_EQ(c->threshold, 90);
}

TEST(ThresholdMonitor, LeavingFailLandsOnWarnWhileStillHigh) {
  ThresholdMonitor m({.warn = 100, .fail = 200});
  m.sample(250, at(0s));
  ASSERT_EQ(m.level(), MonitorLevel::fail);
  auto c = m.sample(150, at(1s));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, MonitorLevel::warn);
}

TEST(ThresholdMonitor, LowIsBadMirrorsTheComparisons) {
  ThresholdMonitor m({.warn = 20, .fail = 5, .low_is_bad = true});  // free disk, percent
  EXPECT_FALSE(m.sample(50, at(0s)));
  EXPECT_EQ(m.sample(15, at(1s))->to, MonitorLevel::warn);
  EXPECT_EQ(m.sample(4, at(2s))->to, MonitorLevel::fail);
  // Above fail's clear value (5.5) but not above warn's (22): back to warn, not to ok.
  EXPECT_EQ(m.sample(21, at(3s))->to, MonitorLevel::warn);
  EXPECT_EQ(m.sample(30, at(4s))->to, MonitorLevel::ok);
}

TEST(GrowthRate, MeasuresSustainedGrowthOnlyOverAFullWindow) {
  GrowthRate g(60s);
  for (int i = 0; i <= 30; ++i) g.sample(1000.0 + i * 100.0, at(i * 1s));
  EXPECT_FALSE(g.per_second());  // half a window: could be start-up
  for (int i = 31; i <= 60; ++i) g.sample(1000.0 + i * 100.0, at(i * 1s));
  ASSERT_TRUE(g.per_second());
  EXPECT_NEAR(*g.per_second(), 100.0, 1e-6);
  EXPECT_NEAR(g.r_squared(), 1.0, 1e-9);
}

TEST(GrowthRate, FlatSignalHasNoGrowth) {
  GrowthRate g(10s);
  for (int i = 0; i <= 20; ++i) g.sample(i % 2 == 0 ? 500.0 : 510.0, at(i * 500ms));
  ASSERT_TRUE(g.per_second());
  EXPECT_NEAR(*g.per_second(), 0.0, 1.0);
  EXPECT_LT(g.r_squared(), 0.2);
}

}  // namespace
}  // namespace vigil::detection
