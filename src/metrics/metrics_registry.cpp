#include "metrics/metrics_registry.hpp"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "health/state.hpp"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

namespace vigil::metrics {

using health::EventKind;
using health::FailureKind;
using nlohmann::json;

namespace {

// Every value of the enums, for series that start at 0 (a counter that appears only at its
// first increment hides that increment from rate() and increase()).
constexpr FailureKind kFailureKinds[] = {
    FailureKind::crash,    FailureKind::exit_code, FailureKind::signal, FailureKind::core_dump,
    FailureKind::hang,     FailureKind::not_ready, FailureKind::probe,  FailureKind::exec,
    FailureKind::resource, FailureKind::oom,       FailureKind::topic};
constexpr health::State kStates[] = {health::State::stopped, health::State::starting,
                                     health::State::running, health::State::stopping,
                                     health::State::backoff, health::State::failed,
                                     health::State::given_up};
constexpr health::Level kLevels[] = {health::Level::ok, health::Level::warn, health::Level::error,
                                     health::Level::stale};

// Reading the status defensively: a missing or mistyped field means no sample, never an
// exception on the event loop.
std::optional<double> number(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string text(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& child(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<double> level_number(std::string_view level) {
  for (auto l : kLevels) {
    if (health::to_string(l) == level) return static_cast<double>(static_cast<int>(l));
  }
  return std::nullopt;
}

std::optional<double> monitor_level_number(std::string_view level) {
  if (level == "ok") return 0;
  if (level == "warn") return 1;
  if (level == "fail") return 2;
  return std::nullopt;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

const std::vector<double>& recovery_buckets() {
  static const std::vector<double> kBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

std::optional<OwnProcess> read_own_process() {
  const std::string stat = read_file("/proc/self/stat");
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::vector<std::string> after_name{std::istream_iterator<std::string>(fields),
                                      std::istream_iterator<std::string>()};
  // after_name[0] is field 3 (state): field N is after_name[N - 3].
  if (after_name.size() < 22) return std::nullopt;
  auto field = [&](int n) { return std::strtod(after_name[n - 3].c_str(), nullptr); };
  const double ticks = static_cast<double>(std::max(1L, ::sysconf(_SC_CLK_TCK)));
  const double page = static_cast<double>(std::max(1L, ::sysconf(_SC_PAGESIZE)));

  OwnProcess p;
  p.cpu_seconds = (field(14) + field(15)) / ticks;
  p.virtual_bytes = field(23);
  p.resident_bytes = field(24) * page;
  std::istringstream proc_stat(read_file("/proc/stat"));
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) {
      p.start_time_seconds = std::strtod(line.c_str() + 6, nullptr) + field(22) / ticks;
      break;
    }
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    int entries = 0;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') ++entries;
    }
    ::closedir(dir);
    p.open_fds = entries - 1;  // not the descriptor of the listing itself
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) p.max_fds = static_cast<double>(limit.rlim_cur);
  return p;
}

MetricsRegistry::MetricsRegistry(std::string version) : version_(std::move(version)) {}

std::string MetricsRegistry::default_version() {
  return VIGIL_VERSION;
}

MetricsRegistry::ComponentCounters& MetricsRegistry::counters_of(const std::string& component) {
  return components_[component];
}

void MetricsRegistry::on_event(const health::Event& e) {
  ++events_by_kind_[e.kind];
  if (e.component.empty()) return;

  if (e.failure != FailureKind::none) {
    auto& c = counters_of(e.component);
    ++c.failures[e.failure];
    if (e.kind == EventKind::hang_detected) ++c.hangs;
    // Already down (a crash loop): the outage began at its first failure.
    if (!c.down_since_us) c.down_since_us = e.wall_us;
    return;
  }
  switch (e.kind) {
    case EventKind::restart_scheduled: {
      // The supervisor's own restart count: the failed node's parent applied its strategy,
      // and every component it names is restarted (its `restarts` in status goes up by one).
      // The per-component restart_scheduled events that follow carry no list, and operator
      // restarts carry none either: neither is counted.
      auto it = e.detail.find("restarting");
      if (it == e.detail.end() || !it->is_array()) break;
      for (const auto& name : *it) {
        if (name.is_string()) ++counters_of(name.get<std::string>()).restarts;
      }
      break;
    }
    case EventKind::ready:
    case EventKind::adopted: {
      auto it = components_.find(e.component);
      if (it == components_.end() || !it->second.down_since_us) break;
      auto& c = it->second;
      c.recovery.observe(std::max<std::int64_t>(0, e.wall_us - *c.down_since_us) / 1e6);
      c.down_since_us.reset();
      break;
    }
    case EventKind::stopped: {
      // An operator took a failed component down: the outage ends, with no recovery to time
      // (the same rule as `vigil report`).
      auto it = components_.find(e.component);
      if (it != components_.end() && it->second.down_since_us &&
          (e.state == "stopped" || e.state == "failed" || e.state == "given_up") &&
          e.reason.find("operator") != std::string::npos) {
        it->second.down_since_us.reset();
      }
      break;
    }
    default:
      break;
  }
}

void MetricsRegistry::count_http_request(std::string_view route, int status) {
  ++http_requests_[{std::string(route), status}];
}

double MetricsRegistry::cpu_total(const std::string& component, std::int64_t pid,
                                  std::optional<double> sampled) const {
  auto& account = cpu_[component];
  if (sampled) {
    // Another main process, or a figure that went back (a reused pid): what the previous
    // processes used is kept, and the new figure counts from zero on top of it.
    if (pid != account.pid || *sampled < account.current) {
      account.earlier += account.current;
      account.current = 0;
      account.pid = pid;
    }
    account.current = *sampled;
  }
  return account.earlier + account.current;
}

std::string MetricsRegistry::render(const json& status_reply) const {
  Exposition out;
  std::vector<std::string> in_tree;
  try {
    add_components(out, child(status_reply, "tree"), in_tree);
    add_host(out, child(status_reply, "host"));
    add_daemon(out, child(status_reply, "daemon"));
    add_recovery(out, child(status_reply, "mode"), child(status_reply, "approvals"));
    add_counters(out, in_tree);
  } catch (const std::exception& error) {
    // Names are constants, so this is a bug in this file; a scrape must still not take the
    // event loop down.
    spdlog::error("rendering /metrics failed: {}", error.what());
    Exposition fallback;
    fallback.counter("vigil_metrics_render_errors_total", "Scrapes whose rendering failed.").add(1);
    return fallback.text();
  }
  return out.text();
}

void MetricsRegistry::add_components(Exposition& out, const json& node,
                                     std::vector<std::string>& seen) const {
  if (!node.is_object()) return;
  if (text(node, "type") == "component") {
    seen.push_back(text(node, "name"));
    add_component(out, node);
    return;
  }
  const json& children = child(node, "children");
  if (!children.is_array()) return;
  for (const auto& c : children) add_components(out, c, seen);
}

void MetricsRegistry::add_component(Exposition& out, const json& node) const {
  const std::string name = text(node, "name");
  if (name.empty()) return;
  const Labels labels{{"component", name}};
  const std::string state = text(node, "state");

  out.gauge("vigil_component_up",
            "1 when the component is running and ready (state running), else 0.")
      .add(labels, state == "running" ? 1 : 0);
  auto& states = out.gauge("vigil_component_state",
                           "The component's state: 1 for the current one, 0 for the others.");
  for (auto s : kStates) {
    const std::string_view candidate = health::to_string(s);
    states.add({{"component", name}, {"state", std::string(candidate)}},
               candidate == state ? 1 : 0);
  }
  if (auto level = level_number(text(node, "level"))) {
    out.gauge("vigil_component_level",
              "Diagnostic level as in ROS DiagnosticStatus: 0 OK, 1 WARN, 2 ERROR, 3 STALE.")
        .add(labels, *level);
  }
  if (auto timeout_ms = number(node, "watchdog_timeout_ms")) {
    out.gauge("vigil_component_watchdog_timeout_seconds",
              "The watchdog timeout in force: a hang is declared this long after a heartbeat.")
        .add(labels, *timeout_ms / 1000);
  }
  const json& liveness = child(node, "liveness");
  if (auto age_ms = number(liveness, "since_heartbeat_ms")) {
    out.gauge("vigil_component_heartbeat_age_seconds",
              "Time since the last heartbeat (WATCHDOG=1) of a running, watched component.")
        .add(labels, *age_ms / 1000);
  }
  if (auto phi = number(liveness, "phi")) {
    out.gauge("vigil_component_phi",
              "Phi-accrual suspicion of a running component: -log10 of the probability that "
              "its next heartbeat is still to come.")
        .add(labels, *phi);
  }

  const json& resources = child(node, "resources");
  const auto pid = static_cast<std::int64_t>(number(node, "pid").value_or(0));
  const auto cpu = number(resources, "cpu_seconds");
  if (cpu || cpu_.count(name) > 0) {
    out.counter("vigil_component_cpu_seconds_total",
                "CPU time (user and system) used by the component's processes, across its "
                "restarts. Time a process used after the last scrape before it exited is not "
                "counted.")
        .add(labels, cpu_total(name, pid, cpu));
  }
  if (auto rss = number(resources, "rss_bytes")) {
    out.gauge("vigil_component_resident_memory_bytes",
              "Sum of the resident set sizes of the component's processes.")
        .add(labels, *rss);
  }
  if (auto processes = number(resources, "processes")) {
    out.gauge("vigil_component_processes", "Live processes in the component's process tree.")
        .add(labels, *processes);
  }
  if (auto threads = number(resources, "threads")) {
    out.gauge("vigil_component_threads", "Threads of the component's processes.")
        .add(labels, *threads);
  }
  if (auto fds = number(resources, "fds")) {
    out.gauge("vigil_component_open_fds", "Open file descriptors of the component's processes.")
        .add(labels, *fds);
  }
  out.gauge("vigil_component_recovery_step",
            "The step of its recovery ladder the component is on (1 = the first); 0 at the "
            "bottom or without a ladder.")
      .add(labels, number(child(node, "recovery"), "step").value_or(0));
  add_topics(out, name, child(node, "topics"));
}

// The system mode (one series per declared mode, 1 for the current one) and the recovery
// steps waiting for an operator.
void MetricsRegistry::add_recovery(Exposition& out, const json& mode, const json& approvals) {
  const std::string current = text(mode, "name");
  const json& modes = child(mode, "modes");
  if (!current.empty()) {
    auto& gauge =
        out.gauge("vigil_system_mode", "The system mode: 1 for the current one, 0 for the others.");
    bool listed = false;
    if (modes.is_array()) {
      for (const auto& m : modes) {
        if (!m.is_string()) continue;
        listed = listed || m.get<std::string>() == current;
        gauge.add({{"mode", m.get<std::string>()}}, m.get<std::string>() == current ? 1 : 0);
      }
    }
    if (!listed) gauge.add({{"mode", current}}, 1);
  }
  out.gauge("vigil_approvals_pending",
            "Recovery steps waiting for an operator's approval (vigil approve/deny).")
      .add(approvals.is_array() ? static_cast<double>(approvals.size()) : 0.0);
}

// The component's topic monitors (`monitors:`), as judged at the last 100 ms tick.
void MetricsRegistry::add_topics(Exposition& out, const std::string& component,
                                 const json& topics) {
  if (!topics.is_array()) return;
  for (const auto& t : topics) {
    const Labels labels{{"component", component}, {"topic", text(t, "topic")}};
    if (auto v = number(t, "rate_hz")) {
      out.gauge("vigil_topic_rate_hertz",
                "Messages per second on a monitored topic, over the monitor's window.")
          .add(labels, *v);
    }
    if (auto v = number(t, "age_ms")) {
      out.gauge("vigil_topic_age_seconds",
                "Time since the last message on a monitored topic (since watching began if "
                "none came).")
          .add(labels, *v / 1000);
    }
    if (auto v = number(t, "largest_gap_ms")) {
      out.gauge("vigil_topic_largest_gap_seconds",
                "Largest interval between messages on a monitored topic, over the window.")
          .add(labels, *v / 1000);
    }
    if (auto v = number(t, "jitter_ms")) {
      out.gauge("vigil_topic_jitter_seconds",
                "Standard deviation of the intervals between messages on a monitored topic.")
          .add(labels, *v / 1000);
    }
    if (auto v = number(t, "publishers")) {
      out.gauge("vigil_topic_publishers", "Publishers of a monitored topic alive in DDS.")
          .add(labels, *v);
    }
    if (auto level = level_number(text(t, "level"))) {
      out.gauge("vigil_topic_level",
                "A topic monitor's level: 0 OK, 1 WARN (rate out of range), 2 ERROR (stale).")
          .add(labels, *level);
    }
  }
}

void MetricsRegistry::add_host(Exposition& out, const json& host) {
  if (!host.is_object()) return;
  if (auto level = level_number(text(host, "level"))) {
    out.gauge("vigil_host_level", "Diagnostic level of the host: 0 OK, 1 WARN, 2 ERROR, 3 STALE.")
        .add(*level);
  }
  if (auto cpu = number(host, "cpu_percent")) {
    out.gauge("vigil_host_cpu_usage_ratio",
              "Busy share of all CPUs together over the last sampling interval, 0 to 1.")
        .add(*cpu / 100);
  }
  if (auto cpus = number(host, "cpus")) {
    out.gauge("vigil_host_cpus", "Online CPUs.").add(*cpus);
  }
  const json& load = child(host, "load");
  if (load.is_array() && load.size() == 3 && load[0].is_number() && load[1].is_number() &&
      load[2].is_number()) {
    out.gauge("vigil_host_load1", "1-minute load average.").add(load[0].get<double>());
    out.gauge("vigil_host_load5", "5-minute load average.").add(load[1].get<double>());
    out.gauge("vigil_host_load15", "15-minute load average.").add(load[2].get<double>());
  }
  struct Figure {
    const char* key;
    const char* metric;
    const char* help;
  };
  static constexpr Figure kFigures[] = {
      {"mem_total_bytes", "vigil_host_memory_total_bytes", "Total memory."},
      {"mem_available_bytes", "vigil_host_memory_available_bytes",
       "Memory available for new allocations without swapping (MemAvailable)."},
      {"disk_total_bytes", "vigil_host_disk_total_bytes",
       "Size of the filesystem holding vigild's state directory."},
      {"disk_available_bytes", "vigil_host_disk_available_bytes",
       "Space available to unprivileged users on the filesystem of the state directory."},
  };
  for (const auto& f : kFigures) {
    if (auto v = number(host, f.key)) out.gauge(f.metric, f.help).add(*v);
  }
  const json& temperatures = child(host, "temperatures");
  if (temperatures.is_object()) {
    for (const auto& [sensor, celsius] : temperatures.items()) {
      if (!celsius.is_number()) continue;
      out.gauge("vigil_host_temperature_celsius", "Temperature of each hwmon sensor.")
          .add({{"sensor", sensor}}, celsius.get<double>());
    }
  }
  if (auto oom = number(host, "oom_kills")) {
    out.counter("vigil_host_oom_kills_total",
                "Processes killed by the kernel's OOM killer since boot.")
        .add(*oom);
  }
  const json& monitors = child(host, "monitors");
  if (monitors.is_object()) {
    for (const auto& [monitor, level] : monitors.items()) {
      if (!level.is_string()) continue;
      if (auto n = monitor_level_number(level.get<std::string>())) {
        out.gauge("vigil_host_monitor_level", "Level of each host monitor: 0 ok, 1 warn, 2 fail.")
            .add({{"monitor", monitor}}, *n);
      }
    }
  }
}

void MetricsRegistry::add_daemon(Exposition& out, const json& daemon) const {
  out.gauge("vigil_build_info", "vigild's version, as a label; the value is always 1.")
      .add({{"version", version_}}, 1);
  if (auto own = read_own_process()) {
    out.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        .add(own->cpu_seconds);
    out.gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        .add(own->resident_bytes);
    out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        .add(own->virtual_bytes);
    out.gauge("process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.")
        .add(own->start_time_seconds);
    out.gauge("process_open_fds", "Number of open file descriptors.").add(own->open_fds);
    out.gauge("process_max_fds", "Maximum number of open file descriptors.").add(own->max_fds);
  }
  if (!daemon.is_object()) return;
  if (auto v = number(daemon, "notify_received")) {
    out.counter("vigil_notify_datagrams_received_total", "Datagrams received on the notify socket.")
        .add(*v);
  }
  if (auto v = number(daemon, "notify_dropped")) {
    out.counter("vigil_notify_datagrams_dropped_total",
                "Notify datagrams dropped because their sender belongs to no component.")
        .add(*v);
  }
  if (auto v = number(daemon, "notify_late")) {
    out.counter("vigil_notify_datagrams_late_total",
                "Notify datagrams whose sender had exited before they were read.")
        .add(*v);
  }
  if (auto v = number(daemon, "event_log_write_errors")) {
    out.counter("vigil_event_log_write_errors_total", "Failed writes to the SQLite event log.")
        .add(*v);
  }
  if (auto log = daemon.find("event_log"); log != daemon.end() && log->is_object()) {
    out.gauge("vigil_event_log_writable",
              "1 while the event log can be written; 0 while the state directory is full or "
              "read-only and events are held in memory.")
        .add(log->value("writable", true) ? 1 : 0);
    out.gauge("vigil_event_log_held_events", "Events held in memory until the log is writable.")
        .add(log->value("held_events", 0.0));
    out.counter("vigil_event_log_dropped_events_total",
                "Events lost because more were held in memory than its bound.")
        .add(log->value("dropped_events", 0.0));
  }
  const auto shutting_down = daemon.find("shutting_down");
  if (shutting_down != daemon.end() && shutting_down->is_boolean()) {
    out.gauge("vigil_shutting_down", "1 while vigild is stopping its components to exit.")
        .add(shutting_down->get<bool>() ? 1 : 0);
  }
}

void MetricsRegistry::add_counters(Exposition& out, const std::vector<std::string>& in_tree) const {
  // Components of the tree start at 0; components that left it (a reload) keep their counts.
  std::vector<std::string> names = in_tree;
  for (const auto& [name, counters] : components_) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  static const ComponentCounters kNone;
  auto& failures = out.counter(
      "vigil_component_failures_total",
      "Failures of the component by kind (crash, exit_code, signal, core_dump, hang, not_ready, "
      "probe, exec, resource, oom): events whose failure is set.");
  auto& restarts = out.counter(
      "vigil_component_restarts_total",
      "Restarts the supervisor decided for the component after a failure, its own or a "
      "sibling's under one_for_all or rest_for_one (the restarts of `vigil status`). Operator "
      "restarts are not counted.");
  auto& hangs = out.counter("vigil_component_hangs_total",
                            "Hangs detected: watchdog or phi deadline missed, WATCHDOG=trigger.");
  auto& recovery = out.histogram(
      "vigil_component_recovery_seconds",
      "Time from a failure (the first of an outage) to the component being ready again.");
  for (const auto& name : names) {
    auto it = components_.find(name);
    const ComponentCounters& c = it != components_.end() ? it->second : kNone;
    std::map<FailureKind, std::uint64_t> by_kind = c.failures;
    for (auto kind : kFailureKinds) by_kind.try_emplace(kind, 0);
    for (const auto& [kind, count] : by_kind) {
      failures.add({{"component", name}, {"kind", std::string(health::to_string(kind))}},
                   static_cast<double>(count));
    }
    restarts.add({{"component", name}}, static_cast<double>(c.restarts));
    hangs.add({{"component", name}}, static_cast<double>(c.hangs));
    recovery.add({{"component", name}}, c.recovery);
  }

  auto& events = out.counter("vigil_events_total", "Health events committed to the event log.");
  for (int k = 0; k <= static_cast<int>(health::kLastEventKind); ++k) {
    const auto kind = static_cast<EventKind>(k);
    auto it = events_by_kind_.find(kind);
    events.add({{"kind", std::string(health::to_string(kind))}},
               it != events_by_kind_.end() ? static_cast<double>(it->second) : 0);
  }

  if (!http_requests_.empty()) {
    auto& http = out.counter("vigil_http_requests_total",
                             "HTTP requests answered, by route pattern and status code.");
    for (const auto& [key, count] : http_requests_) {
      http.add({{"route", key.first}, {"code", std::to_string(key.second)}},
               static_cast<double>(count));
    }
  }
}

}  // namespace vigil::metrics
