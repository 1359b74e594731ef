#pragma once
#include <chrono>
#include <deque>

#include "common/scheduler.hpp"
#include "config/spec.hpp"

namespace vigil::supervisor {

// delay(attempt) = min(max, initial * factor^(attempt-1)) * (1 + jitter * u), u in [-1, 1],
// attempt >= 1 counting consecutive failures. Jitter spreads the restarts of many components
// that failed together (one_for_all, a shared sensor) so they do not stampede.
Duration backoff_delay(const config::BackoffSpec& spec, int attempt, double u);

// OTP restart intensity: more than `restarts` restarts within `within` means the group
// itself has failed. record() adds one restart and says whether the group may go on.
class RestartIntensity {
 public:
  explicit RestartIntensity(config::IntensitySpec spec) : spec_(spec) {}
  [[nodiscard]] bool record(TimePoint now);
  void reset() { history_.clear(); }
  int recent() const { return static_cast<int>(history_.size()); }
  const config::IntensitySpec& spec() const { return spec_; }

 private:
  config::IntensitySpec spec_;
  std::deque<TimePoint> history_;
};

}  // namespace vigil::supervisor
