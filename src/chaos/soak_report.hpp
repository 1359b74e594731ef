#pragma once
// What a chaos run proved, computed from the event log alone: each injected fault
// (`fault_injected`) matched to the detection that followed it on the same component (the
// first failure event within `detection_window`) and to the recovery after that (its next
// `ready`); failures nobody injected are false alarms (or collateral, when a fault was in
// effect on another component at the time); availability per component and of the system's
// modes; and the seed's targets marked met or not.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "health/event.hpp"

namespace vigil::chaos {

// Milliseconds; nearest-rank percentiles.
struct Distribution {
  int count = 0;
  double p50 = 0, p95 = 0, p99 = 0, max = 0;
  static Distribution of(std::vector<double> samples);
  nlohmann::json to_json() const;
};

struct FaultFigures {
  int injected = 0;
  int detected = 0;
  int recovered = 0;
  std::vector<double> detection_samples;  // ms, in injection order
  std::vector<double> recovery_samples;
  Distribution detection_ms;  // injection -> detection
  Distribution recovery_ms;   // detection -> ready again (MTTR)
};

struct Target {
  std::string name;
  std::string goal;
  std::string measured;
  std::optional<bool> met;  // none: the run cannot show it either way
};

// One injection as the timeline plots it.
struct InjectionRecord {
  std::int64_t at_us = 0;  // wall clock
  std::string fault;
  std::string target;
  std::optional<double> detection_ms;
  std::optional<double> recovery_ms;
  bool to_ride_out = false;  // `expect: none`
  bool ridden_out = false;
};

struct ModeSpan {
  std::int64_t from_us = 0;
  std::int64_t to_us = 0;
  std::string mode;
};

struct SoakOptions {
  Duration detection_window = std::chrono::seconds(30);
  std::string initial_mode;  // the system mode when the window opens (status `mode.name`)
};

struct SoakReport {
  std::int64_t window_start_us = 0;
  std::int64_t window_end_us = 0;
  std::map<std::string, FaultFigures> by_fault;  // kill, hang, heartbeat_loss, ...
  FaultFigures all;                              // faults that should be detected and recovered
  // Faults the robot should ride out with no failure (`expect: none`, e.g. packet loss a lease
  // absorbs): a failure of the target while one is in effect is not riding it out.
  int to_ride_out = 0;
  int ridden_out = 0;
  std::vector<nlohmann::json> not_ridden_out;  // the failure events
  int false_alarms = 0;                        // failures with no fault in effect anywhere
  int collateral = 0;  // failures while a fault was in effect (until its target was ready)
  std::vector<nlohmann::json> missed;  // injections never detected
  std::vector<nlohmann::json> false_alarm_events;
  int lost_events = 0;  // gaps in the event ids: events the log does not have
  std::map<std::string, double> availability;  // per component, 0..1
  double system_availability = 1.0;            // every component up
  std::map<std::string, double> mode_share;    // per mode, 0..1 of the window
  std::optional<double> nominal_or_degraded;   // with modes: the share of those two
  std::vector<Target> targets;
  std::vector<InjectionRecord> injections;  // in injection order
  std::vector<ModeSpan> mode_spans;         // the window cut by mode changes (with modes)

  nlohmann::json to_json() const;
  std::string to_markdown() const;
  // One self-contained page (no scripts, no external files): the tables above, a timeline of
  // the run (every injection at its time, its recovery time on a logarithmic axis, missed ones
  // marked, the system mode as a band below) and, per fault kind, every detection and
  // recovery time (inline SVG).
  std::string to_html() const;
};

// `events` oldest first, all of [window_start_us, window_end_us].
SoakReport compute_soak_report(const std::vector<health::Event>& events,
                               std::int64_t window_start_us, std::int64_t window_end_us,
                               const SoakOptions& options = {});

}  // namespace vigil::chaos
