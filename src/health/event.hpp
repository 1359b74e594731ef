#pragma once
// One thing that happened: a transition or an action, with its reason. The supervisor emits
// these; the event log stores them; every observer reads them. Nothing else carries history.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::health {

// What happened. Stored as text so the log stays readable with the sqlite3 shell.
enum class EventKind {
  daemon_started,     // vigild started (detail: pid, config)
  daemon_stopping,    // vigild is shutting down (detail: why)
  spawned,            // a process started (detail: pid, restart number)
  adopted,            // a process left by a previous vigild was taken over
  ready,              // the component became ready
  exited,             // the main process exited (detail: classification, output tail)
  exec_failed,        // the program could not be executed (detail: errno)
  hang_detected,      // watchdog deadline missed or WATCHDOG=trigger
  start_timeout,      // not ready within start_timeout
  probe_failed,       // readiness probe failed failure_threshold times after ready
  stop_requested,     // a stop began (detail: why, signal)
  stop_escalated,     // stop timeout passed: SIGKILL sent to the process group
  stopped,            // the component is down after a stop
  restart_scheduled,  // detail: delay_ms, attempt
  escalated,          // a group exceeded its restart intensity and failed to its parent
  given_up,           // the root exhausted its restart intensity; final action taken
  orphan_reaped,      // a descendant process re-parented to vigild was reaped
  operator_command,   // start/stop/restart/reload asked by an operator
  config_reloaded,    // detail: added, removed, changed
  status_changed,     // the component's STATUS= text or ERRNO= changed
  warning,            // a monitor or the soft watchdog entered WARN (detail: source, evidence)
  warning_cleared,    // ... and left it again
  resource_exceeded,  // a resource monitor reached its fail level (detail: evidence, action)
  hook_finished,      // a monitor's hook command ran (detail: argv, status, output)
  topic_stale,        // a monitored topic went silent: sensor dropout (detail: figures, action)
  mode_changed,       // the system mode changed (component "system"; detail: from, rule, atoms)
  recovery_step,      // a component climbed its escalation ladder (detail: step, action, why)
  standby_activated,  // a standby serves for its failed primary (detail: primary, hot)
  approval_requested,  // a recovery step waits for an operator (detail: id, timeout, default)
  approval_decided,    // ... approved or denied by an operator, or timed out (detail: by)
  fault_injected,      // `vigil chaos` injected a fault (detail: id, fault, pid, until_us)
  fault_cleared,       // ... a timed fault ended (detail: id, fault, undone, why)
};
// The last kind, for tables that cover them all.
inline constexpr EventKind kLastEventKind = EventKind::fault_cleared;

// Why a component failed; empty for events that are not failures.
enum class FailureKind {
  none,
  crash,
  exit_code,
  signal,
  core_dump,
  hang,
  not_ready,
  probe,
  exec,
  resource,  // a resource monitor's fail level (RSS, CPU, threads, fds, leak)
  oom,       // killed by the kernel's OOM killer (global or the component's cgroup)
  topic,     // a monitored topic went silent (sensor dropout)
};

std::string_view to_string(EventKind k);
std::string_view to_string(FailureKind k);
bool event_kind_from_string(std::string_view s, EventKind& out);
FailureKind failure_kind_from_string(std::string_view s);

struct Event {
  std::int64_t id = 0;       // assigned by the event log
  std::int64_t wall_us = 0;  // CLOCK_REALTIME, microseconds since the epoch
  std::int64_t mono_us = 0;  // CLOCK_MONOTONIC, microseconds (comparable within one boot)
  std::string boot_id;
  std::string component;  // component or group name; empty for daemon events
  EventKind kind = EventKind::daemon_started;
  std::string state;  // the component's state after this event, when it has one
  FailureKind failure = FailureKind::none;
  std::string reason;  // one human sentence: why
  nlohmann::json detail = nlohmann::json::object();

  nlohmann::json to_json() const;
  static Event from_json(const nlohmann::json& j);
};

// Observers subscribe to the event stream; each is called on the event loop, in order.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& event) = 0;
};

}  // namespace vigil::health
