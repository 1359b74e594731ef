#pragma once
// The phi-accrual failure detector (Hayashibara et al., 2004), as Cassandra and Akka use it:
// instead of a yes/no timeout it gives a suspicion level phi = -log10(P(a heartbeat arrives
// later than now)), from the distribution of recent heartbeat inter-arrival times. A busy
// CPU that stretches every interval also stretches the learned distribution, so the detector
// adapts instead of crying wolf; a real silence still drives phi up without bound.
//
// Model: inter-arrival times are normal with the window's mean (plus `acceptable_pause`) and
// standard deviation (at least `min_std`). The normal tail uses the logistic approximation
// of Akka's detector, which can be inverted in closed form, so the time at which phi will
// reach a threshold is computed directly and a single timer watches it.
//
// Bootstrap: until the first heartbeat there is no interval; the window is seeded with two
// pseudo-intervals at expected ± expected/4 (Akka's first-heartbeat estimate), which are
// dropped once kBootstrapIntervals real intervals are known, so that a wrong guess stops
// mattering after a few beats.
#include <cstddef>
#include <vector>

#include "common/scheduler.hpp"
#include "common/units.hpp"

namespace vigil::detection {

struct PhiParameters {
  int window = 1000;  // inter-arrival times kept
  Duration min_std = std::chrono::milliseconds(50);
  Duration acceptable_pause = Duration{0};  // added to the mean: pauses tolerated for free
  Duration expected_interval = std::chrono::seconds(1);  // bootstrap estimate
};

class PhiAccrualDetector {
 public:
  static constexpr int kBootstrapIntervals = 8;

  explicit PhiAccrualDetector(PhiParameters parameters);

  // Starts watching at `at` (process ready) as if a heartbeat arrived then.
  void reset(TimePoint at);
  // A heartbeat arrived at `at`: its interval since the previous one joins the window.
  void heartbeat(TimePoint at);
  // Restarts the clock at `at` without learning from the interval (after an announced long
  // operation, whose length says nothing about the heartbeat rhythm).
  void restart_interval(TimePoint at);

  double phi(TimePoint now) const;
  // When phi reaches `threshold` if no heartbeat arrives.
  TimePoint when_phi_reaches(double threshold) const;

  TimePoint last_heartbeat() const { return last_; }
  double mean_ms() const;
  double std_ms() const;
  std::size_t intervals() const { return count_; }
  bool bootstrapping() const { return real_intervals_ < kBootstrapIntervals; }
  // The most recent intervals, newest last, for the evidence attached to a detection.
  std::vector<double> recent_intervals_ms(std::size_t n) const;

 private:
  void add(double interval_ms);
  void remove_oldest();
  double effective_mean_ms() const;  // mean + acceptable pause
  double effective_std_ms() const;   // at least min_std

  PhiParameters p_;
  std::vector<double> ring_;  // interval ms; capacity window (+2 seeds)
  std::size_t head_ = 0;      // index of the oldest
  std::size_t count_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
  int seeds_ = 0;  // bootstrap pseudo-intervals still in the window (always the oldest)
  int real_intervals_ = 0;
  TimePoint last_{};
};

// The pure functions, for tests and the benchmark's trade-off curve.
double phi_of(double elapsed_ms, double mean_ms, double std_ms);
// Inverse: the elapsed time at which phi_of reaches `phi`.
double elapsed_for_phi(double phi, double mean_ms, double std_ms);

}  // namespace vigil::detection
