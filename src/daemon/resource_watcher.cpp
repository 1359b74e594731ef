#include "daemon/resource_watcher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "daemon/pidfd_runner.hpp"
#include "process/spawn.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::daemon {

using detection::MonitorLevel;

ResourceWatcher::ResourceWatcher(Scheduler& scheduler, supervisor::Supervisor& supervisor,
                                 PidfdRunner& runner, const config::SystemSpec& spec, Emit emit)
    : scheduler_(scheduler),
      supervisor_(supervisor),
      runner_(runner),
      spec_(spec),
      emit_(std::move(emit)),
      timer_(scheduler),
      host_monitors_(std::make_unique<resources::HostMonitors>(spec_.monitoring.host)) {}

void ResourceWatcher::start() {
  timer_.arm_after(spec_.monitoring.interval, [this] { tick(); });
}

void ResourceWatcher::stop() {
  timer_.cancel();
}

void ResourceWatcher::reconfigure(const config::SystemSpec& spec) {
  const bool host_changed =
      !(spec.monitoring.host.cpu == spec_.monitoring.host.cpu &&
        spec.monitoring.host.load == spec_.monitoring.host.load &&
        spec.monitoring.host.memory_available == spec_.monitoring.host.memory_available &&
        spec.monitoring.host.disk_available == spec_.monitoring.host.disk_available &&
        spec.monitoring.host.temperature == spec_.monitoring.host.temperature);
  spec_ = spec;
  if (host_changed) {
    host_monitors_ = std::make_unique<resources::HostMonitors>(spec_.monitoring.host);
    host_warnings_.clear();
    host_failures_.clear();
  }
  // Component monitors follow their spec at the next tick (see tick()).
}

health::Event ResourceWatcher::event(const std::string& component, health::EventKind kind,
                                     std::string state, std::string reason,
                                     nlohmann::json detail) const {
  health::Event e;
  e.wall_us = scheduler_.wall_now_us();
  e.mono_us =
      std::chrono::duration_cast<std::chrono::microseconds>(scheduler_.now().time_since_epoch())
          .count();
  e.component = component;
  e.kind = kind;
  e.state = std::move(state);
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  return e;
}

void ResourceWatcher::tick() {
  const TimePoint now = scheduler_.now();
  const auto targets = supervisor_.monitor_targets();
  std::vector<pid_t> roots;
  roots.reserve(targets.size());
  for (const auto& t : targets) roots.push_back(t.pid);
  std::vector<std::pair<pid_t, pid_t>> attached;
  for (const auto& [leader, component] : attached_) {
    for (const auto& t : targets) {
      if (t.name == component) attached.emplace_back(leader, t.pid);
    }
  }
  const auto samples = sampler_.sample(roots, now, attached);
  std::map<std::string, Watched> next;
  for (std::size_t i = 0; i < targets.size() && i < samples.size(); ++i) {
    const auto& target = targets[i];
    auto it = watched_.find(target.name);
    Watched w = it != watched_.end() ? std::move(it->second) : Watched{};
    // A new process, or new thresholds after a reload: monitors start over.
    if (w.pid != target.pid || !w.monitors || !(w.monitors->spec() == target.spec->resources)) {
      w.pid = target.pid;
      w.monitors = std::make_unique<resources::ComponentMonitors>(target.spec->resources);
    }
    w.last = resources::describe(samples[i]);
    if (target.judged) {
      for (auto& outcome : w.monitors->observe(samples[i], now)) {
        const int level = outcome.to == MonitorLevel::ok     ? 0
                          : outcome.to == MonitorLevel::warn ? 1
                                                             : 2;
        if (level == 2 && outcome.action == config::MonitorAction::hook) {
          run_hook(target.name, outcome, outcome.reason);
        }
        supervisor_.on_monitor(target.name, target.pid, outcome.source, level, outcome.reason,
                               std::move(outcome.evidence), outcome.action);
      }
    }
    next.emplace(target.name, std::move(w));
  }
  watched_ = std::move(next);

  const auto host = host_sampler_.sample(spec_.state_dir, now);
  for (const auto& outcome : host_monitors_->observe(host, now)) on_host_outcome(outcome);
  if (tick_observer_) {
    std::map<std::string, nlohmann::json> components;
    for (const auto& [name, w] : watched_) components.emplace(name, w.last);
    tick_observer_(scheduler_.wall_now_us(), components, host_monitors_->describe());
  }
  timer_.arm_after(spec_.monitoring.interval, [this] { tick(); });
}

void ResourceWatcher::on_host_outcome(const resources::MonitorOutcome& o) {
  host_warnings_.erase(o.source);
  host_failures_.erase(o.source);
  if (o.to == MonitorLevel::ok) {
    emit_(event("host", health::EventKind::warning_cleared, "", fmt::format("host: {}", o.reason),
                {{"source", o.source}, {"evidence", o.evidence}}));
    return;
  }
  if (o.to == MonitorLevel::warn) {
    host_warnings_[o.source] = o.reason;
    emit_(event("host", health::EventKind::warning, "", fmt::format("host: {}", o.reason),
                {{"source", o.source}, {"evidence", o.evidence}}));
    return;
  }
  host_failures_[o.source] = o.reason;
  if (o.action == config::MonitorAction::hook) run_hook("host", o, o.reason);
  emit_(event(
      "host", health::EventKind::resource_exceeded, "", fmt::format("host: {}", o.reason),
      {{"source", o.source}, {"action", config::to_string(o.action)}, {"evidence", o.evidence}}));
}

void ResourceWatcher::run_hook(const std::string& component, const resources::MonitorOutcome& o,
                               const std::string& reason) {
  if (o.hook.empty()) return;
  process::SpawnRequest request;
  request.argv = o.hook;
  request.cwd = "/";
  request.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "VIGIL_COMPONENT=" + component,
                 "VIGIL_MONITOR=" + o.source,
                 "VIGIL_LEVEL=" + std::string(detection::to_string(o.to)),
                 "VIGIL_REASON=" + reason};
  auto spawned = process::spawn(request);
  if (!spawned.process) {
    emit_(event(component, health::EventKind::hook_finished, "",
                fmt::format("hook for {} could not start: {}", o.source, spawned.error.message),
                {{"argv", o.hook}, {"error", spawned.error.message}}));
    return;
  }
  const pid_t pid = spawned.process->pid;
  auto timer = std::make_shared<Timer>(scheduler_);
  // A hook that hangs must not pile up: 30 s, then SIGKILL to its process group.
  timer->arm_after(std::chrono::seconds(30), [pid] { process::signal_group(pid, SIGKILL); });
  runner_.watch_child(std::move(*spawned.process), "hook:" + component,
                      [this, component, argv = o.hook, source = o.source,
                       timer](const process::ExitStatus& status) {
                        timer->cancel();
                        emit_(event(component, health::EventKind::hook_finished, "",
                                    fmt::format("hook for {} {}", source, status.describe()),
                                    {{"argv", argv},
                                     {"source", source},
                                     {"status", status.describe()},
                                     {"clean", status.clean()}}));
                      });
}

nlohmann::json ResourceWatcher::resources_of(const std::string& component) const {
  auto it = watched_.find(component);
  return it == watched_.end() ? nlohmann::json() : it->second.last;
}

nlohmann::json ResourceWatcher::host_node() const {
  nlohmann::json j = host_monitors_->describe();
  j["type"] = "host";
  j["name"] = "host";
  j["level"] = !host_failures_.empty() ? "ERROR" : !host_warnings_.empty() ? "WARN" : "OK";
  nlohmann::json warnings = nlohmann::json::object();
  for (const auto& [k, v] : host_warnings_) warnings[k] = v;
  for (const auto& [k, v] : host_failures_) warnings[k] = v;
  j["warnings"] = warnings;
  return j;
}

}  // namespace vigil::daemon
