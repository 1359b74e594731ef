#pragma once
// Time and deferred work, injected so supervision logic runs in simulated time in unit tests
// and on the Asio event loop in vigild. Every callback runs on the one loop thread.
#include <chrono>
#include <cstdint>
#include <functional>

namespace vigil {

using MonoClock = std::chrono::steady_clock;
using TimePoint = MonoClock::time_point;

// Wall-clock microseconds since the epoch (for records; intervals use the monotonic clock).
inline std::int64_t wall_clock_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

class Scheduler {
 public:
  using TimerId = std::uint64_t;
  virtual ~Scheduler() = default;
  virtual TimePoint now() const = 0;
  virtual std::int64_t wall_now_us() const = 0;
  // Runs fn at (or just after) `when`; returns an id for cancel(). Never runs fn inline.
  virtual TimerId call_at(TimePoint when, std::function<void()> fn) = 0;
  // Cancelling an id that already ran or was cancelled is a no-op.
  virtual void cancel(TimerId id) = 0;
  // Runs fn after the current callback returns.
  virtual void post(std::function<void()> fn) = 0;
};

// One pending call; re-arming replaces it, destruction cancels it.
class Timer {
 public:
  explicit Timer(Scheduler& scheduler) : scheduler_(&scheduler) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { cancel(); }

  void arm_at(TimePoint when, std::function<void()> fn) {
    cancel();
    when_ = when;
    id_ = scheduler_->call_at(when, [this, fn = std::move(fn)] {
      id_ = 0;
      fn();
    });
  }
  void arm_after(std::chrono::nanoseconds d, std::function<void()> fn) {
    arm_at(scheduler_->now() + d, std::move(fn));
  }
  void cancel() {
    if (id_ != 0) scheduler_->cancel(id_);
    id_ = 0;
  }
  bool armed() const { return id_ != 0; }
  TimePoint when() const { return when_; }

 private:
  Scheduler* scheduler_;
  Scheduler::TimerId id_ = 0;
  TimePoint when_{};
};

}  // namespace vigil
