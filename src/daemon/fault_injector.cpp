#include "daemon/fault_injector.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "chaos/hog.hpp"
#include "common/units.hpp"
#include "daemon/network_fault.hpp"
#include "process/proc_stat.hpp"
#include "process/spawn.hpp"

namespace vigil::daemon {
namespace {

using api::ChaosFault;
using nlohmann::json;

std::int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::int64_t to_us(Duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// A node of the supervisor's status tree by name (a component or a group), or nothing.
std::optional<json> find_node(const json& node, const std::string& name) {
  if (node.value("name", "") == name) return node;
  if (auto children = node.find("children"); children != node.end()) {
    for (const auto& child : *children) {
      if (auto found = find_node(child, name)) return found;
    }
  }
  return std::nullopt;
}

// The parameters that apply to the fault, as they go into events and replies.
json parameters_by_fault(const api::ChaosRequest& r) {
  switch (r.fault) {
    case ChaosFault::kill:
      return {{"signal", signal_name(r.signal)}, {"group", r.group}};
    case ChaosFault::slow:
      return {
          {"duration_ms", r.duration.count()}, {"period_ms", r.period.count()}, {"duty", r.duty}};
    case ChaosFault::hang:
    case ChaosFault::heartbeat_loss:
    case ChaosFault::topic_dropout:
    case ChaosFault::partition:
    case ChaosFault::state_dir_full:
      return {{"duration_ms", r.duration.count()}};
    case ChaosFault::packet_loss:
      return {{"duration_ms", r.duration.count()}, {"loss_percent", r.loss_percent}};
    case ChaosFault::cpu_hog:
      return {{"duration_ms", r.duration.count()}, {"cpus", r.cpus}};
    case ChaosFault::memory_hog:
      return {{"duration_ms", r.duration.count()}, {"bytes", r.bytes}};
    case ChaosFault::list:
      break;
  }
  return json::object();
}

json parameters_of(const api::ChaosRequest& r) {
  json p = parameters_by_fault(r);
  if (!r.expect_failure) p["expect"] = "none";
  return p;
}

}  // namespace

struct FaultInjector::Injection {
  explicit Injection(Scheduler& scheduler) : end_timer(scheduler), cycle_timer(scheduler) {}

  int id = 0;
  api::ChaosRequest request;
  std::string component;
  pid_t pid = 0;
  std::uint64_t start_time = 0;  // with the pid: this very process, not a later one
  TimePoint started{};
  TimePoint until{};
  std::int64_t started_wall_us = 0;
  std::int64_t until_wall_us = 0;
  Timer end_timer;
  Timer cycle_timer;                // slow: the next switch between stopped and continued; network
                                    // faults: the next look at whether the process was replaced
  bool stopped = false;             // slow: in the stopped part of a cycle
  std::optional<NftTable> network;  // partition, packet_loss
  std::vector<std::uint16_t> ports;
  std::optional<process::SpawnedProcess> helper;  // cpu_hog, memory_hog
};

FaultInjector::FaultInjector(Dependencies deps) : deps_(std::move(deps)) {
  // Left by a vigild killed while a network fault was in effect: the component it was about
  // has been restarted or adopted since, and must not stay cut off.
  if (const int removed = remove_nft_tables_with_prefix(deps_.network_table_prefix); removed > 0) {
    health::Event e;
    e.kind = health::EventKind::warning;
    e.wall_us = deps_.scheduler.wall_now_us();
    e.mono_us = to_us(deps_.scheduler.now().time_since_epoch());
    e.reason = fmt::format(
        "chaos: removed {} network fault(s) left in place by a vigild that did not stop cleanly",
        removed);
    e.detail = {{"source", "chaos"}, {"removed_tables", removed}};
    deps_.emit(std::move(e));
  }
}

FaultInjector::~FaultInjector() = default;

Result<json> FaultInjector::inject(const std::string& component, const api::ChaosRequest& request) {
  if (request.fault == ChaosFault::list) return make_error("'list' is not a fault to inject");
  if (request.fault == ChaosFault::state_dir_full) {
    if (running_.count("")) return make_error("the state directory is already made full");
    if (!deps_.fill_state_dir) return make_error("this vigild cannot simulate a full disk");
    return start_timed(new_timed(request));
  }
  const auto node = find_node(deps_.supervisor.status(), component);
  if (!node) return make_error(fmt::format("no component named '{}'", component));
  if (node->value("type", "") != "component") {
    return make_error(
        fmt::format("'{}' is a group: chaos targets one component at a time", component));
  }
  const std::string state = node->value("state", "");
  const pid_t pid = node->value("pid", 0);
  if (pid <= 0) {
    return make_error(
        fmt::format("'{}' has no process to inject a fault into (it is {})", component, state));
  }
  const bool timed = api::is_timed(request.fault);
  if (auto it = running_.find(component); timed && it != running_.end()) {
    const auto& first = *it->second;
    return make_error(fmt::format(
        "'{}' already has a fault running: {} #{}, {} left; one timed fault per component at a "
        "time",
        component, api::to_string(first.request.fault), first.id,
        format_duration(first.until - deps_.scheduler.now())));
  }
  const auto stat = process::read_proc_stat(pid);
  if (!stat) return make_error(fmt::format("pid {} of '{}' has just exited", pid, component));

  if (!timed) {
    // The signal goes first: a refusal (which should not happen to our own child) emits no
    // event, and the exit it causes is only seen on a later turn of the loop.
    if (request.group) {
      deps_.runner.signal_group(pid, request.signal);
    } else if (::kill(pid, request.signal) != 0) {
      return make_error(fmt::format("kill({}, {}) failed: {}", pid, signal_name(request.signal),
                                    std::strerror(errno)));
    }
    const int id = next_id_++;
    json detail = {{"id", id}, {"fault", "kill"}, {"pid", pid}};
    detail.update(parameters_of(request));
    publish(component, health::EventKind::fault_injected, state,
            fmt::format("chaos: kill {} with {} (pid {}{})", component, signal_name(request.signal),
                        pid, request.group ? "'s group" : ""),
            detail);
    return json{{"id", id}, {"fault", "kill"}, {"name", component}, {"pid", pid}};
  }
  auto injection = new_timed(request);
  injection->component = component;
  injection->pid = pid;
  injection->start_time = stat->start_time;
  return start_timed(std::move(injection));
}

// A timed fault starting now, with the next id.
std::unique_ptr<FaultInjector::Injection> FaultInjector::new_timed(
    const api::ChaosRequest& request) {
  auto injection = std::make_unique<Injection>(deps_.scheduler);
  injection->request = request;
  injection->started = deps_.scheduler.now();
  injection->started_wall_us = deps_.scheduler.wall_now_us();
  injection->id = next_id_++;
  injection->until = injection->started + request.duration;
  injection->until_wall_us = injection->started_wall_us + to_us(request.duration);
  return injection;
}

Result<json> FaultInjector::start_timed(std::unique_ptr<Injection> injection) {
  Injection& i = *injection;
  const auto& r = i.request;
  const auto node = find_node(deps_.supervisor.status(), i.component);
  const std::string state = node ? node->value("state", "") : std::string();
  const std::string duration = format_duration(r.duration);
  std::string reason;
  switch (r.fault) {
    case ChaosFault::hang:
      reason = fmt::format("chaos: hang {} for {} (SIGSTOP pid {}'s group)", i.component, duration,
                           i.pid);
      deps_.runner.signal_group(i.pid, SIGSTOP);
      break;
    case ChaosFault::slow:
      reason = fmt::format("chaos: slow {} for {} (stopped {:.0f}% of every {}, pid {}'s group)",
                           i.component, duration, r.duty * 100.0, format_duration(r.period), i.pid);
      break;
    case ChaosFault::heartbeat_loss:
      reason =
          fmt::format("chaos: drop {}'s heartbeats for {} (pid {})", i.component, duration, i.pid);
      deps_.supervisor.mute_heartbeats(i.component, i.until);
      break;
    case ChaosFault::state_dir_full:
      reason =
          fmt::format("chaos: the state directory is full for {}: event log writes fail", duration);
      break;
    case ChaosFault::topic_dropout:
      if (!deps_.mute_topics || !deps_.mute_topics(i.component, i.until)) {
        return make_error(fmt::format(
            "'{}' has no topic monitors (monitors: with a dds_topic) to drop", i.component));
      }
      reason = fmt::format("chaos: drop {}'s monitored topics for {} (pid {})", i.component,
                           duration, i.pid);
      break;
    case ChaosFault::partition:
    case ChaosFault::packet_loss: {
      auto ports = cut_network(i);
      if (!ports) return make_error(ports.error());
      reason = r.fault == ChaosFault::partition
                   ? fmt::format(
                         "chaos: partition {} for {}: every UDP datagram to or from its "
                         "ports {} dropped (pid {}'s session)",
                         i.component, duration, *ports, i.pid)
                   : fmt::format(
                         "chaos: drop {:g}% of {}'s UDP datagrams for {} (ports {}, pid "
                         "{}'s session)",
                         r.loss_percent, i.component, duration, *ports, i.pid);
      break;
    }
    case ChaosFault::cpu_hog:
    case ChaosFault::memory_hog: {
      auto helper = start_hog(i);
      if (!helper) return make_error(helper.error());
      reason =
          r.fault == ChaosFault::cpu_hog
              ? fmt::format(
                    "chaos: cpu hog in {}'s process tree for {}: {} spinning "
                    "thread(s) (helper pid {})",
                    i.component, duration, r.cpus, *helper)
              : fmt::format(
                    "chaos: memory hog in {}'s process tree for {}: {} held (helper "
                    "pid {})",
                    i.component, duration,
                    fmt::format("{:.1f} MiB", static_cast<double>(r.bytes) / (1024.0 * 1024.0)),
                    *helper);
      break;
    }
    case ChaosFault::kill:
    case ChaosFault::list:
      return make_error("not a timed fault");
  }
  json detail = {{"id", i.id},
                 {"fault", api::to_string(r.fault)},
                 {"pid", i.pid},
                 {"until_us", i.until_wall_us}};
  detail.update(parameters_of(r));
  if (i.network) detail["ports"] = i.ports;
  if (r.fault == ChaosFault::state_dir_full) detail.erase("pid");
  if (i.helper) detail["helper_pid"] = i.helper->pid;
  publish(i.component, health::EventKind::fault_injected, state, reason, detail);
  // After the event: the injection itself is in the log, what follows is held in memory.
  if (r.fault == ChaosFault::state_dir_full) deps_.fill_state_dir(true);

  const std::string component = i.component;
  i.end_timer.arm_at(i.until, [this, component] { finish(component); });
  json reply = {{"id", i.id},
                {"fault", api::to_string(r.fault)},
                {"name", component},
                {"pid", i.pid},
                {"until_us", i.until_wall_us}};
  running_[component] = std::move(injection);
  if (r.fault == ChaosFault::slow) slow_cycle(*running_[component], /*stop_now=*/true);
  if (running_[component]->network || running_[component]->helper) {
    watch_replacement(*running_[component]);
  }
  return reply;
}

// The ports of the component's sockets, cut off by a new nftables table; the ports as text.
Result<std::string> FaultInjector::cut_network(Injection& i) {
  i.ports = udp_ports_of(session_members(i.pid));
  if (i.ports.empty()) {
    return make_error(
        fmt::format("'{}' (pid {}) holds no UDP sockets: there is no DDS traffic of its to cut",
                    i.component, i.pid));
  }
  const std::string table = fmt::format("{}{}", deps_.network_table_prefix, i.id);
  const double percent = i.request.fault == ChaosFault::partition ? 100.0 : i.request.loss_percent;
  auto created = NftTable::create(table, nft_drop_script(table, i.ports, percent));
  if (!created) {
    return make_error(fmt::format("cannot cut {}'s network: {}", i.component, created.error()));
  }
  i.network.emplace(std::move(*created));
  std::string ports;
  for (auto p : i.ports) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  return ports;
}

// The helper: vigild itself again (/proc/self/exe --chaos-hog ...), in a session of its own
// that the resource monitors count in the component's tree.
Result<pid_t> FaultInjector::start_hog(Injection& i) {
  process::SpawnRequest request;
  const bool cpu = i.request.fault == ChaosFault::cpu_hog;
  request.argv = {
      "/proc/self/exe", chaos::kHogFlag, cpu ? "cpu" : "memory",
      std::to_string(cpu ? static_cast<std::uint64_t>(i.request.cpus) : i.request.bytes)};
  request.env = {"VIGIL_CHAOS_PARENT=" + std::to_string(::getpid())};
  auto spawned = process::spawn(request);
  if (!spawned.process) {
    return make_error(fmt::format("cannot start the hog: {}", spawned.error.message));
  }
  i.helper = std::move(*spawned.process);
  if (deps_.attach_helper) deps_.attach_helper(i.component, i.helper->pid, true);
  return i.helper->pid;
}

// A network fault is about the process that held the ports: once it is replaced (a restart
// after the detection), the new process may reuse the same ports and must not inherit the
// fault, so it ends there.
void FaultInjector::watch_replacement(Injection& i) {
  if (!still_same_process(i)) {
    finish(i.component, fmt::format("pid {} was replaced before the end", i.pid));
    return;  // `i` is gone
  }
  Injection* self = &i;
  i.cycle_timer.arm_at(deps_.scheduler.now() + std::chrono::milliseconds(100),
                       [this, self] { watch_replacement(*self); });
}

void FaultInjector::slow_cycle(Injection& i, bool stop_now) {
  if (!still_same_process(i)) {
    // Restarted or exited: the new process is not the one the experiment was about.
    finish(i.component, fmt::format("pid {} was replaced before the end", i.pid));
    return;  // `i` is gone
  }
  deps_.runner.signal_group(i.pid, stop_now ? SIGSTOP : SIGCONT);
  i.stopped = stop_now;
  const double fraction = stop_now ? i.request.duty : 1.0 - i.request.duty;
  const auto phase = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(
      static_cast<double>(i.request.period.count()) * fraction));
  const TimePoint next =
      deps_.scheduler.now() + std::max(phase, Duration(std::chrono::milliseconds(1)));
  if (next >= i.until) return;  // the end timer continues the process
  Injection* self = &i;
  i.cycle_timer.arm_at(next, [this, self] { slow_cycle(*self, !self->stopped); });
}

bool FaultInjector::still_same_process(const Injection& i) const {
  if (deps_.supervisor.component_of(i.pid) != i.component) return false;
  const auto stat = process::read_proc_stat(i.pid);
  return stat && stat->start_time == i.start_time;
}

void FaultInjector::finish(const std::string& component, const std::string& why_early) {
  auto it = running_.find(component);
  if (it == running_.end()) return;
  // Owned here until the end of this call: a timer of the injection may be what called us.
  std::unique_ptr<Injection> injection = std::move(it->second);
  running_.erase(it);
  Injection& i = *injection;
  i.end_timer.cancel();
  i.cycle_timer.cancel();
  bool undone = false;
  std::string how;
  json counters;
  if (i.request.fault == ChaosFault::heartbeat_loss) {
    deps_.supervisor.unmute_heartbeats(component);
    undone = true;
    how = "heartbeats are accepted again";
  } else if (i.request.fault == ChaosFault::state_dir_full) {
    deps_.fill_state_dir(false);
    undone = true;
    how = "the event log can be written again";
  } else if (i.request.fault == ChaosFault::topic_dropout) {
    if (deps_.mute_topics) deps_.mute_topics(component, std::nullopt);
    undone = true;
    how = "its topics are accepted again";
  } else if (i.helper) {
    // SIGKILL through the pidfd (the pid cannot have been reused), then reaped.
    ::syscall(SYS_pidfd_send_signal, i.helper->pidfd.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(i.helper->pidfd.get()), &info, WEXITED);
    if (deps_.attach_helper) deps_.attach_helper(component, i.helper->pid, false);
    how = fmt::format("helper pid {} ended", i.helper->pid);
    i.helper.reset();
    undone = true;
  } else if (i.network) {
    if (auto c = i.network->counters()) {
      counters = {{"datagrams_seen", c->seen}, {"datagrams_dropped", c->dropped}};
      how = fmt::format("{} of {} datagrams dropped; its traffic flows again", c->dropped, c->seen);
    } else {
      how = fmt::format("its traffic flows again (counters unreadable: {})", c.error());
    }
    i.network.reset();
    undone = true;
  } else if (still_same_process(i)) {
    deps_.runner.signal_group(i.pid, SIGCONT);
    undone = true;
    how = fmt::format("SIGCONT to pid {}'s group", i.pid);
  } else if (why_early.empty()) {
    how = fmt::format("pid {} is no longer its process (restarted or exited): nothing to continue",
                      i.pid);
  } else {
    how = "nothing to continue";
  }
  const std::string why = why_early.empty() ? how : why_early + ": " + how;
  const auto node = find_node(deps_.supervisor.status(), component);
  const Duration lasted = deps_.scheduler.now() - i.started;
  publish(component, health::EventKind::fault_cleared, node ? node->value("state", "") : "",
          fmt::format("chaos: {} {} ended after {}: {}", api::to_string(i.request.fault), component,
                      format_duration(lasted), why),
          [&] {
            json detail = {{"id", i.id},   {"fault", api::to_string(i.request.fault)},
                           {"pid", i.pid}, {"undone", undone},
                           {"why", why},   {"lasted_ms", to_ms(lasted)}};
            if (!counters.is_null()) detail.update(counters);
            return detail;
          }());
}

json FaultInjector::active() const {
  std::vector<const Injection*> ordered;
  for (const auto& [name, injection] : running_) ordered.push_back(injection.get());
  std::sort(ordered.begin(), ordered.end(),
            [](const Injection* a, const Injection* b) { return a->id < b->id; });
  const TimePoint now = deps_.scheduler.now();
  json out = json::array();
  for (const auto* i : ordered) {
    json entry = {{"id", i->id},
                  {"fault", api::to_string(i->request.fault)},
                  {"name", i->component},
                  {"pid", i->pid},
                  {"started_us", i->started_wall_us},
                  {"until_us", i->until_wall_us},
                  {"remaining_ms", std::max<std::int64_t>(0, to_ms(i->until - now))}};
    entry.update(parameters_of(i->request));
    out.push_back(std::move(entry));
  }
  return out;
}

void FaultInjector::clear_all(const std::string& why) {
  std::vector<std::string> names;
  for (const auto& [name, injection] : running_) names.push_back(name);
  for (const auto& name : names) finish(name, why);
}

void FaultInjector::publish(const std::string& component, health::EventKind kind,
                            const std::string& state, std::string reason, json detail) {
  health::Event e;
  e.component = component;
  e.kind = kind;
  e.state = state;
  e.wall_us = deps_.scheduler.wall_now_us();
  e.mono_us = to_us(deps_.scheduler.now().time_since_epoch());
  e.reason = std::move(reason);
  e.detail = std::move(detail);
  deps_.emit(std::move(e));
}

}  // namespace vigil::daemon
