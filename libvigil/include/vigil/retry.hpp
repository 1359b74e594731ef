#pragma once
// Retry with exponential backoff and full jitter:
//   delay before retry n (n = 0, 1, ...) = min(max, initial * factor^n), and with jitter a
//   uniformly random duration in [0, that] (AWS's "full jitter": retries of many clients
//   spread out instead of hammering a recovering server together).
//
//   auto reply = vigil::retry([&] { return connect_to_arm(); },   // returns std::optional / bool
//                             vigil::RetryPolicy{5, 50ms, 2s, 2.0, true});
//
// `f` returns a result testable as bool (bool, std::optional, a pointer, std::expected...):
// true is success. retry() returns the last result. `is_retryable(result)` is asked after each
// failure; false stops at once. Exceptions from `f` are not caught. `sleep` is injectable for
// tests (default: std::this_thread::sleep_for). Reentrant; no shared state.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>
#include <type_traits>
#include <utility>

namespace vigil {

struct RetryPolicy {
  int attempts = 5;  // calls in total, including the first (at least 1 call is made)
  std::chrono::microseconds initial = std::chrono::milliseconds(100);
  std::chrono::microseconds max = std::chrono::seconds(10);
  double factor = 2.0;
  bool jitter = true;
  std::uint64_t seed = 0;  // 0: random; else a deterministic jitter sequence
};

// The cap for retry n (before jitter): min(max, initial * factor^n), never negative.
inline std::chrono::microseconds backoff_cap(const RetryPolicy& policy, int retry_index) {
  double delay = static_cast<double>(std::max<std::int64_t>(policy.initial.count(), 0));
  const double max = static_cast<double>(std::max<std::int64_t>(policy.max.count(), 0));
  for (int i = 0; i < retry_index && delay < max; ++i) delay *= std::max(policy.factor, 1.0);
  return std::chrono::microseconds(static_cast<std::int64_t>(std::min(delay, max)));
}

// The delay before retry n: the cap, or with jitter uniform in [0, cap].
template <typename Random>
std::chrono::microseconds backoff_delay(const RetryPolicy& policy, int retry_index,
                                        Random& random) {
  const auto cap = backoff_cap(policy, retry_index);
  if (!policy.jitter || cap.count() == 0) return cap;
  std::uniform_int_distribution<std::int64_t> uniform(0, cap.count());
  return std::chrono::microseconds(uniform(random));
}

struct AlwaysRetryable {
  template <typename R>
  bool operator()(const R&) const {
    return true;
  }
};

template <typename F, typename IsRetryable = AlwaysRetryable,
          typename Sleep = std::function<void(std::chrono::microseconds)>>
std::invoke_result_t<F&> retry(F&& f, const RetryPolicy& policy, IsRetryable&& is_retryable = {},
                               Sleep&& sleep = {}) {
  std::mt19937_64 random(policy.seed != 0 ? policy.seed : std::random_device{}());
  const int attempts = std::max(policy.attempts, 1);
  for (int attempt = 1;; ++attempt) {
    auto result = f();
    if (static_cast<bool>(result) || attempt >= attempts || !is_retryable(std::as_const(result)))
      return result;
    const auto delay = backoff_delay(policy, attempt - 1, random);
    if constexpr (std::is_same_v<std::decay_t<Sleep>,
                                 std::function<void(std::chrono::microseconds)>>) {
      if (sleep)
        sleep(delay);
      else
        std::this_thread::sleep_for(delay);
    } else {
      sleep(delay);
    }
  }
}

}  // namespace vigil
