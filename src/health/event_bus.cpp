#include "health/event_bus.hpp"

namespace vigil::health {

void EventBus::flush() {
  flush_posted_ = false;
  if (pending_.empty() && held_.empty()) return;
  std::vector<Event> fresh;
  fresh.swap(pending_);
  // The held events go first: the log keeps the order in which things happened.
  std::vector<Event> batch(std::make_move_iterator(held_.begin()),
                           std::make_move_iterator(held_.end()));
  const std::size_t held_count = batch.size();
  held_.clear();
  batch.insert(batch.end(), std::make_move_iterator(fresh.begin()),
               std::make_move_iterator(fresh.end()));
  auto stored = store_.store(batch);
  if (stored) {
    retry_.cancel();
    const bool recovered = !health_.writable;
    health_.writable = true;
    health_.error.clear();
    health_.failing_since_us = 0;
    health_.held = 0;
    if (recovered) health_.written_late = held_count;
    // Only the fresh events are news to the subscribers; the held ones were delivered when
    // they happened.
    deliver(
        std::vector<Event>(batch.begin() + static_cast<std::ptrdiff_t>(held_count), batch.end()));
    if (recovered && on_health_) on_health_(health_);
    return;
  }
  ++health_.failures;
  const bool newly_failing = health_.writable;
  health_.writable = false;
  health_.error = stored.error();
  if (newly_failing) health_.failing_since_us = scheduler_.wall_now_us();
  for (auto& e : batch) e.id = 0;
  std::vector<Event> news(batch.begin() + static_cast<std::ptrdiff_t>(held_count), batch.end());
  held_.assign(std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  while (held_.size() > max_held_) {
    held_.pop_front();
    ++health_.dropped;
  }
  health_.held = held_.size();
  if (!retry_.armed()) {
    retry_.arm_after(kRetryEvery, [this] {
      if (!flush_posted_) flush();
    });
  }
  deliver(news);
  if (newly_failing && on_health_) on_health_(health_);
}

void EventBus::deliver(const std::vector<Event>& events) {
  for (const auto& e : events) {
    // A sink may unsubscribe (a follower that hung up) while we iterate.
    auto sinks = sinks_;
    for (auto* s : sinks) {
      if (std::find(sinks_.begin(), sinks_.end(), s) != sinks_.end()) s->on_event(e);
    }
  }
}

}  // namespace vigil::health
