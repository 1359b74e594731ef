#include "config/spec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>

namespace vigil::config {

bool ComponentSpec::same_behaviour(const ComponentSpec& o) const {
  return name == o.name && command == o.command && env == o.env && cwd == o.cwd &&
         restart == o.restart && backoff == o.backoff && ready == o.ready &&
         start_timeout == o.start_timeout && watchdog == o.watchdog && grace == o.grace &&
         stop == o.stop && after == o.after && output == o.output && resources == o.resources &&
         limits == o.limits && user == o.user && standby == o.standby;
}

std::string ComponentSpec::process_fingerprint() const {
  std::string text;
  for (const auto& a : command) text += a + '\0';
  text += '\1';
  for (const auto& [k, v] : env) text += k + '=' + v + '\0';
  text += '\1' + cwd + '\1';
  if (watchdog.timeout) text += std::to_string(watchdog.timeout->count());
  // Only when set, so that fingerprints recorded before limits existed stay valid.
  for (const auto& r : limits.rlimits) {
    text += fmt::format("\2{}:{}:{}", r.resource, r.value, r.unlimited);
  }
  if (limits.wants_cgroup()) {
    text += fmt::format("\3{}:{}:{}", limits.memory_max.value_or(0), limits.cpu_max.value_or(0),
                        limits.pids_max.value_or(0));
  }
  if (user) text += fmt::format("\4{}:{}", user->uid, user->gid);
  return fmt::format("{:016x}", std::hash<std::string>{}(text));
}

const std::string& NodeSpec::name() const {
  return std::visit([](const auto& n) -> const std::string& { return n.name; }, node);
}

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::one_for_one:
      return "one_for_one";
    case Strategy::one_for_all:
      return "one_for_all";
    case Strategy::rest_for_one:
      return "rest_for_one";
  }
  return "?";
}

const char* to_string(RestartType r) {
  switch (r) {
    case RestartType::permanent:
      return "permanent";
    case RestartType::transient:
      return "transient";
    case RestartType::temporary:
      return "temporary";
  }
  return "?";
}

const char* to_string(FinalAction a) {
  switch (a) {
    case FinalAction::stop:
      return "stop";
    case FinalAction::retry:
      return "retry";
  }
  return "?";
}

const char* to_string(MonitorAction a) {
  switch (a) {
    case MonitorAction::warn:
      return "warn";
    case MonitorAction::restart:
      return "restart";
    case MonitorAction::hook:
      return "hook";
  }
  return "?";
}

const char* to_string(RecoveryStep::Action a) {
  switch (a) {
    case RecoveryStep::Action::restart:
      return "restart";
    case RecoveryStep::Action::restart_group:
      return "restart_group";
    case RecoveryStep::Action::standby:
      return "standby";
    case RecoveryStep::Action::mode:
      return "mode";
    case RecoveryStep::Action::safe_stop:
      return "safe_stop";
  }
  return "?";
}

const char* to_string(StandbySpec::Failback f) {
  switch (f) {
    case StandbySpec::Failback::immediate:
      return "immediate";
    case StandbySpec::Failback::stay:
      return "stay";
    case StandbySpec::Failback::after:
      return "after";
  }
  return "?";
}

bool valid_loop_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.' ||
           c == '/';
  });
}

const char* to_string(DetectorKind k) {
  return k == DetectorKind::phi ? "phi" : "fixed";
}

const char* to_string(ReadySpec::Kind k) {
  switch (k) {
    case ReadySpec::Kind::none:
      return "none";
    case ReadySpec::Kind::notify:
      return "notify";
    case ReadySpec::Kind::tcp:
      return "tcp";
    case ReadySpec::Kind::exec:
      return "exec";
  }
  return "?";
}

}  // namespace vigil::config
