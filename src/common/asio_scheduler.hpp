#pragma once
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <unordered_map>

#include "common/scheduler.hpp"

namespace vigil {

// Scheduler on an asio::io_context: each pending call is one steady_timer.
class AsioScheduler final : public Scheduler {
 public:
  explicit AsioScheduler(asio::io_context& io) : io_(io) {}
  TimePoint now() const override { return MonoClock::now(); }
  std::int64_t wall_now_us() const override;
  TimerId call_at(TimePoint when, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  void post(std::function<void()> fn) override;
  asio::io_context& io() { return io_; }

 private:
  asio::io_context& io_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<asio::steady_timer>> timers_;
};

}  // namespace vigil
