#pragma once
// Which system mode the robot is in, from which mode rules hold and for how long. Pure: the
// caller evaluates the rules (health/mode_rule.hpp) on the current health and passes the time.
//
// Modes are ordered from the least to the most severe; mode 0 is the default, active when no
// other applies. A mode applies once its rule has held for its `enter_after`; the most severe
// that applies is chosen. Moving to a more severe mode happens at once (safety does not wait).
// Moving to a less severe one needs the current mode's rule to have been false for its
// `exit_after` (hysteresis) and the mode to have lasted its `dwell`, so a health signal
// flickering at a boundary does not make the robot's behaviour flap.
#include <cstddef>
#include <optional>
#include <vector>

#include "common/scheduler.hpp"
#include "config/spec.hpp"

namespace vigil::health {

class ModeManager {
 public:
  struct Switch {
    std::size_t from = 0;
    std::size_t to = 0;
    bool more_severe = false;
  };

  // Starts in the default mode, or (after a reload) in mode `initial`, entered at `entered_at`:
  // it is then left like any mode, once its rule has been false for exit_after and its dwell
  // has passed.
  ModeManager(std::vector<config::ModeSpec> modes, TimePoint now, std::size_t initial = 0,
              std::optional<TimePoint> entered_at = std::nullopt);

  // `holds[i]`: whether mode i's rule holds now (holds[0], the default's, is ignored).
  std::optional<Switch> evaluate(const std::vector<bool>& holds, TimePoint now);
  // When, after `now`, evaluate() with the same `holds` may decide differently (a pending
  // enter_after, exit_after or dwell runs out); none when nothing is pending.
  std::optional<TimePoint> next_check(TimePoint now) const;

  std::size_t current() const { return current_; }
  TimePoint since() const { return entered_at_; }
  const config::ModeSpec& mode(std::size_t i) const { return modes_.at(i); }
  std::size_t size() const { return modes_.size(); }

 private:
  std::vector<config::ModeSpec> modes_;
  std::vector<std::optional<TimePoint>> true_since_;   // per mode: since when its rule holds
  std::vector<std::optional<TimePoint>> false_since_;  // per mode: since when it does not
  std::size_t current_ = 0;
  TimePoint entered_at_;

  bool applies(std::size_t i, TimePoint now) const;
};

}  // namespace vigil::health
