#include "supervisor/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::supervisor {

Duration backoff_delay(const config::BackoffSpec& spec, int attempt, double u) {
  const double initial = static_cast<double>(spec.initial.count());
  const double cap = static_cast<double>(spec.max.count());
  const double exponent = std::max(0, attempt - 1);
  double delay = std::min(cap, initial * std::pow(spec.factor, exponent));
  delay *= 1.0 + spec.jitter * std::clamp(u, -1.0, 1.0);
  return Duration{static_cast<Duration::rep>(std::max(0.0, delay))};
}

bool RestartIntensity::record(TimePoint now) {
  history_.push_back(now);
  while (!history_.empty() && now - history_.front() > spec_.within) history_.pop_front();
  return static_cast<int>(history_.size()) <= spec_.restarts;
}

}  // namespace vigil::supervisor
