#pragma once
// Where alerts go. A Target takes deliveries on the event loop without ever blocking it,
// keeps them in a bounded outbox, and retries each with exponential backoff until it is
// delivered or `give_up_after` has passed. HttpTarget posts from a worker thread; ExecTarget
// runs a hook through the daemon's process runner on the loop.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "common/scheduler.hpp"
#include "common/units.hpp"
#include "config/spec.hpp"

namespace vigil::alerts {

// One message for one target: a fired, updated or resolved alert, rendered for it.
struct Delivery {
  std::string key;                   // the alert's identity (Alert::key)
  std::string status;                // firing | resolved (for logs and results)
  std::string body;                  // JSON text
  bool superseded_by_newer = false;  // a later delivery with the same key replaces this one
                                     // (Alertmanager: only the newest state matters)
};

struct DeliveryResult {
  std::string target;  // alertmanager | webhook | exec
  std::string key;
  std::string status;
  bool delivered = false;
  int attempts = 0;
  std::string error;  // the last attempt's error when not delivered
};

struct TargetStats {
  std::uint64_t delivered = 0;
  std::uint64_t given_up = 0;    // retried until give_up_after, or refused for good (HTTP 4xx)
  std::uint64_t dropped = 0;     // pushed out of a full outbox, or left in it at stop
  std::uint64_t superseded = 0;  // replaced by a newer state of the same alert before delivery
  std::uint64_t retries = 0;
};

struct RetryPolicy {
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::seconds(60);
  Duration give_up_after = std::chrono::hours(1);
  static RetryPolicy from(const config::AlertsSpec& spec) {
    return {spec.retry_initial, spec.retry_max, spec.give_up_after};
  }
};

// Jitter takes up to this fraction off a delay, so many robots do not retry in lock-step
// and a delay never exceeds `max`.
inline constexpr double kRetryJitter = 0.2;

// The wait after the n-th failed attempt (n >= 1): min(max, initial * 2^(n-1)), shortened by
// up to kRetryJitter. `unit_random` is in [0, 1).
Duration retry_delay(const RetryPolicy& policy, int failed_attempts, double unit_random);

// A bounded FIFO of deliveries. Full: the oldest goes (the operator cares most about the
// newest state); a delivery marked superseded_by_newer replaces a queued one of its key.
// Not synchronised: HttpTarget guards it with its mutex.
class Outbox {
 public:
  explicit Outbox(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  enum class Pushed { queued, replaced, dropped_oldest };
  Pushed push(Delivery delivery);
  std::optional<Delivery> pop();
  bool has_newer(const Delivery& d) const;  // a queued delivery supersedes d
  std::size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }
  std::size_t clear();

 private:
  std::size_t capacity_;
  std::deque<Delivery> queue_;
};

// Runs fn on the event loop; callable from any thread.
using PostToLoop = std::function<void(std::function<void()>)>;
// Called on the event loop with the outcome of each delivery.
using OnResult = std::function<void(const DeliveryResult&)>;

class Target {
 public:
  virtual ~Target() = default;
  virtual const std::string& name() const = 0;
  // Queues a delivery and returns at once.
  virtual void submit(Delivery delivery) = 0;
  // Gives queued deliveries up to `budget` to go out, then stops; what is left is dropped
  // (and counted). Idempotent; the destructor calls stop(0).
  virtual void stop(std::chrono::milliseconds budget) = 0;
  virtual TargetStats stats() const = 0;
};

}  // namespace vigil::alerts
