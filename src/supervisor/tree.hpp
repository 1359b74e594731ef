#pragma once
// The supervisor's own view of the tree: groups and components with their live state. Only
// the supervisor's translation units include this; everyone else sees Supervisor::status().
#include <fmt/format.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "detection/liveness.hpp"
#include "health/state.hpp"
#include "supervisor/backoff.hpp"
#include "supervisor/ladder.hpp"
#include "supervisor/process_runner.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::supervisor {

using health::State;

struct Group {
  config::GroupSpec spec;  // children specs are not used after build
  Group* parent = nullptr;
  std::vector<std::unique_ptr<Group>> groups;
  // Children in declaration order: exactly one of the pair is set.
  std::vector<std::pair<Component*, Group*>> children;
  RestartIntensity intensity;
  int consecutive_failures = 0;
  TimePoint last_failure{};
  int restarts = 0;

  explicit Group(const config::GroupSpec& s) : intensity(s.intensity) {
    spec.name = s.name;
    spec.strategy = s.strategy;
    spec.intensity = s.intensity;
    spec.backoff = s.backoff;
    spec.after = s.after;
    spec.location = s.location;
  }
};

struct Component {
  config::ComponentSpec spec;
  Group* parent = nullptr;
  State state = State::stopped;
  std::string reason = "not started yet";
  bool wanted = true;
  pid_t pid = 0;
  std::uint64_t launch_generation = 0;
  TimePoint spawned_at{};
  TimePoint ready_at{};
  std::int64_t since_wall_us = 0;  // when the current state began, for uptime
  int restarts = 0;
  int consecutive_failures = 0;
  TimePoint not_before{};
  detection::Liveness liveness;  // judges heartbeats and watched loops while running
  detection::Verdict::Level watch_level = detection::Verdict::Level::ok;
  bool capturing_stacks = false;  // a hang was detected; its evidence is being gathered
  std::uint64_t heartbeats = 0;   // WATCHDOG=1 received from this process
  // Active warnings by source ("watchdog", "rss", ...): the component is running but at WARN.
  std::map<std::string, std::string> warnings;
  // Expires with the component: asynchronous work (a stack capture) checks it before use.
  std::shared_ptr<int> lifetime = std::make_shared<int>(0);
  std::string status_text;
  int reported_errno = 0;
  bool exec_failing = false;  // suppresses repeated identical exec failure events
  int exec_failures = 0;
  StopPurpose stop_purpose = StopPurpose::none;
  std::string stop_reason;
  bool stop_pending = false;  // waiting for dependants to stop first
  bool stop_signalled = false;
  bool failure_recorded = false;  // a hang/not-ready already counted before the kill
  nlohmann::json last_failure;
  int probe_failures = 0;
  std::unique_ptr<Probe> probe;
  Timer start_timer;
  Timer watchdog_timer;
  Timer stop_timer;
  Timer backoff_timer;
  Timer stable_timer;
  Timer probe_timer;
  // Escalation ladder and standby pairing (see ladder.hpp and StandbySpec).
  Ladder ladder{&spec.recovery};
  std::vector<std::string> forced_modes;  // modes this component's ladder holds forced
  std::string replaced_by;                // a primary: the standby serving for it
  std::string serving_for;                // a standby: the primary it is serving for
  int ownership_strength = 0;             // a pair member: the strength of its last launch
  config::ComponentSpec launch_spec;      // a pair member: spec plus its role's environment
  Timer failback_timer;

  Component(config::ComponentSpec s, Scheduler& sched)
      : spec(std::move(s)),
        liveness(spec.watchdog),
        start_timer(sched),
        watchdog_timer(sched),
        stop_timer(sched),
        backoff_timer(sched),
        stable_timer(sched),
        probe_timer(sched),
        failback_timer(sched) {}

  bool alive() const { return pid != 0; }
};

inline std::string group_path(const Group* g) {
  std::string out;
  for (; g != nullptr; g = g->parent) out = out.empty() ? g->spec.name : g->spec.name + "/" + out;
  return out;
}

inline void collect(const Group& g, std::vector<Component*>& out) {
  for (const auto& [c, sub] : g.children) {
    if (c != nullptr)
      out.push_back(c);
    else
      collect(*sub, out);
  }
}

inline std::vector<std::string> names_of(const std::vector<Component*>& components) {
  std::vector<std::string> names;
  names.reserve(components.size());
  for (const auto* c : components) names.push_back(c->spec.name);
  return names;
}

// Components that sit out a group restart: an idle cold standby, and a primary held stopped
// while its standby serves. A restart of their group must not start them.
inline bool stood_down(const Component& c) {
  if (c.wanted) return false;
  return (c.spec.standby && !c.spec.standby->hot && c.serving_for.empty()) ||
         !c.replaced_by.empty();
}

inline void drop_stood_down(std::vector<Component*>& set) {
  std::erase_if(set, [](const Component* c) { return stood_down(*c); });
}

constexpr Duration kWatchdogSlack = std::chrono::milliseconds(4);

inline std::int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A recovery step waiting for an operator's answer (Supervisor::decide).
struct Supervisor::PendingApproval {
  std::string id;
  std::string component;
  int rung = 0;  // the ladder index it was requested at; stale once the ladder moved
  std::string action;
  std::string why;
  bool approve_on_timeout = false;
  std::int64_t requested_us = 0;
  std::int64_t deadline_us = 0;
  Duration timeout{};
  Timer timer;
  explicit PendingApproval(Scheduler& s) : timer(s) {}
};

}  // namespace vigil::supervisor
