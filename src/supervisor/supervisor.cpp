#include "supervisor/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <set>

#include "common/units.hpp"
#include "detection/liveness.hpp"
#include "supervisor/tree.hpp"

namespace vigil::supervisor {

using health::EventKind;
using health::FailureKind;
using health::State;

Supervisor::Supervisor(const config::SystemSpec& spec, Dependencies deps)
    : deps_(std::move(deps)), spec_(spec) {
  std::map<std::string, std::unique_ptr<Component>> none;
  root_ = build_group(spec_.root, nullptr, &none);
  index_tree();
}

Supervisor::~Supervisor() = default;

std::unique_ptr<Group> Supervisor::build_group(
    const config::GroupSpec& spec, Group* parent,
    std::map<std::string, std::unique_ptr<Component>>* reuse) {
  auto group = std::make_unique<Group>(spec);
  group->parent = parent;
  for (const auto& child : spec.children) {
    if (const auto* cs = std::get_if<config::ComponentSpec>(&child.node)) {
      std::unique_ptr<Component> c;
      auto it = reuse->find(cs->name);
      if (it != reuse->end()) {
        c = std::move(it->second);
        reuse->erase(it);
        const bool ladder_changed = c->spec.recovery != cs->recovery;
        c->spec = *cs;  // same behaviour; the location may have moved
        if (ladder_changed) {
          cancel_approvals(*c, "its recovery ladder changed");
          c->ladder.rebind(&c->spec.recovery);
          release_modes(*c);
        }
      } else {
        c = std::make_unique<Component>(*cs, deps_.scheduler);
        c->since_wall_us = deps_.scheduler.wall_now_us();  // stopped since it was declared
        if (cs->standby && !cs->standby->hot) {
          c->wanted = false;
          c->reason = fmt::format(
              "cold standby for {}: started when {} needs it (its recovery "
              "ladder, or a failure it is not restarted from)",
              cs->standby->primary, cs->standby->primary);
        }
      }
      c->parent = group.get();
      group->children.emplace_back(c.get(), nullptr);
      owned_.push_back(std::move(c));
    } else {
      auto sub = build_group(std::get<config::GroupSpec>(child.node), group.get(), reuse);
      group->children.emplace_back(nullptr, sub.get());
      group->groups.push_back(std::move(sub));
    }
  }
  return group;
}

void Supervisor::index_tree() {
  components_.clear();
  by_name_.clear();
  groups_.clear();
  waits_for_.clear();
  dependants_.clear();
  collect(*root_, components_);
  for (auto* c : components_) by_name_[c->spec.name] = c;
  std::function<void(Group&)> index_groups = [&](Group& g) {
    groups_[g.spec.name] = &g;
    for (auto& sub : g.groups) index_groups(*sub);
  };
  index_groups(*root_);
  // c waits for every member of every node named in `after` of c or of a group holding c.
  for (auto* c : components_) {
    std::set<Component*> waits;
    auto add_target = [&](const std::string& target) {
      for (auto* m : components_under(target)) {
        if (m != c) waits.insert(m);
      }
    };
    for (const auto& t : c->spec.after) add_target(t);
    for (Group* g = c->parent; g != nullptr; g = g->parent) {
      for (const auto& t : g->spec.after) add_target(t);
    }
    waits_for_[c].assign(waits.begin(), waits.end());
    for (auto* w : waits) dependants_[w].push_back(c);
  }
}

Component* Supervisor::find_component(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<Component*> Supervisor::components_under(const std::string& name) const {
  std::vector<Component*> out;
  if (auto* c = find_component(name)) {
    out.push_back(c);
  } else if (auto it = groups_.find(name); it != groups_.end()) {
    collect(*it->second, out);
  }
  return out;
}

std::vector<Supervisor::MonitorTarget> Supervisor::monitor_targets() const {
  std::vector<MonitorTarget> out;
  const TimePoint now = deps_.scheduler.now();
  for (const auto* c : components_) {
    if (c->state != State::running || c->pid == 0) continue;
    out.push_back({c->spec.name, c->pid, now >= c->ready_at + c->spec.grace, &c->spec});
  }
  return out;
}

void Supervisor::on_monitor(const std::string& component, pid_t pid, const std::string& source,
                            int level, const std::string& reason, nlohmann::json evidence,
                            config::MonitorAction action, FailureKind kind) {
  Component* c = find_component(component);
  // A sample of a process that has been replaced since says nothing about the new one.
  if (c == nullptr || c->pid != pid || c->state != State::running || c->capturing_stacks) return;
  if (level == 0) {
    clear_warning(*c, source, reason);
    return;
  }
  if (level == 1) {
    set_warning(*c, source, reason, std::move(evidence));
    return;
  }
  evidence["source"] = source;
  evidence["action"] = config::to_string(action);
  const bool topic = kind == FailureKind::topic;
  const EventKind event = topic ? EventKind::topic_stale : EventKind::resource_exceeded;
  const char* what = topic ? "sensor dropout" : "resource limit";
  if (action == config::MonitorAction::restart) {
    fail(*c, kind, event, fmt::format("{}: {}", what, reason), c->spec.stop.signal,
         std::move(evidence));
    return;
  }
  // warn or hook: recorded and shown, the process keeps running.
  c->warnings[source] = reason;
  emit(c->spec.name, event, std::string(health::to_string(c->state)),
       fmt::format("{} ({}): {}", what, config::to_string(action), reason), FailureKind::none,
       std::move(evidence));
}

std::string Supervisor::component_of(pid_t main_pid) const {
  auto it = by_pid_.find(main_pid);
  return it == by_pid_.end() ? std::string() : it->second->spec.name;
}

void Supervisor::report_hang(const std::string& component, pid_t pid, const std::string& reason,
                             nlohmann::json evidence) {
  Component* c = find_component(component);
  if (c == nullptr || c->pid != pid || c->state != State::running || c->capturing_stacks) return;
  nlohmann::json detail = c->liveness.describe(deps_.scheduler.now());
  detail.update(evidence);
  on_hang(*c, reason, std::move(detail));
}

bool Supervisor::is_component(const std::string& name) const {
  return by_name_.count(name) != 0;
}

int Supervisor::alive_count() const {
  int n = 0;
  for (auto* c : components_) n += c->alive() ? 1 : 0;
  for (const auto& c : retired_) n += c->alive() ? 1 : 0;
  return n;
}

void Supervisor::set_pid(Component& c, pid_t pid) {
  if (c.pid != 0) by_pid_.erase(c.pid);
  c.pid = pid;
  if (pid != 0) by_pid_[pid] = &c;
}

void Supervisor::emit(const std::string& component, EventKind kind, std::string state,
                      std::string reason, FailureKind failure, nlohmann::json detail) {
  health::Event e;
  e.wall_us = deps_.scheduler.wall_now_us();
  e.mono_us = std::chrono::duration_cast<std::chrono::microseconds>(
                  deps_.scheduler.now().time_since_epoch())
                  .count();
  if (event_time_) {
    // A detection whose evidence took time to gather is dated when it was detected.
    e.wall_us = event_time_->first;
    e.mono_us = event_time_->second;
  }
  e.component = component;
  e.kind = kind;
  e.state = std::move(state);
  e.failure = failure;
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  deps_.emit(std::move(e));
}

// The one place a component's state changes. Timers that the new state does not allow are
// dropped here, so no stale deadline can fire into a state it was not meant for.
void Supervisor::transition(Component& c, State to, EventKind kind, std::string reason,
                            FailureKind failure, nlohmann::json detail) {
  const State from = c.state;
  if (to != State::starting) c.start_timer.cancel();
  if (to != State::running) {
    c.watchdog_timer.cancel();
    c.stable_timer.cancel();
    c.probe_timer.cancel();
    if (to != State::starting) c.probe.reset();
    // Warnings describe a running process; a new one starts with none.
    c.warnings.clear();
    c.watch_level = detection::Verdict::Level::ok;
    c.capturing_stacks = false;
  }
  if (to != State::stopping) c.stop_timer.cancel();
  if (to != State::backoff) c.backoff_timer.cancel();
  if (from != to) c.since_wall_us = deps_.scheduler.wall_now_us();
  c.state = to;
  c.reason = reason;
  spdlog::debug("{}: {} -> {} ({}): {}", c.spec.name, health::to_string(from),
                health::to_string(to), health::to_string(kind), reason);
  emit(c.spec.name, kind, std::string(health::to_string(to)), std::move(reason), failure,
       std::move(detail));
}

void Supervisor::start(const std::vector<ProcessRecord>& previous) {
  for (const auto& record : previous) {
    Component* c = find_component(record.component);
    if (c == nullptr) {
      // Not in this config any more: a leftover we must not leave running unwatched.
      spdlog::warn("stopping pid {} left by a previous vigild for unknown component '{}'",
                   record.pid, record.component);
      deps_.runner.signal_group(record.pid, SIGTERM);
      continue;
    }
    if (c->alive()) {
      // Two processes of one component outlived their vigild: it must not run twice. The one
      // adopted first (the recorded one) stays.
      spdlog::warn("component '{}' already has pid {}: stopping pid {}, left by a previous vigild",
                   c->spec.name, c->pid, record.pid);
      deps_.runner.kill_leftover(record.pid, record.start_time);
      continue;
    }
    const auto generation = ++c->launch_generation;
    const bool adopted = deps_.runner.adopt(c->spec, record.pid, record.start_time,
                                            [this, c, generation](const process::ExitStatus& s) {
                                              if (c->launch_generation == generation)
                                                on_exit(*c, s);
                                            });
    if (!adopted) continue;
    set_pid(*c, record.pid);
    c->spawned_at = c->ready_at = deps_.scheduler.now();
    c->liveness.start(deps_.scheduler.now(), c->spec.grace);
    transition(*c, State::running, EventKind::adopted,
               fmt::format("adopted pid {} left running by a previous vigild", record.pid),
               FailureKind::none,
               {{"pid", record.pid},
                {"start_time", record.start_time},
                {"fingerprint", record.fingerprint}});
    if (!record.fingerprint.empty() && record.fingerprint != c->spec.process_fingerprint()) {
      // Its command, environment or directory changed while no vigild was watching: it must
      // not go on running the old one.
      restart_components({c}, Duration{0},
                         "config changed while vigild was down (command, env, cwd or watchdog)");
      continue;
    }
    arm_watchdog(*c);
  }
  request_reconcile();
}

void Supervisor::request_reconcile() {
  if (reconcile_posted_) return;
  reconcile_posted_ = true;
  deps_.scheduler.post([this] {
    reconcile_posted_ = false;
    reconcile();
  });
}

std::vector<const Component*> Supervisor::awaited_dependencies(const Component& c) const {
  std::vector<const Component*> awaited;
  auto it = waits_for_.find(const_cast<Component*>(&c));
  if (it == waits_for_.end()) return awaited;
  for (const Component* d : it->second) {
    if (d->state == State::running) continue;
    // An idle cold standby is nothing to wait for; a primary its standby serves for is there.
    if (d->spec.standby && !d->spec.standby->hot && !d->wanted) continue;
    const Component* standby = d->replaced_by.empty() ? nullptr : find_component(d->replaced_by);
    if (standby != nullptr && standby->state == State::running) continue;
    // `after:` orders starts; it does not require them (systemd's After= without Requires=).
    // A dependency that has given up, or is held stopped by an operator, a mode or its
    // ladder, is not on its way up: waiting for it would hold the dependant down for good.
    if (d->state == State::given_up || (!d->wanted && !d->alive())) continue;
    awaited.push_back(d);
  }
  return awaited;
}

void Supervisor::reconcile() {
  if (shutting_down_) return;
  const TimePoint now = deps_.scheduler.now();
  std::vector<Component*> startable;
  for (auto* c : components_) {
    if (!c->wanted || c->alive() || c->stop_pending) continue;
    if (c->state == State::starting || c->state == State::running || c->state == State::stopping) {
      continue;
    }
    if (c->not_before > now) continue;  // its backoff timer will call us again
    // A changed component's old process must be gone before the new one starts.
    const bool old_alive = std::any_of(retired_.begin(), retired_.end(), [&](const auto& r) {
      return r->spec.name == c->spec.name && r->alive();
    });
    if (old_alive) continue;
    if (const auto awaited = awaited_dependencies(*c); !awaited.empty()) {
      // Said in the status (not an event: it changes as the dependencies move).
      std::string names;
      for (const auto* d : awaited) {
        names +=
            fmt::format("{}{} ({})", names.empty() ? "" : ", ", d->spec.name, to_string(d->state));
      }
      c->reason = "waiting for " + names + " to be running";
      continue;
    }
    startable.push_back(c);
  }
  // One batch: the runner spawns them back to back, then does the bookkeeping for all.
  std::vector<LaunchRequest> requests;
  requests.reserve(startable.size());
  for (auto* c : startable) requests.push_back(prepare_launch(*c));
  auto results = deps_.runner.launch_many(requests);
  for (std::size_t i = 0; i < startable.size(); ++i) finish_launch(*startable[i], results[i]);
}

LaunchRequest Supervisor::prepare_launch(Component& c) {
  c.stop_purpose = StopPurpose::none;
  c.stop_pending = false;
  c.stop_signalled = false;
  c.failure_recorded = false;
  c.probe_failures = 0;
  const auto generation = ++c.launch_generation;
  Component* cp = &c;
  return {&launch_spec(c), [this, cp, generation](const process::ExitStatus& s) {
            if (cp->launch_generation == generation) on_exit(*cp, s);
          }};
}

void Supervisor::finish_launch(Component& c, const LaunchResult& r) {
  Component* cp = &c;
  const TimePoint now = deps_.scheduler.now();
  if (r.pid == 0) {
    // Nothing ran, so restarting siblings would not help and it does not count against the
    // group's intensity; retry at the maximum backoff, and say so once, not every time.
    ++c.exec_failures;
    c.not_before = now + c.spec.backoff.max;
    const std::string reason = fmt::format("cannot start: {}; retrying every {}", r.error,
                                           format_duration(c.spec.backoff.max));
    c.last_failure = {
        {"kind", "exec"}, {"reason", r.error}, {"wall_us", deps_.scheduler.wall_now_us()}};
    if (!c.exec_failing) {
      c.exec_failing = true;
      transition(c, State::backoff, EventKind::exec_failed, reason, FailureKind::exec,
                 {{"errno", r.error_number}, {"error", r.error}});
    } else {
      c.state = State::backoff;  // same state, same reason: not a new event
      c.reason = reason;
    }
    c.backoff_timer.arm_at(c.not_before, [this] { request_reconcile(); });
    return;
  }
  if (c.exec_failing) {
    c.exec_failing = false;
  }
  set_pid(c, r.pid);
  c.spawned_at = now;
  c.heartbeats = 0;
  c.liveness.forget_process();
  c.status_text.clear();
  const bool is_restart = c.restarts > 0 || c.consecutive_failures > 0;
  transition(c, State::starting, EventKind::spawned,
             fmt::format("spawned pid {}{}", r.pid,
                         is_restart ? fmt::format(" (restart {})", c.restarts) : ""),
             FailureKind::none,
             {{"pid", r.pid},
              {"start_time", r.start_time},
              {"restart", c.restarts},
              {"fingerprint", c.spec.process_fingerprint()}});
  using Kind = config::ReadySpec::Kind;
  switch (c.spec.ready.kind) {
    case Kind::none:
      become_ready(c, "started (no readiness check configured)");
      return;
    case Kind::notify:
    case Kind::tcp:
    case Kind::exec:
      c.start_timer.arm_after(c.spec.start_timeout, [this, cp] {
        start_timed_out(*cp,
                        fmt::format("not ready within start_timeout {}",
                                    format_duration(cp->spec.start_timeout)),
                        {{"start_timeout_ms", ms(cp->spec.start_timeout)}});
      });
      if (c.spec.ready.kind != Kind::notify) run_probe(c);
      return;
  }
}

void Supervisor::become_ready(Component& c, const std::string& how) {
  const TimePoint now = deps_.scheduler.now();
  c.ready_at = now;
  c.liveness.start(now, c.spec.grace);
  transition(c, State::running, EventKind::ready, how, FailureKind::none,
             {{"pid", c.pid}, {"startup_ms", ms(now - c.spawned_at)}});
  arm_watchdog(c);
  Component* cp = &c;
  c.stable_timer.arm_after(c.spec.backoff.reset_after, [this, cp] {
    cp->consecutive_failures = 0;
    // Long enough without failing: the ladder starts again from its first step.
    if (cp->ladder.index() >= 0) reset_ladder(*cp);
  });
  on_pair_ready(c);
  if (c.spec.ready.kind == config::ReadySpec::Kind::tcp ||
      c.spec.ready.kind == config::ReadySpec::Kind::exec) {
    c.probe_timer.arm_after(c.spec.ready.period, [this, cp] { run_probe(*cp); });
  }
  request_reconcile();  // dependants may start now
}

// Heartbeats only store a time; the deadline timer asks the component's Liveness when it
// fires and re-arms to the next deadline. A heartbeat therefore costs no timer operation
// (except with the phi detector, whose deadline can move earlier as it learns), and a miss is
// still seen exactly at its deadline.
//
// Deadlines are rounded up to a kWatchdogSlack grid, so that the deadlines of many components
// share wake-ups (a thousand components with a 1 s watchdog need at most 1 s / kWatchdogSlack
// wake-ups a second, not a thousand); a hang is then seen at most kWatchdogSlack late.
void Supervisor::arm_watchdog(Component& c) {
  if (c.state != State::running || c.capturing_stacks || !c.liveness.active()) {
    c.watchdog_timer.cancel();
    return;
  }
  const TimePoint next = c.liveness.next_deadline(c.watch_level);
  if (next == TimePoint::max()) {
    c.watchdog_timer.cancel();
    return;
  }
  Component* cp = &c;
  const auto slots = (next.time_since_epoch() + kWatchdogSlack - Duration{1}) / kWatchdogSlack;
  const TimePoint at(slots * kWatchdogSlack);
  if (c.watchdog_timer.armed() && c.watchdog_timer.when() == at) return;
  c.watchdog_timer.arm_at(at, [this, cp] { on_watchdog_deadline(*cp); });
}

void Supervisor::on_watchdog_deadline(Component& c) {
  if (c.state != State::running || c.capturing_stacks) return;
  TimePoint now = deps_.scheduler.now();
  auto verdict = c.liveness.evaluate(now);
  if (verdict.level > c.watch_level && deps_.drain_notifications) {
    // A heartbeat may be waiting in the socket, received before the deadline: read it first.
    deps_.drain_notifications();
    if (c.state != State::running || c.capturing_stacks) return;
    now = deps_.scheduler.now();
    verdict = c.liveness.evaluate(now);
  }
  if (verdict.level == detection::Verdict::Level::hang) {
    const TimePoint deadline = c.liveness.next_deadline(detection::Verdict::Level::warn);
    verdict.evidence["late_us"] =
        std::chrono::duration_cast<std::chrono::microseconds>(now - deadline).count();
  }
  apply_verdict(c, std::move(verdict));
}

void Supervisor::apply_verdict(Component& c, detection::Verdict verdict) {
  using Level = detection::Verdict::Level;
  if (verdict.level == Level::hang) {
    on_hang(c, fmt::format("hang: {}", verdict.reason), std::move(verdict.evidence));
    return;
  }
  if (verdict.level != c.watch_level) {
    c.watch_level = verdict.level;
    if (verdict.level == Level::warn) {
      set_warning(c, "watchdog", verdict.reason, std::move(verdict.evidence));
    } else {
      clear_warning(c, "watchdog", "heartbeats are on time again");
    }
  }
  arm_watchdog(c);
}

// A hang is recorded once its evidence is complete: the stacks of every thread are captured
// first (the process must still exist for that), within the stack budget; the event is dated
// at detection, so MTTR is not shortened by the capture.
void Supervisor::on_hang(Component& c, std::string reason, nlohmann::json evidence) {
  const TimePoint detected = deps_.scheduler.now();
  const std::pair<std::int64_t, std::int64_t> when{
      deps_.scheduler.wall_now_us(),
      std::chrono::duration_cast<std::chrono::microseconds>(detected.time_since_epoch()).count()};
  evidence["heartbeats"] = c.heartbeats;
  Component* cp = &c;
  auto finish = [this, cp, when, reason = std::move(reason)](nlohmann::json detail) {
    event_time_ = when;
    fail(*cp, FailureKind::hang, EventKind::hang_detected, reason, cp->spec.watchdog.signal,
         std::move(detail), cp->spec.watchdog.abort_timeout.value_or(cp->spec.stop.timeout));
    event_time_.reset();
  };
  if (!c.spec.watchdog.stacks) {
    finish(std::move(evidence));
    return;
  }
  c.capturing_stacks = true;
  c.watchdog_timer.cancel();
  const auto generation = c.launch_generation;
  std::weak_ptr<int> lifetime = c.lifetime;
  deps_.runner.capture_stacks(
      c.spec.name, c.pid, c.spec.watchdog.stack_budget,
      [this, cp, lifetime, generation, detected, evidence = std::move(evidence),
       finish = std::move(finish)](nlohmann::json stacks) mutable {
        // The process may have exited, or been stopped, while its stacks were read; the
        // component may even have been removed by a reload.
        if (lifetime.expired() || cp->launch_generation != generation || !cp->capturing_stacks ||
            cp->state != State::running) {
          return;
        }
        cp->capturing_stacks = false;
        evidence["stacks"] = std::move(stacks);
        evidence["stack_capture_ms"] = ms(deps_.scheduler.now() - detected);
        finish(std::move(evidence));
      });
}

void Supervisor::set_warning(Component& c, const std::string& source, const std::string& reason,
                             nlohmann::json evidence) {
  auto [it, added] = c.warnings.try_emplace(source, reason);
  if (!added) {
    it->second = reason;
    return;
  }
  emit(c.spec.name, EventKind::warning, std::string(health::to_string(c.state)),
       fmt::format("{}: {}", source, reason), FailureKind::none,
       {{"source", source}, {"pid", c.pid}, {"evidence", std::move(evidence)}});
}

void Supervisor::clear_warning(Component& c, const std::string& source, const std::string& reason) {
  if (c.warnings.erase(source) == 0) return;
  emit(c.spec.name, EventKind::warning_cleared, std::string(health::to_string(c.state)),
       fmt::format("{}: {}", source, reason), FailureKind::none,
       {{"source", source}, {"pid", c.pid}});
}

void Supervisor::run_probe(Component& c) {
  Component* cp = &c;
  c.probe = deps_.prober.run(c.spec, [this, cp](bool ok, const std::string& detail) {
    // Let the probe object finish its own callback before it is destroyed.
    deps_.scheduler.post([this, cp, ok, detail] { on_probe_result(*cp, ok, detail); });
  });
}

void Supervisor::on_probe_result(Component& c, bool ok, const std::string& detail) {
  c.probe.reset();
  Component* cp = &c;
  if (c.state == State::starting) {
    if (ok) {
      become_ready(c, fmt::format("readiness probe passed: {}", detail));
    } else {
      c.probe_timer.arm_after(c.spec.ready.period, [this, cp] { run_probe(*cp); });
    }
    return;
  }
  if (c.state != State::running) return;
  if (ok) {
    c.probe_failures = 0;
  } else if (++c.probe_failures >= c.spec.ready.failure_threshold) {
    fail(c, FailureKind::probe, EventKind::probe_failed,
         fmt::format("probe failed {} times in a row: {}", c.probe_failures, detail),
         c.spec.stop.signal, {{"failures", c.probe_failures}, {"detail", detail}});
    return;
  }
  c.probe_timer.arm_after(c.spec.ready.period, [this, cp] { run_probe(*cp); });
}

// A live process that failed (hang, not ready, probe): record the failure now, at detection
// time (that is when MTTR starts), then stop it; on_exit continues with the restart policy.
void Supervisor::fail(Component& c, FailureKind kind, EventKind event, std::string reason,
                      int signal, nlohmann::json detail, std::optional<Duration> kill_after) {
  c.failure_recorded = true;
  c.last_failure = {{"kind", health::to_string(kind)},
                    {"reason", reason},
                    {"wall_us", deps_.scheduler.wall_now_us()}};
  detail["pid"] = c.pid;
  detail["output"] = deps_.runner.output_tail(c.spec.name, c.spec.output.tail_lines);
  c.stop_purpose = StopPurpose::failure;
  c.stop_reason = reason;
  transition(c, State::stopping, event, reason, kind, std::move(detail));
  send_stop_signal(c, signal, reason, kill_after);
}

void Supervisor::on_exit(Component& c, const process::ExitStatus& status) {
  const pid_t pid = c.pid;
  set_pid(c, 0);
  // Whatever the main process left behind in its group goes with it, so that a restarted
  // component never runs beside its predecessor's children.
  deps_.runner.signal_group(pid, SIGKILL);
  nlohmann::json detail = {{"pid", pid}, {"status", status.describe()}};
  if (status.kind == process::ExitStatus::Kind::exited) detail["code"] = status.code;
  if (status.signal != 0) detail["signal"] = signal_name(status.signal);

  if (c.stop_purpose != StopPurpose::none && c.stop_purpose != StopPurpose::failure) {
    emit(c.spec.name, EventKind::exited, std::string(health::to_string(c.state)),
         fmt::format("pid {} {} after stop", pid, status.describe()), FailureKind::none, detail);
    after_stopped(c);
    return;
  }
  if (c.stop_purpose == StopPurpose::failure) {
    emit(c.spec.name, EventKind::exited, std::string(health::to_string(c.state)),
         fmt::format("pid {} {} after: {}", pid, status.describe(), c.stop_reason),
         FailureKind::none, detail);
    c.stop_purpose = StopPurpose::none;
    c.stop_pending = false;
    advance_stops();
    handle_termination(c, /*abnormal=*/true, c.stop_reason);
    return;
  }
  // An exit nobody asked for.
  FailureKind failure = FailureKind::none;
  switch (status.kind) {
    case process::ExitStatus::Kind::exited:
      failure = status.code == 0 ? FailureKind::none : FailureKind::exit_code;
      break;
    case process::ExitStatus::Kind::killed:
      failure = status.signal == SIGKILL && deps_.runner.oom_killed(c.spec.name, pid)
                    ? FailureKind::oom
                    : FailureKind::signal;
      break;
    case process::ExitStatus::Kind::dumped:
      failure = FailureKind::core_dump;
      break;
    case process::ExitStatus::Kind::unknown:
      failure = FailureKind::crash;
      break;
  }
  // A clean exit of a permanent component is not a failure, but still counts as a restart.
  const std::string reason =
      failure == FailureKind::oom
          ? fmt::format("pid {} killed by the kernel's OOM killer (out of memory)", pid)
          : fmt::format("pid {} {}", pid, status.describe());
  detail["output"] = deps_.runner.output_tail(c.spec.name, c.spec.output.tail_lines);
  if (failure != FailureKind::none) {
    c.last_failure = {{"kind", health::to_string(failure)},
                      {"reason", reason},
                      {"wall_us", deps_.scheduler.wall_now_us()}};
  }
  // Momentarily: the policy below sets the real state (backoff, failed, given up, stopped).
  // Observers that paint the event's state (the dashboard) show a failure as one.
  c.state = failure != FailureKind::none ? State::failed : State::stopped;
  emit(c.spec.name, EventKind::exited, std::string(health::to_string(c.state)), reason, failure,
       detail);
  handle_termination(c, failure != FailureKind::none, reason);
}

void Supervisor::handle_termination(Component& c, bool abnormal, const std::string& reason) {
  c.stable_timer.cancel();
  const auto type = c.spec.restart;
  if (type == config::RestartType::temporary ||
      (type == config::RestartType::transient && !abnormal)) {
    c.wanted = false;
    transition(c, abnormal ? State::failed : State::stopped, EventKind::stopped,
               fmt::format("{}; not restarted ({} component)", reason, config::to_string(type)));
    Component* standby = partner(c);
    if (abnormal && !shutting_down_ && !c.spec.standby && standby != nullptr &&
        standby->serving_for.empty()) {
      activate_standby(c, *standby, reason, /*hold_primary=*/false);
    }
    request_reconcile();
    check_shutdown_done();
    return;
  }
  if (shutting_down_) {
    after_stopped(c);
    return;
  }
  if (on_pair_failure(c, abnormal, reason)) return;
  if (abnormal && !c.ladder.empty()) {
    climb(c, reason);
    return;
  }
  fail_to_parent(c.parent, &c, nullptr, reason);
}

// The parent of a failed node (a component, or a group that exceeded its intensity) records
// a restart: within its own intensity it applies its strategy, beyond it it fails in turn.
void Supervisor::fail_to_parent(Group* parent, Component* failed_component, Group* failed_group,
                                const std::string& reason) {
  if (parent == nullptr) {
    root_exhausted(reason);
    return;
  }
  if (!parent->intensity.record(deps_.scheduler.now())) {
    const std::string& name =
        failed_component != nullptr ? failed_component->spec.name : failed_group->spec.name;
    escalate(*parent, fmt::format("more than {} restarts within {} (last: {}: {})",
                                  parent->spec.intensity.restarts,
                                  format_duration(parent->spec.intensity.within), name, reason));
    return;
  }
  apply_strategy(*parent, failed_component, failed_group, reason);
}

void Supervisor::apply_strategy(Group& parent, Component* failed_component, Group* failed_group,
                                const std::string& reason) {
  const TimePoint now = deps_.scheduler.now();
  Duration delay{};
  std::string failed_name;
  int attempt = 0;
  if (failed_component != nullptr) {
    Component& c = *failed_component;
    attempt = ++c.consecutive_failures;
    delay = backoff_delay(c.spec.backoff, attempt, deps_.uniform() * 2.0 - 1.0);
    failed_name = c.spec.name;
  } else {
    Group& g = *failed_group;
    if (now - g.last_failure > g.spec.backoff.reset_after) g.consecutive_failures = 0;
    g.last_failure = now;
    attempt = ++g.consecutive_failures;
    ++g.restarts;
    delay = backoff_delay(g.spec.backoff, attempt, deps_.uniform() * 2.0 - 1.0);
    failed_name = g.spec.name;
    g.intensity.reset();  // a restarted group starts with a clean history, as in OTP
  }
  // Which siblings go down with the failed one.
  std::vector<Component*> set;
  bool after_failed = false;
  for (const auto& [c, g] : parent.children) {
    const bool is_failed =
        (c != nullptr && c == failed_component) || (g != nullptr && g == failed_group);
    bool include = is_failed;
    if (parent.spec.strategy == config::Strategy::one_for_all) include = true;
    if (parent.spec.strategy == config::Strategy::rest_for_one && after_failed) include = true;
    if (is_failed) after_failed = true;
    if (!include) continue;
    if (c != nullptr)
      set.push_back(c);
    else
      collect(*g, set);
  }
  drop_stood_down(set);
  const auto names = names_of(set);
  emit(failed_name, EventKind::restart_scheduled, "backoff",
       fmt::format("restart in {} (attempt {}, {} in group {}): {}", format_duration(delay),
                   attempt, config::to_string(parent.spec.strategy), parent.spec.name, reason),
       FailureKind::none,
       {{"delay_ms", ms(delay)},
        {"attempt", attempt},
        {"strategy", config::to_string(parent.spec.strategy)},
        {"group", parent.spec.name},
        {"restarting", names}});
  for (auto* c : set) ++c->restarts;
  restart_components(
      set, delay,
      failed_component != nullptr && set.size() == 1
          ? fmt::format("restart in {} after: {}", format_duration(delay), reason)
          : fmt::format("restarting with {} ({}) in {}", failed_name,
                        config::to_string(parent.spec.strategy), format_duration(delay)));
}

void Supervisor::restart_components(const std::vector<Component*>& set, Duration delay,
                                    const std::string& reason) {
  const TimePoint at = deps_.scheduler.now() + delay;
  for (auto* c : set) {
    c->wanted = true;
    c->not_before = at;
    if (c->alive()) {
      begin_stop(*c, StopPurpose::restart, reason);
    } else {
      transition(*c, State::backoff, EventKind::restart_scheduled, reason, FailureKind::none,
                 {{"delay_ms", ms(delay)}});
      arm_backoff(*c);
    }
  }
  request_reconcile();
}

// A zero delay goes straight to the reconcile already requested: no timer round trip on the
// fastest restart path.
void Supervisor::arm_backoff(Component& c) {
  if (c.not_before > deps_.scheduler.now()) {
    c.backoff_timer.arm_at(c.not_before, [this] { request_reconcile(); });
  }
  request_reconcile();
}

void Supervisor::escalate(Group& group, const std::string& reason) {
  std::vector<Component*> members;
  collect(group, members);
  const auto names = names_of(members);
  emit(group.spec.name, EventKind::escalated, "failed",
       fmt::format("group {} failed: {}", group_path(&group), reason), FailureKind::none,
       {{"restarts", group.spec.intensity.restarts},
        {"within_ms", ms(group.spec.intensity.within)},
        {"members", names}});
  group.intensity.reset();
  fail_to_parent(group.parent, nullptr, &group,
                 fmt::format("group {} exceeded its restart intensity", group.spec.name));
}

void Supervisor::root_exhausted(const std::string& reason) {
  if (spec_.final_action == config::FinalAction::retry) {
    const Duration delay = root_->spec.backoff.max;
    emit(root_->spec.name, EventKind::restart_scheduled, "backoff",
         fmt::format("root exhausted its restart intensity ({}); retrying everything in {}", reason,
                     format_duration(delay)),
         FailureKind::none, {{"delay_ms", ms(delay)}, {"final_action", "retry"}});
    root_->intensity.reset();
    std::vector<Component*> everything = components_;
    drop_stood_down(everything);
    restart_components(
        everything, delay,
        fmt::format("whole system restart in {} (final_action: retry)", format_duration(delay)));
    return;
  }
  emit(root_->spec.name, EventKind::given_up, "given_up",
       fmt::format("root exhausted its restart intensity ({}); stopping everything and waiting "
                   "for an operator (final_action: stop)",
                   reason),
       FailureKind::none, {{"final_action", "stop"}});
  for (auto* c : components_) {
    c->wanted = false;
    if (c->alive()) {
      begin_stop(*c, StopPurpose::give_up, "given up: root restart intensity exhausted");
    } else {
      transition(*c, State::given_up, EventKind::given_up,
                 "given up: root restart intensity exhausted; `vigil start` to try again");
    }
  }
}

void Supervisor::begin_stop(Component& c, StopPurpose purpose, std::string reason) {
  c.stop_purpose = purpose;
  c.stop_reason = std::move(reason);
  if (!c.alive()) {
    after_stopped(c);
    return;
  }
  if (c.stop_signalled) return;  // already on its way down; the new purpose applies at exit
  c.stop_pending = true;
  advance_stops();
}

// Signals each pending stop whose dependants (those that waited for it to start) are all
// down: reverse dependency order, with independent components stopped in parallel.
void Supervisor::advance_stops() {
  for (auto* c : components_) {
    if (!c->stop_pending || c->stop_signalled || !c->alive()) continue;
    const auto& deps = dependants_[c];
    const bool blocked = std::any_of(deps.begin(), deps.end(), [](const Component* d) {
      return d->alive() && (d->stop_pending || d->stop_signalled);
    });
    if (!blocked) send_stop_signal(*c, c->spec.stop.signal, c->stop_reason);
  }
}

void Supervisor::send_stop_signal(Component& c, int signal, const std::string& reason,
                                  std::optional<Duration> kill_after) {
  c.stop_signalled = true;
  c.stop_pending = false;
  if (c.state != State::stopping) {
    transition(c, State::stopping, EventKind::stop_requested, reason, FailureKind::none,
               {{"pid", c.pid}, {"signal", signal_name(signal)}});
  }
  deps_.runner.signal_group(c.pid, signal);
  // A stopped (SIGSTOP) process would never see the signal; wake it.
  deps_.runner.signal_group(c.pid, SIGCONT);
  Component* cp = &c;
  const Duration timeout = kill_after.value_or(c.spec.stop.timeout);
  c.stop_timer.arm_after(timeout, [this, cp, timeout] {
    stop_timed_out(*cp, fmt::format("still running {} after the stop signal: SIGKILL to process "
                                    "group",
                                    format_duration(timeout)));
  });
}

void Supervisor::start_timed_out(Component& c, std::string reason, nlohmann::json detail) {
  fail(c, FailureKind::not_ready, EventKind::start_timeout, std::move(reason), c.spec.stop.signal,
       std::move(detail));
}

void Supervisor::stop_timed_out(Component& c, std::string reason) {
  if (!c.alive()) return;
  emit(c.spec.name, EventKind::stop_escalated, "stopping", std::move(reason), FailureKind::none,
       {{"pid", c.pid}});
  deps_.runner.signal_group(c.pid, SIGKILL);
}

void Supervisor::after_stopped(Component& c) {
  const StopPurpose purpose = c.stop_purpose;
  c.stop_purpose = StopPurpose::none;
  c.stop_pending = false;
  c.stop_signalled = false;
  const std::string reason = c.stop_reason;
  switch (purpose) {
    case StopPurpose::restart: {
      transition(c, State::backoff, EventKind::stopped, reason);
      arm_backoff(c);
      break;
    }
    case StopPurpose::give_up:
      transition(c, State::given_up, EventKind::given_up, reason);
      break;
    case StopPurpose::retire: {
      emit(c.spec.name, EventKind::stopped, "stopped", reason);
      auto it = std::find_if(retired_.begin(), retired_.end(),
                             [&](const auto& r) { return r.get() == &c; });
      if (it != retired_.end()) {
        // Destroy after this call chain unwinds: callers still hold a reference.
        auto owned = std::shared_ptr<Component>(std::move(*it));
        retired_.erase(it);
        deps_.scheduler.post([owned] {});
      }
      break;
    }
    case StopPurpose::none:
    case StopPurpose::failure:
    case StopPurpose::operator_stop:
    case StopPurpose::shutdown:
      transition(c, State::stopped, EventKind::stopped,
                 reason.empty() ? std::string("stopped") : reason);
      break;
  }
  advance_stops();
  request_reconcile();
  check_shutdown_done();
}

void Supervisor::check_shutdown_done() {
  if (!shutting_down_ || alive_count() != 0 || !shutdown_done_) return;
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  deps_.scheduler.post(std::move(done));
}

void Supervisor::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  approvals_.clear();
  for (auto* c : components_) {
    c->wanted = false;
    if (c->alive()) {
      begin_stop(*c, StopPurpose::shutdown, "vigild is shutting down");
    } else if (c->state == State::backoff) {
      transition(*c, State::stopped, EventKind::stopped, "vigild is shutting down");
    }
  }
  for (auto& r : retired_) {
    if (r->alive() && !r->stop_signalled) send_stop_signal(*r, r->spec.stop.signal, r->stop_reason);
  }
  check_shutdown_done();
}

bool Supervisor::on_notify_from(pid_t sender, const watchdog::NotifyMessage& m, TimePoint arrival) {
  auto it = by_pid_.find(sender);
  if (it == by_pid_.end()) return false;
  handle_notify(*it->second, m, arrival);
  return true;
}

void Supervisor::on_notify(const std::string& component, const watchdog::NotifyMessage& m) {
  Component* c = find_component(component);
  if (c != nullptr && c->alive()) handle_notify(*c, m, deps_.scheduler.now());
}

void Supervisor::mute_heartbeats(const std::string& component, TimePoint until) {
  muted_heartbeats_[component] = until;
}

void Supervisor::unmute_heartbeats(const std::string& component) {
  muted_heartbeats_.erase(component);
}

void Supervisor::handle_notify(Component& component, const watchdog::NotifyMessage& received,
                               TimePoint arrival) {
  Component* c = &component;
  const TimePoint now = deps_.scheduler.now();
  const TimePoint at = std::min(arrival, now);
  // A muted component's beats are stripped from the message before anything counts them.
  bool drop_beat = false;
  if (!muted_heartbeats_.empty() &&
      (received.watchdog_ping || (received.loop && !received.loop_usec))) {
    if (auto muted = muted_heartbeats_.find(c->spec.name); muted != muted_heartbeats_.end()) {
      drop_beat = at < muted->second;
      if (!drop_beat) muted_heartbeats_.erase(muted);  // expired
    }
  }
  watchdog::NotifyMessage stripped;
  if (drop_beat) {
    stripped = received;
    stripped.watchdog_ping = false;
    if (!stripped.loop_usec) stripped.loop.reset();
  }
  const watchdog::NotifyMessage& m = drop_beat ? stripped : received;
  const bool watching = c->state == State::running && !c->capturing_stacks;
  if (m.watchdog_ping && !m.loop) ++c->heartbeats;
  if (c->state == State::starting && m.loop && m.loop_usec) {
    // Threads declare their loops as the program starts, possibly before READY=1.
    if (*m.loop_usec == 0) {
      c->liveness.retire_loop(*m.loop);
    } else if (auto declared =
                   c->liveness.declare_loop(*m.loop, std::chrono::microseconds(*m.loop_usec), at);
               !declared) {
      spdlog::warn("{}: ignoring VIGIL_LOOP={}: {}", c->spec.name, *m.loop, declared.error());
    }
  }
  if (watching) {
    bool rearm = false;
    if (m.loop) {
      if (m.loop_usec) {
        if (*m.loop_usec == 0) {
          c->liveness.retire_loop(*m.loop);
        } else if (auto declared = c->liveness.declare_loop(
                       *m.loop, std::chrono::microseconds(*m.loop_usec), at);
                   !declared) {
          spdlog::warn("{}: ignoring VIGIL_LOOP={}: {}", c->spec.name, *m.loop, declared.error());
        }
        rearm = true;  // a new loop may have the earliest deadline
      } else {
        c->liveness.loop_heartbeat(*m.loop, at);
      }
    } else if (m.watchdog_ping) {
      c->liveness.heartbeat(at);
      // The phi detector's deadline moves with what it learns, possibly earlier.
      rearm = c->spec.watchdog.detector == config::DetectorKind::phi;
    }
    if (m.watchdog_usec) {
      c->liveness.set_timeout(
          *m.watchdog_usec == 0
              ? std::nullopt
              : std::optional<Duration>(std::chrono::microseconds(*m.watchdog_usec)),
          now);
      rearm = true;
    }
    if (m.extend_timeout_usec) {
      // A known long operation (map loading): no hang before then, the watchdog stays on.
      c->liveness.extend_until(now + std::chrono::microseconds(*m.extend_timeout_usec));
      rearm = true;
    }
    if (c->watch_level != detection::Verdict::Level::ok) {
      apply_verdict(*c, c->liveness.evaluate(now));  // perhaps back on time
    } else if (rearm) {
      arm_watchdog(*c);
    }
  }
  if (m.status) c->status_text = *m.status;
  if (m.extend_timeout_usec) {
    const TimePoint until = now + std::chrono::microseconds(*m.extend_timeout_usec);
    if (c->state == State::starting && c->start_timer.armed() && c->start_timer.when() < until) {
      Component* cp = c;
      c->start_timer.arm_at(until, [this, cp] {
        start_timed_out(*cp, "not ready within the extended start timeout (EXTEND_TIMEOUT_USEC)",
                        nlohmann::json::object());
      });
    } else if (c->state == State::stopping && c->stop_timer.armed() &&
               c->stop_timer.when() < until) {
      Component* cp = c;
      c->stop_timer.arm_at(until, [this, cp] {
        stop_timed_out(*cp,
                       "still running after the extended stop timeout: SIGKILL to process "
                       "group");
      });
    }
  }
  if (m.error_number && *m.error_number != c->reported_errno) {
    c->reported_errno = *m.error_number;
    emit(c->spec.name, EventKind::status_changed, std::string(health::to_string(c->state)),
         fmt::format("reported ERRNO={} ({})", *m.error_number, std::strerror(*m.error_number)),
         FailureKind::none, {{"errno", *m.error_number}, {"status", c->status_text}});
  }
  if (m.ready && c->state == State::starting &&
      c->spec.ready.kind == config::ReadySpec::Kind::notify) {
    become_ready(*c, "READY=1");
  }
  if (m.stopping && (c->state == State::running || c->state == State::starting)) {
    // The program is leaving on its own: no watchdog while it does (transition() drops the
    // watchdog timer); its exit is then judged by its status as usual (a clean exit of a
    // transient component is not a failure).
    transition(*c, State::stopping, EventKind::stop_requested, "component reported STOPPING=1",
               FailureKind::none, {{"pid", c->pid}});
  }
  if (m.watchdog_trigger && (c->state == State::running || c->state == State::starting) &&
      !c->capturing_stacks) {
    if (c->state == State::starting) {
      fail(*c, FailureKind::hang, EventKind::hang_detected,
           "hang: the component reported WATCHDOG=trigger", c->spec.watchdog.signal,
           {{"trigger", true}, {"heartbeats", c->heartbeats}},
           c->spec.watchdog.abort_timeout.value_or(c->spec.stop.timeout));
    } else {
      nlohmann::json evidence = c->liveness.describe(now);
      evidence["trigger"] = true;
      on_hang(*c, "hang: the component reported WATCHDOG=trigger", std::move(evidence));
    }
  }
}

namespace {
nlohmann::json operator_detail(std::string_view command, const nlohmann::json& origin) {
  nlohmann::json detail = origin.is_object() ? origin : nlohmann::json::object();
  detail["command"] = command;
  return detail;
}

// Who asked, for reasons: "operator", or "mode safe_stop" when a system mode holds the node.
std::string requester(const nlohmann::json& origin) {
  if (origin.is_object() && origin.value("via", "") == "mode") {
    return "mode " + origin.value("mode", std::string("?"));
  }
  return "operator";
}
}  // namespace

Result<void> Supervisor::start_node(const std::string& name, const nlohmann::json& origin) {
  auto set = components_under(name);
  if (set.empty()) return make_error(fmt::format("no component or group named '{}'", name));
  const std::string who = requester(origin);
  emit(name, EventKind::operator_command, "", fmt::format("{}: start {}", who, name),
       FailureKind::none, operator_detail("start", origin));
  for (auto* c : set) {
    c->wanted = true;
    c->consecutive_failures = 0;
    c->exec_failing = false;
    c->not_before = {};
    cancel_approvals(*c, fmt::format("{} started it", who));
    reset_ladder(*c);
    if (!c->alive() && c->state != State::stopped) {
      transition(*c, State::stopped, EventKind::operator_command, "start requested by " + who);
    }
  }
  request_reconcile();
  return {};
}

Result<void> Supervisor::stop_node(const std::string& name, const nlohmann::json& origin) {
  auto set = components_under(name);
  if (set.empty()) return make_error(fmt::format("no component or group named '{}'", name));
  const std::string who = requester(origin);
  emit(name, EventKind::operator_command, "", fmt::format("{}: stop {}", who, name),
       FailureKind::none, operator_detail("stop", origin));
  for (auto* c : set) {
    c->wanted = false;
    if (c->alive()) {
      begin_stop(*c, StopPurpose::operator_stop, "stopped by " + who);
    } else if (c->state != State::stopped) {
      transition(*c, State::stopped, EventKind::stopped, "stopped by " + who);
    }
  }
  return {};
}

Result<void> Supervisor::restart_node(const std::string& name, const nlohmann::json& origin) {
  auto set = components_under(name);
  if (set.empty()) return make_error(fmt::format("no component or group named '{}'", name));
  emit(name, EventKind::operator_command, "",
       fmt::format("{}: restart {}", requester(origin), name), FailureKind::none,
       operator_detail("restart", origin));
  for (auto* c : set) {
    c->consecutive_failures = 0;
    c->exec_failing = false;
    c->wanted = true;
    cancel_approvals(*c, "an operator restarted it");
    reset_ladder(*c);
  }
  restart_components(set, Duration{0}, "restart requested by operator");
  return {};
}

nlohmann::json Supervisor::reload(const config::SystemSpec& spec) {
  std::map<std::string, std::unique_ptr<Component>> reusable;
  std::map<std::string, const config::ComponentSpec*> incoming;
  config::for_each_component(spec.root,
                             [&](const config::ComponentSpec& c) { incoming[c.name] = &c; });
  nlohmann::json added = nlohmann::json::array();
  nlohmann::json removed = nlohmann::json::array();
  nlohmann::json changed = nlohmann::json::array();
  nlohmann::json unchanged = nlohmann::json::array();
  // Detach every component from the old tree: unchanged ones are reused as they are (same
  // object, same process, same timers), the rest retire.
  std::vector<std::unique_ptr<Component>> old_owned = std::move(owned_);
  owned_.clear();
  for (auto& c : old_owned) {
    auto it = incoming.find(c->spec.name);
    if (it != incoming.end() && c->spec.same_behaviour(*it->second)) {
      unchanged.push_back(c->spec.name);
      reusable.emplace(c->spec.name, std::move(c));
      continue;
    }
    (it == incoming.end() ? removed : changed).push_back(c->spec.name);
    c->parent = nullptr;
    c->wanted = false;
    Component& ref = *c;
    retired_.push_back(std::move(c));
    begin_stop(ref, StopPurpose::retire,
               it == incoming.end() ? "removed from the config" : "changed in the config");
  }
  for (const auto& [name, c] : incoming) {
    if (!reusable.count(name) && std::find(changed.begin(), changed.end(), name) == changed.end()) {
      added.push_back(name);
    }
  }
  spec_ = spec;
  root_ = build_group(spec_.root, nullptr, &reusable);
  index_tree();
  nlohmann::json summary = {
      {"added", added}, {"removed", removed}, {"changed", changed}, {"unchanged", unchanged}};
  emit("", EventKind::config_reloaded, "",
       fmt::format("config reloaded: {} added, {} removed, {} changed, {} unchanged", added.size(),
                   removed.size(), changed.size(), unchanged.size()),
       FailureKind::none, summary);
  // Retired processes were stopped above; with the retired list now complete, stop them
  // (retired components have no dependants left to wait for).
  for (auto& r : retired_) {
    if (r->alive() && !r->stop_signalled) send_stop_signal(*r, r->spec.stop.signal, r->stop_reason);
  }
  request_reconcile();
  return summary;
}

nlohmann::json Supervisor::status() const {
  const std::int64_t now_us = deps_.scheduler.wall_now_us();
  std::function<nlohmann::json(const Group&)> group_json = [&](const Group& g) {
    nlohmann::json children = nlohmann::json::array();
    for (const auto& [c, sub] : g.children) {
      if (sub != nullptr) {
        children.push_back(group_json(*sub));
        continue;
      }
      nlohmann::json j = {{"type", "component"},
                          {"name", c->spec.name},
                          {"state", health::to_string(c->state)},
                          {"level", health::to_string(health::level_of(c->state))},
                          {"reason", c->reason},
                          {"pid", c->pid},
                          {"since_us", c->since_wall_us},
                          {"for_ms", (now_us - c->since_wall_us) / 1000},
                          {"restarts", c->restarts},
                          {"wanted", c->wanted},
                          {"heartbeats", c->heartbeats},
                          {"exec_failures", c->exec_failures},
                          {"restart", config::to_string(c->spec.restart)}};
      if (!c->status_text.empty()) j["status_text"] = c->status_text;
      if (!c->last_failure.is_null()) j["last_failure"] = c->last_failure;
      if (c->state == State::running && c->liveness.active()) {
        j["liveness"] = c->liveness.describe(deps_.scheduler.now());
        if (auto t = c->liveness.timeout()) j["watchdog_timeout_ms"] = ms(*t);
        if (c->spec.watchdog.detector == config::DetectorKind::phi) {
          j["phi"] = j["liveness"]["phi"];
        }
      } else if (c->spec.watchdog.timeout) {
        j["watchdog_timeout_ms"] = ms(*c->spec.watchdog.timeout);
      }
      if (const auto* step = c->ladder.current()) {
        j["recovery"] = {{"step", c->ladder.index() + 1},
                         {"of", c->ladder.size()},
                         {"action", Ladder::describe(*step)}};
      }
      if (c->spec.standby) {
        j["standby_for"] = c->spec.standby->primary;
        j["hot"] = c->spec.standby->hot;
      }
      if (!c->serving_for.empty()) j["serving_for"] = c->serving_for;
      if (!c->replaced_by.empty()) j["replaced_by"] = c->replaced_by;
      if (partner(*c) != nullptr) j["ownership_strength"] = c->ownership_strength;
      if (!c->forced_modes.empty()) j["forcing_modes"] = c->forced_modes;
      if (!c->warnings.empty()) {
        j["warnings"] = c->warnings;
        if (j["level"] == "OK") j["level"] = health::to_string(health::Level::warn);
      }
      children.push_back(std::move(j));
    }
    return nlohmann::json{{"type", "group"},
                          {"name", g.spec.name},
                          {"strategy", config::to_string(g.spec.strategy)},
                          {"intensity",
                           {{"restarts", g.spec.intensity.restarts},
                            {"within_ms", ms(g.spec.intensity.within)},
                            {"recent", g.intensity.recent()}}},
                          {"restarts", g.restarts},
                          {"children", children}};
  };
  return group_json(*root_);
}

}  // namespace vigil::supervisor
