#include "alerts/target.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::alerts {

Duration retry_delay(const RetryPolicy& policy, int failed_attempts, double unit_random) {
  const int exponent = std::clamp(failed_attempts - 1, 0, 62);
  const double base = static_cast<double>(policy.initial.count()) * std::pow(2.0, exponent);
  const double capped = std::min(base, static_cast<double>(policy.max.count()));
  const double u = std::clamp(unit_random, 0.0, 1.0);
  return Duration(static_cast<Duration::rep>(capped * (1.0 - kRetryJitter * u)));
}

Outbox::Pushed Outbox::push(Delivery delivery) {
  if (delivery.superseded_by_newer) {
    auto same = std::find_if(queue_.begin(), queue_.end(), [&](const Delivery& d) {
      return d.superseded_by_newer && d.key == delivery.key;
    });
    if (same != queue_.end()) {
      *same = std::move(delivery);
      return Pushed::replaced;
    }
  }
  Pushed result = Pushed::queued;
  if (queue_.size() >= capacity_) {
    queue_.pop_front();
    result = Pushed::dropped_oldest;
  }
  queue_.push_back(std::move(delivery));
  return result;
}

std::optional<Delivery> Outbox::pop() {
  if (queue_.empty()) return std::nullopt;
  Delivery d = std::move(queue_.front());
  queue_.pop_front();
  return d;
}

bool Outbox::has_newer(const Delivery& d) const {
  if (!d.superseded_by_newer) return false;
  return std::any_of(queue_.begin(), queue_.end(),
                     [&](const Delivery& q) { return q.superseded_by_newer && q.key == d.key; });
}

std::size_t Outbox::clear() {
  const std::size_t n = queue_.size();
  queue_.clear();
  return n;
}

}  // namespace vigil::alerts
