#include "vigil/circuit_breaker.hpp"

#include <algorithm>

namespace vigil {

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, NowFunction now)
    : options_(options), now_(now ? std::move(now) : NowFunction([] { return Clock::now(); })) {}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::closed:
      return true;
    case State::open:
      if (now_() - opened_at_ < options_.open_duration) return false;
      state_ = State::half_open;
      half_open_in_flight_ = 0;
      [[fallthrough]];
    case State::half_open:
      if (half_open_in_flight_ >= std::max(options_.half_open_max_calls, 1)) return false;
      ++half_open_in_flight_;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mutex_);
  record_locked(true);
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mutex_);
  record_locked(false);
}

void CircuitBreaker::record_locked(bool success) {
  switch (state_) {
    case State::half_open:
      if (success) {
        state_ = State::closed;
        consecutive_failures_ = 0;
        window_.clear();
      } else {
        open_locked(now_());
      }
      return;
    case State::open:
      return;  // a call let through before it opened, reporting late: no new information
    case State::closed:
      break;
  }
  consecutive_failures_ = success ? 0 : consecutive_failures_ + 1;
  if (options_.failure_rate_threshold > 0 && options_.window > 0) {
    window_.push_back(!success);
    if (window_.size() > options_.window) window_.pop_front();
  }
  if (options_.failure_threshold > 0 && consecutive_failures_ >= options_.failure_threshold) {
    open_locked(now_());
    return;
  }
  if (options_.failure_rate_threshold > 0 && options_.window > 0 &&
      window_.size() == options_.window) {
    const auto failures = std::count(window_.begin(), window_.end(), true);
    if (static_cast<double>(failures) / static_cast<double>(window_.size()) >=
        options_.failure_rate_threshold)
      open_locked(now_());
  }
}

void CircuitBreaker::open_locked(Clock::time_point now) {
  state_ = State::open;
  opened_at_ = now;
  half_open_in_flight_ = 0;
  consecutive_failures_ = 0;
  window_.clear();
  ++times_opened_;
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mutex_);
  return consecutive_failures_;
}

std::uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard lock(mutex_);
  return times_opened_;
}

const char* to_string(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::closed:
      return "closed";
    case CircuitBreaker::State::open:
      return "open";
    case CircuitBreaker::State::half_open:
      return "half_open";
  }
  return "unknown";
}

}  // namespace vigil
