#pragma once
// Whether a running component is alive, judged from what it reports: heartbeats (WATCHDOG=1)
// against a fixed timeout and/or a phi-accrual detector, and the progress of each watched
// loop against its own deadline. Two levels: WARN (the "soft watchdog": late, not yet dead)
// and HANG. Pure and clock-free: the supervisor feeds it arrival times, asks when the
// verdict could next change, and arms one timer for that moment.
//
// Quiet periods: nothing is judged before `grace` has passed since readiness, nor before the
// end of an EXTEND_TIMEOUT_USEC extension; a deadline that falls inside a quiet period moves
// to its end (so a program must beat again, or extend again, before the extension runs out,
// as with systemd's EXTEND_TIMEOUT_USEC). An interval spanning an extension is not learned
// by the phi detector.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "detection/phi_accrual.hpp"

namespace vigil::detection {

struct Verdict {
  enum class Level { ok, warn, hang };
  Level level = Level::ok;
  std::string reason;  // one sentence, e.g. "no heartbeat for 1.2s (timeout 1s)"
  nlohmann::json evidence = nlohmann::json::object();
};

class Liveness {
 public:
  static constexpr std::size_t kMaxLoops = 64;

  explicit Liveness(const config::WatchdogSpec& spec);

  // A new process was started: nothing of the previous one's loops applies.
  void forget_process();
  // The component became ready at `at` (or was adopted): everything starts from there. Loops
  // declared before readiness are kept (a program declares them as it starts its threads).
  void start(TimePoint at, Duration grace);

  void heartbeat(TimePoint at);
  // A beat of one watched loop; false if the loop was never declared.
  bool loop_heartbeat(std::string_view loop, TimePoint at);
  // Declares (or changes the deadline of) a watched loop, counting as its first beat.
  Result<void> declare_loop(std::string_view loop, Duration deadline, TimePoint at);
  void retire_loop(std::string_view loop);
  // WATCHDOG_USEC=: a new fixed timeout (nullopt disables it), counted from `at`.
  void set_timeout(std::optional<Duration> timeout, TimePoint at);
  // EXTEND_TIMEOUT_USEC= while running: no hang before `until`.
  void extend_until(TimePoint until);

  // Anything to watch (a timeout, a phi detector, or loops).
  bool active() const;
  // The earliest time at which evaluate() could return a worse level than `current` if
  // nothing is reported meanwhile; TimePoint::max() if never.
  TimePoint next_deadline(Verdict::Level current) const;
  Verdict evaluate(TimePoint now) const;

  double phi(TimePoint now) const;
  std::optional<Duration> timeout() const { return timeout_; }
  std::uint64_t heartbeats() const { return heartbeats_; }
  TimePoint last_heartbeat() const { return last_beat_; }
  // Detector figures for status and metrics: phi, mean, std, loops with their ages.
  nlohmann::json describe(TimePoint now) const;

 private:
  struct Loop {
    Duration deadline{};
    TimePoint last{};
    std::uint64_t beats = 0;
    bool from_config = false;
  };
  TimePoint quiet_until() const;
  TimePoint hang_deadline_of_heartbeat() const;
  TimePoint warn_deadline_of_heartbeat() const;
  nlohmann::json evidence(TimePoint now) const;

  config::WatchdogSpec spec_;
  std::optional<Duration> timeout_;
  std::optional<PhiAccrualDetector> phi_;
  std::map<std::string, Loop, std::less<>> loops_;
  TimePoint last_beat_{};
  TimePoint grace_until_{};
  TimePoint extended_until_{};
  bool extension_since_beat_ = false;
  std::uint64_t heartbeats_ = 0;
};

std::string_view to_string(Verdict::Level level);

}  // namespace vigil::detection
