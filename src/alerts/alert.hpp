#pragma once
// An alert as vigild tells an operator about it, and the two wire formats it goes out in:
// Alertmanager's API v2 (POST /api/v2/alerts) and vigil's own webhook body (docs/PROTOCOL.md,
// "Alerts"), which the exec hook receives too.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vigil::alerts {

inline constexpr std::string_view kComponentFailed = "VigilComponentFailed";
inline constexpr std::string_view kGroupEscalated = "VigilGroupEscalated";
inline constexpr std::string_view kSupervisorGaveUp = "VigilSupervisorGaveUp";
inline constexpr std::string_view kApprovalPending = "VigilApprovalPending";
inline constexpr std::string_view kComponentSafeStopped = "VigilComponentSafeStopped";
inline constexpr std::string_view kEventLogNotWritable = "VigilEventLogNotWritable";
inline constexpr std::string_view kStateDirNotWritable = "VigilStateDirNotWritable";

struct Alert {
  std::string key;                            // identity for de-duplication: "<alertname>/<node>"
  std::string name;                           // alertname
  std::map<std::string, std::string> labels;  // alertname, severity, component|group, ...
  std::map<std::string, std::string> annotations;  // summary, failure, event_id, ...
  std::int64_t starts_at_us = 0;                   // wall clock, microseconds since the epoch
  std::int64_t ends_at_us = 0;                     // 0 while firing
  int failures = 1;                                // events that (re)fired it while firing
};

// RFC 3339 in UTC with milliseconds: 2024-05-01T12:00:00.123Z
std::string rfc3339(std::int64_t wall_us);

// The webhook (and exec hook) body: {version, status, alertname, labels, annotations,
// starts_at, ends_at, event}. `event` is the health event that fired or resolved the alert.
nlohmann::json webhook_body(const Alert& alert, const nlohmann::json& event);

// One element of Alertmanager's postable alerts array. A firing alert is posted with endsAt
// in the future (renewed before it passes), a resolved one with endsAt = now.
nlohmann::json alertmanager_alert(const Alert& alert, std::int64_t ends_at_us);

// This machine's name, for the `instance` label.
std::string host_name();

}  // namespace vigil::alerts
