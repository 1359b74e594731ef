#include "vigil/heartbeat.hpp"

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "vigil/notify.hpp"

namespace vigil {

struct Heartbeat::State {
  std::chrono::microseconds period{0};
  HealthPredicate healthy;
  std::atomic<std::uint64_t> beats{0};
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;

  bool is_healthy() {
    if (!healthy) return true;
    try {
      return healthy();
    } catch (...) {
      return false;  // a predicate that cannot tell is not evidence of health
    }
  }
  Status beat() {
    if (!is_healthy()) return Status::from_errno(EAGAIN);
    Status s = notify_watchdog();
    if (s) beats.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  void run() {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      (void)beat();
      lock.lock();
      // A deadline (not a relative wait) keeps the rate steady however long a beat took; after
      // a long stall, start afresh instead of bursting to catch up.
      next += period;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;
      wake.wait_until(lock, next, [&] { return stopping; });
    }
  }
};

Heartbeat::Heartbeat() : state_(std::make_shared<State>()) {}

Heartbeat::Heartbeat(std::chrono::microseconds period, HealthPredicate healthy)
    : state_(std::make_shared<State>()) {
  state_->period = period;
  state_->healthy = std::move(healthy);
  if (period.count() > 0) state_->thread = std::thread([s = state_.get()] { s->run(); });
}

Heartbeat Heartbeat::from_environment(HealthPredicate healthy) {
  const auto interval = watchdog_interval();
  if (!interval) return Heartbeat();
  return Heartbeat(*interval / 2, std::move(healthy));
}

Heartbeat::Heartbeat(Heartbeat&&) noexcept = default;

Heartbeat& Heartbeat::operator=(Heartbeat&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

Heartbeat::~Heartbeat() {
  stop();
}

void Heartbeat::stop() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->thread.joinable() && state_->thread.get_id() != std::this_thread::get_id())
    state_->thread.join();
}

Status Heartbeat::beat() {
  if (!state_) return Status::from_errno(EINVAL);
  return state_->beat();
}

bool Heartbeat::running() const {
  if (!state_) return false;
  std::lock_guard lock(state_->mutex);
  return state_->thread.joinable() && !state_->stopping;
}

std::chrono::microseconds Heartbeat::period() const {
  return state_ ? state_->period : std::chrono::microseconds(0);
}

std::uint64_t Heartbeat::beats_sent() const {
  return state_ ? state_->beats.load(std::memory_order_relaxed) : 0;
}

}  // namespace vigil
