#include "detection/phi_accrual.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vigil::detection {
namespace {

using namespace std::chrono_literals;

TEST(PhiOf, InverseMatchesForward) {
  for (double phi : {0.5, 1.0, 3.0, 5.0, 8.0, 12.0, 16.0}) {
    const double t = elapsed_for_phi(phi, 100.0, 20.0);
    EXPECT_NEAR(phi_of(t, 100.0, 20.0), phi, 1e-6) << phi;
  }
}

TEST(PhiOf, GrowsWithSilenceAndIsSmallAtTheMean) {
  EXPECT_LT(phi_of(100.0, 100.0, 20.0), 0.31);  // half the beats come later than the mean
  EXPECT_GT(phi_of(200.0, 100.0, 20.0), phi_of(150.0, 100.0, 20.0));
  // phi 8 at 10 Hz with std 50 ms is reached within a few hundred ms.
  EXPECT_GT(elapsed_for_phi(8.0, 100.0, 50.0), 300.0);
  EXPECT_LT(elapsed_for_phi(8.0, 100.0, 50.0), 450.0);
}

TimePoint at_ms(double ms) {
  return TimePoint{} +
         std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}

TEST(PhiAccrual, LearnsTheRhythmAndFlagsASilence) {
  PhiAccrualDetector d({.window = 100, .min_std = 5ms, .expected_interval = 1s});
  d.reset(at_ms(0));
  double t = 0;
  for (int i = 0; i < 200; ++i) d.heartbeat(at_ms(t += 100));
  EXPECT_NEAR(d.mean_ms(), 100.0, 0.01);
  EXPECT_FALSE(d.bootstrapping());
  EXPECT_EQ(d.intervals(), 100u);
  EXPECT_LT(d.phi(at_ms(t + 100)), 1.0);
  EXPECT_GT(d.phi(at_ms(t + 200)), 8.0);  // std floored at 5 ms: 100 ms late is certain
  const auto when = d.when_phi_reaches(8.0);
  EXPECT_GT(when, at_ms(t + 100));
  EXPECT_LT(when, at_ms(t + 200));
}

TEST(PhiAccrual, BootstrapSeedsAreDroppedAfterEightBeats) {
  PhiAccrualDetector d({.window = 1000, .min_std = 1ms, .expected_interval = 1s});
  d.reset(at_ms(0));
  EXPECT_TRUE(d.bootstrapping());
  EXPECT_NEAR(d.mean_ms(), 1000.0, 0.01);  // the estimate before any beat
  // The estimate is conservative: the first silence of 1.5 s is not yet suspicious.
  EXPECT_LT(d.phi(at_ms(1500)), 3.0);
  double t = 0;
  for (int i = 0; i < PhiAccrualDetector::kBootstrapIntervals; ++i) d.heartbeat(at_ms(t += 50));
  EXPECT_FALSE(d.bootstrapping());
  EXPECT_NEAR(d.mean_ms(), 50.0, 0.01);
  EXPECT_EQ(d.recent_intervals_ms(3), (std::vector<double>{50.0, 50.0, 50.0}));
}

TEST(PhiAccrual, AcceptablePauseDelaysSuspicion) {
  PhiAccrualDetector plain({.window = 100, .min_std = 10ms, .expected_interval = 100ms});
  PhiAccrualDetector tolerant(
      {.window = 100, .min_std = 10ms, .acceptable_pause = 500ms, .expected_interval = 100ms});
  plain.reset(at_ms(0));
  tolerant.reset(at_ms(0));
  double t = 0;
  for (int i = 0; i < 50; ++i) {
    t += 100;
    plain.heartbeat(at_ms(t));
    tolerant.heartbeat(at_ms(t));
  }
  EXPECT_GT(plain.phi(at_ms(t + 400)), 8.0);
  EXPECT_LT(tolerant.phi(at_ms(t + 400)), 1.0);
  const auto extra = tolerant.when_phi_reaches(8) - plain.when_phi_reaches(8);
  const double extra_ms = std::chrono::duration<double, std::milli>(extra).count();
  EXPECT_NEAR(extra_ms, 500.0, 0.5);
}

TEST(PhiAccrual, AdaptsToJitterInsteadOfFlagging) {
  // Intervals stretched by a busy CPU: 100 ms +- 60 ms. A 300 ms gap is then unremarkable,
  // while with steady beats it would be a certain failure.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> jitter(-60.0, 60.0);
  PhiAccrualDetector d({.window = 1000, .min_std = 10ms, .expected_interval = 100ms});
  d.reset(at_ms(0));
  double t = 0;
  for (int i = 0; i < 1000; ++i) d.heartbeat(at_ms(t += 100 + jitter(rng)));
  EXPECT_GT(d.std_ms(), 30.0);
  EXPECT_LT(d.phi(at_ms(t + 200)), 8.0);
  EXPECT_GT(d.phi(at_ms(t + 1000)), 8.0);
}

TEST(PhiAccrual, RestartIntervalDoesNotLearnTheGap) {
  PhiAccrualDetector d({.window = 100, .min_std = 5ms, .expected_interval = 100ms});
  d.reset(at_ms(0));
  double t = 0;
  for (int i = 0; i < 20; ++i) d.heartbeat(at_ms(t += 100));
  d.restart_interval(at_ms(t += 10'000));  // a long announced operation
  d.heartbeat(at_ms(t += 100));
  EXPECT_NEAR(d.mean_ms(), 100.0, 0.01);
  EXPECT_EQ(d.last_heartbeat(), at_ms(t));
}

}  // namespace
}  // namespace vigil::detection
