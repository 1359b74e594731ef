#include "health/event.hpp"

#include <array>

namespace vigil::health {
namespace {

constexpr std::array<std::pair<EventKind, std::string_view>, 32> kKinds{{
    {EventKind::daemon_started, "daemon_started"},
    {EventKind::daemon_stopping, "daemon_stopping"},
    {EventKind::spawned, "spawned"},
    {EventKind::adopted, "adopted"},
    {EventKind::ready, "ready"},
    {EventKind::exited, "exited"},
    {EventKind::exec_failed, "exec_failed"},
    {EventKind::hang_detected, "hang_detected"},
    {EventKind::start_timeout, "start_timeout"},
    {EventKind::probe_failed, "probe_failed"},
    {EventKind::stop_requested, "stop_requested"},
    {EventKind::stop_escalated, "stop_escalated"},
    {EventKind::stopped, "stopped"},
    {EventKind::restart_scheduled, "restart_scheduled"},
    {EventKind::escalated, "escalated"},
    {EventKind::given_up, "given_up"},
    {EventKind::orphan_reaped, "orphan_reaped"},
    {EventKind::operator_command, "operator_command"},
    {EventKind::config_reloaded, "config_reloaded"},
    {EventKind::status_changed, "status_changed"},
    {EventKind::warning, "warning"},
    {EventKind::warning_cleared, "warning_cleared"},
    {EventKind::resource_exceeded, "resource_exceeded"},
    {EventKind::hook_finished, "hook_finished"},
    {EventKind::topic_stale, "topic_stale"},
    {EventKind::mode_changed, "mode_changed"},
    {EventKind::recovery_step, "recovery_step"},
    {EventKind::standby_activated, "standby_activated"},
    {EventKind::approval_requested, "approval_requested"},
    {EventKind::approval_decided, "approval_decided"},
    {EventKind::fault_injected, "fault_injected"},
    {EventKind::fault_cleared, "fault_cleared"},
}};

constexpr std::array<std::pair<FailureKind, std::string_view>, 12> kFailures{{
    {FailureKind::none, ""},
    {FailureKind::crash, "crash"},
    {FailureKind::exit_code, "exit_code"},
    {FailureKind::signal, "signal"},
    {FailureKind::core_dump, "core_dump"},
    {FailureKind::hang, "hang"},
    {FailureKind::not_ready, "not_ready"},
    {FailureKind::probe, "probe"},
    {FailureKind::exec, "exec"},
    {FailureKind::resource, "resource"},
    {FailureKind::oom, "oom"},
    {FailureKind::topic, "topic"},
}};

}  // namespace

std::string_view to_string(EventKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "?";
}

bool event_kind_from_string(std::string_view s, EventKind& out) {
  for (const auto& [kind, name] : kKinds) {
    if (name == s) {
      out = kind;
      return true;
    }
  }
  return false;
}

std::string_view to_string(FailureKind k) {
  for (const auto& [kind, name] : kFailures) {
    if (kind == k) return name;
  }
  return "";
}

FailureKind failure_kind_from_string(std::string_view s) {
  for (const auto& [kind, name] : kFailures) {
    if (name == s) return kind;
  }
  return FailureKind::none;
}

nlohmann::json Event::to_json() const {
  nlohmann::json j = {{"id", id},           {"wall_us", wall_us},     {"mono_us", mono_us},
                      {"boot_id", boot_id}, {"component", component}, {"kind", to_string(kind)},
                      {"state", state},     {"reason", reason},       {"detail", detail}};
  if (failure != FailureKind::none) j["failure"] = to_string(failure);
  return j;
}

Event Event::from_json(const nlohmann::json& j) {
  Event e;
  e.id = j.value("id", std::int64_t{0});
  e.wall_us = j.value("wall_us", std::int64_t{0});
  e.mono_us = j.value("mono_us", std::int64_t{0});
  e.boot_id = j.value("boot_id", std::string{});
  e.component = j.value("component", std::string{});
  event_kind_from_string(j.value("kind", std::string{}), e.kind);
  e.state = j.value("state", std::string{});
  e.failure = failure_kind_from_string(j.value("failure", std::string{}));
  e.reason = j.value("reason", std::string{});
  if (j.contains("detail")) e.detail = j["detail"];
  return e;
}

}  // namespace vigil::health
