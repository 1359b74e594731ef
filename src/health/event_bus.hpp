#pragma once
// The stream of health events. Publishing queues an event; at the end of the current loop
// turn the queue is committed to the store in one transaction, and only then handed to the
// subscribers — so an event a client has seen is always already durable, and a burst of
// events (a one_for_all restart of 50 components) costs one commit, not 50.
#include <algorithm>
#include <vector>

#include "common/scheduler.hpp"
#include "health/event.hpp"

namespace vigil::health {

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Makes the batch durable and assigns each event its id.
  virtual void store(std::vector<Event>& batch) = 0;
};

class EventBus {
 public:
  EventBus(Scheduler& scheduler, EventStore& store, std::string boot_id)
      : scheduler_(scheduler), store_(store), boot_id_(std::move(boot_id)) {}

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

  void flush() {
    flush_posted_ = false;
    if (pending_.empty()) return;
    std::vector<Event> batch;
    batch.swap(pending_);
    store_.store(batch);
    for (const auto& e : batch) {
      // A sink may unsubscribe (a follower that hung up) while we iterate.
      auto sinks = sinks_;
      for (auto* s : sinks) {
        if (std::find(sinks_.begin(), sinks_.end(), s) != sinks_.end()) s->on_event(e);
      }
    }
  }

  void subscribe(EventSink* sink) { sinks_.push_back(sink); }
  void unsubscribe(EventSink* sink) { std::erase(sinks_, sink); }
  const std::string& boot_id() const { return boot_id_; }

 private:
  Scheduler& scheduler_;
  EventStore& store_;
  std::string boot_id_;
  std::vector<Event> pending_;
  std::vector<EventSink*> sinks_;
  bool flush_posted_ = false;
};

}  // namespace vigil::health
