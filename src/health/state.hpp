#pragma once
// The one health state each component is in. Observers (CLI, future HTTP, DDS /diagnostics)
// only ever see these values and the reason attached to the transition.
#include <optional>
#include <string_view>

namespace vigil::health {

enum class State {
  stopped,   // not running and not wanted, or finished cleanly and not to be restarted
  starting,  // process spawned, waiting for readiness (READY=1, tcp or exec probe)
  running,   // ready and, if a watchdog is configured, heartbeating
  stopping,  // stop signal sent (or STOPPING=1 reported), waiting for the process group to exit
  backoff,   // failed; a restart is scheduled after a delay
  failed,    // failed and not restarted by its own policy (temporary, or its group escalated)
  given_up,  // the supervision tree exhausted its restart intensity; waits for an operator
};

// ROS diagnostic_msgs/DiagnosticStatus levels, for observers that publish them.
enum class Level { ok = 0, warn = 1, error = 2, stale = 3 };

std::string_view to_string(State s);
std::optional<State> state_from_string(std::string_view s);
Level level_of(State s);
std::string_view to_string(Level l);

}  // namespace vigil::health
