#pragma once
// One monitored figure (RSS, CPU %, threads, a leak rate, free disk, ...) turned into a level
// without flapping. Debounce: a level is entered only after the figure has been beyond its
// threshold for `samples` consecutive samples AND for `hold`; it is left the same way.
// Hysteresis: a level is left only when the figure falls below its `clear` value, which sits
// below the entering threshold (by default 10 % below), so a noisy signal hovering at the
// threshold does not toggle the level on every sample.
//
// For figures where low is bad (free memory, free disk) construct with `low_is_bad`: the
// comparisons are mirrored (enter at <= threshold, leave above clear, default 10 % above).
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/scheduler.hpp"
#include "common/units.hpp"

namespace vigil::detection {

enum class MonitorLevel { ok, warn, fail };
std::string_view to_string(MonitorLevel level);

struct ThresholdParameters {
  std::optional<double> warn;
  std::optional<double> fail;
  std::optional<double> warn_clear;  // default warn -/+ 10 %
  std::optional<double> fail_clear;  // default fail -/+ 10 %
  Duration hold{0};                  // how long a condition must last
  int samples = 1;                   // how many consecutive samples it must last
  bool low_is_bad = false;
};

class ThresholdMonitor {
 public:
  struct Change {
    MonitorLevel from;
    MonitorLevel to;
    double value;
    double threshold;  // the threshold crossed (entering) or the clear value (leaving)
  };

  explicit ThresholdMonitor(ThresholdParameters parameters);

  // Feeds one sample; returns the level change it completes, if any.
  std::optional<Change> sample(double value, TimePoint at);
  MonitorLevel level() const { return level_; }
  void reset();  // the process was restarted: forget everything

  // The recent samples (value, ms before `now`), for the evidence of a detection.
  nlohmann::json recent(TimePoint now) const;
  const ThresholdParameters& parameters() const { return p_; }

 private:
  struct Run {
    std::optional<TimePoint> since;
    int count = 0;
    void extend(TimePoint at) {
      if (!since) since = at;
      ++count;
    }
    void clear() { *this = Run{}; }
  };
  bool beyond(double value, double threshold) const;
  bool lasted(const Run& run, TimePoint at) const;
  double clear_of(MonitorLevel level) const;

  ThresholdParameters p_;
  MonitorLevel level_ = MonitorLevel::ok;
  Run above_warn_, above_fail_, below_clear_;
  std::deque<std::pair<TimePoint, double>> recent_;
};

// Sustained growth of a figure (RSS): the least-squares slope over a sliding window, given
// only once the samples span most of the window, so that a start-up ramp or a single
// allocation burst is not a leak.
class GrowthRate {
 public:
  explicit GrowthRate(Duration window);
  void sample(double value, TimePoint at);
  // Units per second, once the samples span at least 90 % of the window.
  std::optional<double> per_second() const;
  // Coefficient of determination of the fit: near 1 for steady growth.
  double r_squared() const;
  void reset() { points_.clear(); }

 private:
  struct Fit {
    double slope;      // units per second
    double r_squared;  // 0..1
  };
  std::optional<Fit> fit() const;

  Duration window_;
  Duration spacing_;
  std::deque<std::pair<TimePoint, double>> points_;
};

}  // namespace vigil::detection
