#pragma once
// The stream of health events. Publishing queues an event; at the end of the current loop
// turn the queue is committed to the store in one transaction, and only then handed to the
// subscribers — so an event a client has seen is always already durable, and a burst of
// events (a one_for_all restart of 50 components) costs one commit, not 50.
//
// When the store cannot write (a full or read-only state directory), supervision must go on:
// the events still reach the subscribers (with id 0: they have no place in the log yet) and
// are held in memory, oldest first, up to a bound; every later commit, and a retry every
// couple of seconds, writes the held events first, in order. Past the bound the oldest are
// dropped and counted. The owner is told when the store starts failing and when it has
// recovered, to say so loudly.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "health/event.hpp"

namespace vigil::health {

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Makes the batch durable and assigns each event its id; on failure keeps none of it.
  virtual Result<void> store(std::vector<Event>& batch) = 0;
};

// How the store is doing, as the bus sees it.
struct StoreHealth {
  bool writable = true;
  std::string error;                  // the last failure, while failing
  std::int64_t failing_since_us = 0;  // wall clock of the first failure, while failing
  std::size_t held = 0;               // events published but not yet written
  std::uint64_t dropped = 0;          // events lost past the bound, ever
  std::uint64_t failures = 0;         // failed commits, ever
  std::uint64_t written_late = 0;     // at the last recovery: held events written then
};

class EventBus {
 public:
  static constexpr std::size_t kDefaultMaxHeld = 100'000;  // ~50 MB at worst, hours of events
  static constexpr std::chrono::seconds kRetryEvery{2};

  EventBus(Scheduler& scheduler, EventStore& store, std::string boot_id,
           std::size_t max_held = kDefaultMaxHeld)
      : scheduler_(scheduler),
        store_(store),
        boot_id_(std::move(boot_id)),
        max_held_(max_held),
        retry_(scheduler) {}

  void publish(Event event) {
    event.boot_id = boot_id_;
    pending_.push_back(std::move(event));
    if (!flush_posted_) {
      flush_posted_ = true;
      // Posted twice: work the supervisor posted in this same turn (a zero-delay restart)
      // runs before the commit, so bookkeeping never delays a recovery.
      scheduler_.post([this] { scheduler_.post([this] { flush(); }); });
    }
  }

  void flush();

  void subscribe(EventSink* sink) { sinks_.push_back(sink); }
  void unsubscribe(EventSink* sink) { std::erase(sinks_, sink); }
  const std::string& boot_id() const { return boot_id_; }

  const StoreHealth& store_health() const { return health_; }
  // Called once when the store starts failing and once when it writes again.
  void on_store_health(std::function<void(const StoreHealth&)> fn) { on_health_ = std::move(fn); }

 private:
  void deliver(const std::vector<Event>& events);

  Scheduler& scheduler_;
  EventStore& store_;
  std::string boot_id_;
  std::size_t max_held_;
  std::vector<Event> pending_;
  std::deque<Event> held_;  // not yet written, oldest first
  std::vector<EventSink*> sinks_;
  bool flush_posted_ = false;
  StoreHealth health_;
  std::function<void(const StoreHealth&)> on_health_;
  Timer retry_;
};

}  // namespace vigil::health
