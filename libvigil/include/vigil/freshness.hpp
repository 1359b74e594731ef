#pragma once
// A value that goes stale: the latest reading of a sensor with the time it was taken and how
// old it may get before nobody should act on it.
//
//   vigil::Freshness<Scan> scan("lidar scan", 200ms);
//   scan.update(latest);                                     // from the driver callback
//   Scan s = scan.value_or_else([&] { return sonar_scan(); }); // from the control loop
//
// When a query finds the value newly stale (fresh -> stale), it reports it to vigild as
// STATUS=stale: lidar scan 640 ms old; when a fresh value arrives after that it sends an empty
// STATUS= to clear it. Transitions are noticed when the value is queried or updated (there is
// no thread); the report goes through the `reporter` (default: vigil::notify_status), called
// without the lock held. vigild keeps one STATUS line per component: with several Freshness
// objects, the last report wins.
//
// Thread safety: every member may be called concurrently (one mutex). T must be copyable.
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "vigil/notify.hpp"

namespace vigil {

template <typename T>
class Freshness {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFunction = std::function<Clock::time_point()>;
  using Reporter = std::function<void(std::string_view status)>;

  Freshness(std::string name, Clock::duration max_age, NowFunction now = {}, Reporter reporter = {})
      : name_(std::move(name)),
        max_age_(max_age),
        now_(now ? std::move(now) : NowFunction([] { return Clock::now(); })),
        reporter_(reporter ? std::move(reporter)
                           : Reporter([](std::string_view s) { (void)notify_status(s); })) {}

  // A new value, taken now (or at `taken_at`, e.g. the sensor's own timestamp).
  void update(T value) { update(std::move(value), now_()); }
  void update(T value, Clock::time_point taken_at) {
    std::unique_lock lock(mutex_);
    value_ = std::move(value);
    taken_at_ = taken_at;
    report_transition(lock);
  }

  // The value if it is fresh (age <= max_age), else nullopt (also when there never was one).
  std::optional<T> get() {
    std::unique_lock lock(mutex_);
    const bool fresh = report_transition(lock);
    return fresh ? value_ : std::nullopt;
  }
  // The value if fresh, else `backup`.
  T value_or_fallback(T backup) {
    auto v = get();
    return v ? std::move(*v) : std::move(backup);
  }
  // The value if fresh, else what the backup source returns (called only when stale).
  template <typename BackupSource>
  T value_or_else(BackupSource&& backup_source) {
    auto v = get();
    if (v) return std::move(*v);
    return std::forward<BackupSource>(backup_source)();
  }
  bool stale() {
    std::unique_lock lock(mutex_);
    return !report_transition(lock);
  }
  // Age of the value (nullopt before the first update).
  std::optional<Clock::duration> age() const {
    std::lock_guard lock(mutex_);
    if (!taken_at_) return std::nullopt;
    return now_() - *taken_at_;
  }
  const std::string& name() const { return name_; }
  Clock::duration max_age() const { return max_age_; }

 private:
  // Whether the value is fresh now; reports a change of freshness. Releases the lock.
  bool report_transition(std::unique_lock<std::mutex>& lock) {
    const auto now = now_();
    const bool fresh = taken_at_ && now - *taken_at_ <= max_age_;
    std::string report;
    bool send = false;
    if (!fresh && !reported_stale_) {
      reported_stale_ = true;
      send = true;
      report = "stale: " + name_ + " ";
      if (taken_at_) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - *taken_at_);
        report += std::to_string(ms.count()) + " ms old";
      } else {
        report += "never received";
      }
    } else if (fresh && reported_stale_) {
      reported_stale_ = false;
      send = true;  // empty STATUS= clears the stale report
    }
    lock.unlock();
    if (send) reporter_(report);
    return fresh;
  }

  const std::string name_;
  const Clock::duration max_age_;
  const NowFunction now_;
  const Reporter reporter_;
  mutable std::mutex mutex_;
  std::optional<T> value_;
  std::optional<Clock::time_point> taken_at_;
  // Starts false: a value that was never received is reported once it is first queried.
  bool reported_stale_ = false;
};

}  // namespace vigil
