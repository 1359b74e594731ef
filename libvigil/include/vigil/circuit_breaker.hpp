#pragma once
// A circuit breaker: stop calling a dependency that keeps failing, give it a cool-down, then
// let a few trial calls through.
//
//   closed    --(failure_threshold consecutive failures, or failure rate over the window)--> open
//   open      --(open_duration elapsed, checked by allow())--> half_open
//   half_open --(a trial succeeds)--> closed;  --(a trial fails)--> open (cool-down restarts)
//
// In half_open at most `half_open_max_calls` trials are let through until one of them reports.
//
// Thread safety: every member may be called concurrently (one mutex). call() does not hold the
// lock while `f` runs.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace vigil {

struct CircuitBreakerOptions {
  int failure_threshold = 5;  // consecutive failures that open it (0: disabled)
  // Failure rate (0..1] over the last `window` results that opens it once the window is full
  // (0: disabled).
  double failure_rate_threshold = 0.0;
  std::size_t window = 20;
  std::chrono::steady_clock::duration open_duration = std::chrono::seconds(5);
  int half_open_max_calls = 1;
};

class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };
  using Clock = std::chrono::steady_clock;
  using NowFunction = std::function<Clock::time_point()>;

  explicit CircuitBreaker(CircuitBreakerOptions options = {}, NowFunction now = {});

  // Whether a call may go ahead now (moves open -> half_open once the cool-down is over and
  // counts a half-open trial). Every allowed call must be followed by record_success() or
  // record_failure().
  bool allow();
  void record_success();
  void record_failure();

  // Runs `f` if allowed. Failure: `f` throws (recorded, then rethrown), or returns false when
  // its result is bool. Returns nullopt when rejected, else the result (for void `f`: whether
  // it ran).
  template <typename F>
  auto call(F&& f) {
    using R = std::invoke_result_t<F>;
    if constexpr (std::is_same_v<R, bool>) {
      return call(std::forward<F>(f), [](bool ok) { return ok; });
    } else if constexpr (std::is_void_v<R>) {
      if (!allow()) return false;
      try {
        std::forward<F>(f)();
      } catch (...) {
        record_failure();
        throw;
      }
      record_success();
      return true;
    } else {
      return call(std::forward<F>(f), [](const R&) { return true; });
    }
  }
  // As call(f), with `is_success(result)` deciding whether the call failed.
  template <typename F, typename IsSuccess>
  auto call(F&& f, IsSuccess&& is_success) -> std::optional<std::invoke_result_t<F>> {
    if (!allow()) return std::nullopt;
    std::optional<std::invoke_result_t<F>> result;
    try {
      result.emplace(std::forward<F>(f)());
    } catch (...) {
      record_failure();
      throw;
    }
    if (is_success(*result))
      record_success();
    else
      record_failure();
    return result;
  }

  State state() const;  // without advancing open -> half_open
  int consecutive_failures() const;
  std::uint64_t times_opened() const;

 private:
  void open_locked(Clock::time_point now);
  void record_locked(bool success);

  const CircuitBreakerOptions options_;
  const NowFunction now_;
  mutable std::mutex mutex_;
  State state_ = State::closed;
  int consecutive_failures_ = 0;
  int half_open_in_flight_ = 0;
  Clock::time_point opened_at_{};
  std::deque<bool> window_;  // recent results in closed state, true = failure
  std::uint64_t times_opened_ = 0;
};

const char* to_string(CircuitBreaker::State state);

}  // namespace vigil
