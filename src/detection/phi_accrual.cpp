#include "detection/phi_accrual.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::detection {
namespace {

// Akka's logistic approximation of the normal CDF: P(X > t) ~ e / (1 + e) with
// e = exp(-y (a + b y^2)), y = (t - mean) / std.
constexpr double kA = 1.5976;
constexpr double kB = 0.070566;

double to_ms(Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

double phi_of(double elapsed_ms, double mean_ms, double std_ms) {
  const double y = (elapsed_ms - mean_ms) / std_ms;
  const double e = std::exp(-y * (kA + kB * y * y));
  // Two forms of the same value, each precise on its side of the mean.
  if (elapsed_ms > mean_ms) return -std::log10(e / (1.0 + e));
  return -std::log10(1.0 - 1.0 / (1.0 + e));
}

double elapsed_for_phi(double phi, double mean_ms, double std_ms) {
  // phi = log10(1 + 1/e)  =>  b y^3 + a y - ln(10^phi - 1) = 0, a depressed cubic with one
  // real root (a, b > 0), solved by Cardano's formula.
  const double c = std::log(std::expm1(phi * std::log(10.0)));
  const double p = kA / kB;
  const double q = -c / kB;
  const double d = std::sqrt(q * q / 4.0 + p * p * p / 27.0);
  const double y = std::cbrt(-q / 2.0 + d) + std::cbrt(-q / 2.0 - d);
  return mean_ms + y * std_ms;
}

PhiAccrualDetector::PhiAccrualDetector(PhiParameters parameters) : p_(parameters) {
  p_.window = std::max(2, p_.window);
  ring_.assign(static_cast<std::size_t>(p_.window) + 2, 0.0);
}

void PhiAccrualDetector::reset(TimePoint at) {
  head_ = count_ = 0;
  sum_ = sum_squares_ = 0;
  real_intervals_ = 0;
  const double expected = std::max(1.0, to_ms(p_.expected_interval));
  add(expected - expected / 4.0);
  add(expected + expected / 4.0);
  seeds_ = 2;
  last_ = at;
}

void PhiAccrualDetector::add(double interval_ms) {
  if (count_ == ring_.size()) remove_oldest();
  ring_[(head_ + count_) % ring_.size()] = interval_ms;
  ++count_;
  sum_ += interval_ms;
  sum_squares_ += interval_ms * interval_ms;
}

void PhiAccrualDetector::remove_oldest() {
  const double v = ring_[head_];
  head_ = (head_ + 1) % ring_.size();
  --count_;
  sum_ -= v;
  sum_squares_ -= v * v;
  if (seeds_ > 0) --seeds_;
}

void PhiAccrualDetector::heartbeat(TimePoint at) {
  if (at <= last_) return;  // reordered or duplicate: no information
  add(to_ms(at - last_));
  last_ = at;
  ++real_intervals_;
  if (real_intervals_ >= kBootstrapIntervals) {
    while (seeds_ > 0) remove_oldest();
  }
  while (count_ - static_cast<std::size_t>(seeds_) > static_cast<std::size_t>(p_.window)) {
    remove_oldest();
  }
}

void PhiAccrualDetector::restart_interval(TimePoint at) {
  last_ = std::max(last_, at);
}

double PhiAccrualDetector::mean_ms() const {
  return count_ == 0 ? to_ms(p_.expected_interval) : sum_ / static_cast<double>(count_);
}

double PhiAccrualDetector::std_ms() const {
  if (count_ < 2) return 0;
  const double mean = mean_ms();
  const double variance = sum_squares_ / static_cast<double>(count_) - mean * mean;
  return variance > 0 ? std::sqrt(variance) : 0.0;
}

double PhiAccrualDetector::effective_mean_ms() const {
  return mean_ms() + to_ms(p_.acceptable_pause);
}

double PhiAccrualDetector::effective_std_ms() const {
  return std::max({std_ms(), to_ms(p_.min_std), 0.001});
}

double PhiAccrualDetector::phi(TimePoint now) const {
  if (now <= last_) return 0.0;
  return phi_of(to_ms(now - last_), effective_mean_ms(), effective_std_ms());
}

TimePoint PhiAccrualDetector::when_phi_reaches(double threshold) const {
  const double elapsed = elapsed_for_phi(threshold, effective_mean_ms(), effective_std_ms());
  return last_ + std::chrono::duration_cast<Duration>(
                     std::chrono::duration<double, std::milli>(std::max(0.0, elapsed)));
}

std::vector<double> PhiAccrualDetector::recent_intervals_ms(std::size_t n) const {
  const std::size_t real = count_ - static_cast<std::size_t>(seeds_);
  n = std::min(n, real);
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = count_ - n; i < count_; ++i)
    out.push_back(ring_[(head_ + i) % ring_.size()]);
  return out;
}

}  // namespace vigil::detection
