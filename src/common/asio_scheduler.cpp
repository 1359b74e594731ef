#include "common/asio_scheduler.hpp"

#include <asio/post.hpp>
#include <chrono>

namespace vigil {

std::int64_t AsioScheduler::wall_now_us() const {
  return wall_clock_us();
}

Scheduler::TimerId AsioScheduler::call_at(TimePoint when, std::function<void()> fn) {
  const TimerId id = next_id_++;
  auto timer = std::make_unique<asio::steady_timer>(io_, when);
  timer->async_wait([this, id, fn = std::move(fn)](const std::error_code& ec) {
    // An expired timer's handler may already be queued when cancel() runs; the erased
    // entry, not the error code, is what says "cancelled".
    if (ec || timers_.erase(id) == 0) return;
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void AsioScheduler::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  timers_.erase(it);  // destroying the timer aborts its wait
}

void AsioScheduler::post(std::function<void()> fn) {
  asio::post(io_, std::move(fn));
}

}  // namespace vigil
