#pragma once
// A background heartbeat: WATCHDOG=1 every `period` from its own thread, but only while the
// health predicate holds, so a program that is alive but stuck (the predicate checks that its
// work advances) stops beating and vigild restarts it.
//
// Thread safety: beat(), beats_sent() and running() may be called from any thread. The
// destructor stops the thread and joins it promptly (it waits on a condition variable, not a
// sleep); a predicate that blocks delays it by as long as it blocks.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "vigil/status.hpp"

namespace vigil {

class Heartbeat {
 public:
  // Returns true when the program is healthy. Called from the heartbeat thread; an exception
  // counts as unhealthy.
  using HealthPredicate = std::function<bool()>;

  // Beats every `period` (a non-positive period starts no thread; beat() still works).
  explicit Heartbeat(std::chrono::microseconds period, HealthPredicate healthy = {});
  // Beats at half of watchdog_interval() (WATCHDOG_USEC, if meant for this pid). Without a
  // watchdog the result is inactive: running() is false and nothing is sent.
  static Heartbeat from_environment(HealthPredicate healthy = {});
  // An inactive heartbeat (no thread).
  Heartbeat();

  Heartbeat(Heartbeat&&) noexcept;
  Heartbeat& operator=(Heartbeat&&) noexcept;
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;
  ~Heartbeat();

  // One beat now, if healthy: Status{} when sent (or when NOTIFY_SOCKET is unset), EAGAIN
  // when the predicate says unhealthy, else the notify error.
  Status beat();
  void stop();  // stops and joins the thread; idempotent
  bool running() const;
  std::chrono::microseconds period() const;
  std::uint64_t beats_sent() const;  // successful WATCHDOG=1 datagrams, by either path

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vigil
