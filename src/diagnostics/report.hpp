#pragma once
// Reliability figures computed from the event log alone (never from side counters):
// failures by kind, restarts, MTBF, MTTR (failure detected -> process running again, and ->
// ready again), availability over the window.
//
// A component is down from a failure event (crash, hang, not ready, ...) until its next
// `ready` event; startup and operator stops are not downtime. The system is down whenever any
// component is down. MTBF = up time in the window / failures.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "health/event.hpp"

namespace vigil::diagnostics {

struct Figures {
  std::map<std::string, int> failures_by_kind;
  int failures = 0;
  int restarts = 0;
  std::optional<double> mtbf_s;          // none without failures
  std::optional<double> mttr_running_s;  // failure -> next spawned
  std::optional<double> mttr_ready_s;    // failure -> next ready
  double availability = 1.0;             // 0..1
  double downtime_s = 0;
};

struct Report {
  std::int64_t window_start_us = 0;
  std::int64_t window_end_us = 0;
  std::map<std::string, Figures> components;
  Figures system;
  nlohmann::json to_json() const;
  std::string to_text() const;
};

// `events` oldest first within [window_start_us, window_end_us], optionally preceded by each
// component's last failure or readiness before the window (EventLog::state_before), so that
// a component already down when the window opens counts as down (but that failure is not
// counted in the window's failures or MTTR).
Report compute_report(const std::vector<health::Event>& events, std::int64_t window_start_us,
                      std::int64_t window_end_us);

}  // namespace vigil::diagnostics
