#pragma once
// Sensor dropout, judged from message arrival times alone (the type of the messages is never
// known): the rate, jitter and largest gap over a sliding window, and the age of the last
// message.
//
// Levels: `fail` once no message has arrived for `stale_after` (counted from when watching
// began if none ever came); `warn` while the rate is below `min_rate` or above `max_rate` for
// `for` (with 2 % hysteresis, so a sensor hovering at its limit does not toggle the level);
// `ok` otherwise. The rate is not judged before one whole window has been watched.
//
// The rate is the number of intervals between messages in the window over the time they span,
// which is exact for a steady publisher whatever the phase of the window; while a publisher is
// silent the open interval is counted too, so the rate falls as the silence lasts.
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "detection/threshold_monitor.hpp"

namespace vigil::detection {

struct TopicFigures {
  std::uint64_t messages = 0;  // since watching began
  double rate_hz = 0;          // over the window
  double jitter_ms = 0;        // standard deviation of the intervals in the window
  double largest_gap_ms = 0;   // largest interval in the window, the open one included
  double age_ms = 0;           // since the last message (since watching began if none yet)
  bool any = false;            // whether any message arrived
  nlohmann::json to_json() const;
};

struct TopicChange {
  MonitorLevel from = MonitorLevel::ok;
  MonitorLevel to = MonitorLevel::ok;
  std::string reason;  // "/scan: no message for 512ms (stale after 500ms)"
  nlohmann::json evidence;
};

class TopicMonitor {
 public:
  TopicMonitor(config::TopicMonitorSpec spec, TimePoint watching_since);

  // Arrival times, in order.
  void on_message(TimePoint at);
  // Judges the topic at `now`; returns the change of level, if any.
  std::optional<TopicChange> evaluate(TimePoint now);
  // When the topic turns stale if nothing arrives before (none without stale_after).
  std::optional<TimePoint> stale_at() const;

  TopicFigures figures(TimePoint now) const;
  MonitorLevel level() const { return level_; }
  const config::TopicMonitorSpec& spec() const { return spec_; }
  nlohmann::json describe(TimePoint now) const;

  // Arrivals kept at most, whatever the window (a 10 kHz topic with a long window).
  static constexpr std::size_t kMaxArrivals = 100'000;

 private:
  config::TopicMonitorSpec spec_;
  TimePoint since_;
  std::deque<TimePoint> arrivals_;  // within the window, plus the one before it
  std::uint64_t messages_ = 0;
  std::optional<TimePoint> last_;
  std::optional<ThresholdMonitor> too_slow_;
  std::optional<ThresholdMonitor> too_fast_;
  MonitorLevel level_ = MonitorLevel::ok;
  std::string rate_reason_;

  void forget_before(TimePoint now);
  std::string describe_rate(const TopicFigures& f) const;
};

}  // namespace vigil::detection
