#include "diagnostics/report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/units.hpp"

namespace vigil::diagnostics {
namespace {

using health::EventKind;
using health::FailureKind;

// Microseconds from a to b: monotonic time when both are from one boot (immune to clock
// steps), wall time otherwise.
std::int64_t elapsed_us(const health::Event& a, const health::Event& b) {
  if (!a.boot_id.empty() && a.boot_id == b.boot_id) return b.mono_us - a.mono_us;
  return b.wall_us - a.wall_us;
}

struct Interval {
  std::int64_t start_us;
  std::int64_t end_us;
};

std::int64_t union_length(std::vector<Interval> v) {
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.start_us < b.start_us; });
  std::int64_t total = 0;
  std::int64_t cur_start = 0;
  std::int64_t cur_end = -1;
  bool open = false;
  for (const auto& i : v) {
    if (!open || i.start_us > cur_end) {
      if (open) total += cur_end - cur_start;
      cur_start = i.start_us;
      cur_end = i.end_us;
      open = true;
    } else {
      cur_end = std::max(cur_end, i.end_us);
    }
  }
  if (open) total += cur_end - cur_start;
  return total;
}

std::optional<double> mean(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

nlohmann::json figures_json(const Figures& f) {
  auto opt = [](const std::optional<double>& v) -> nlohmann::json {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"failures", f.failures},
          {"failures_by_kind", f.failures_by_kind},
          {"restarts", f.restarts},
          {"mtbf_s", opt(f.mtbf_s)},
          {"mttr_running_s", opt(f.mttr_running_s)},
          {"mttr_ready_s", opt(f.mttr_ready_s)},
          {"availability", f.availability},
          {"downtime_s", f.downtime_s}};
}

std::string seconds(const std::optional<double>& s) {
  if (!s) return "-";
  return format_duration(std::chrono::nanoseconds(static_cast<std::int64_t>(*s * 1e9)));
}

}  // namespace

Report compute_report(const std::vector<health::Event>& events, std::int64_t window_start_us,
                      std::int64_t window_end_us) {
  Report r;
  r.window_start_us = window_start_us;
  r.window_end_us = window_end_us;
  const double window_s = std::max<std::int64_t>(1, window_end_us - window_start_us) / 1e6;

  struct Open {
    const health::Event* failure = nullptr;
    bool spawned = false;
    bool carried_in = false;  // failed before the window: downtime counts, MTTR does not
  };
  std::map<std::string, Open> open;
  std::map<std::string, std::vector<double>> to_running;
  std::map<std::string, std::vector<double>> to_ready;
  std::map<std::string, std::vector<Interval>> down;
  std::vector<double> all_running;
  std::vector<double> all_ready;

  for (const auto& e : events) {
    // Not processes: the robot's mode ("system") and the machine ("host", whose warnings and
    // failures are about resources, not downtime).
    if (e.component.empty() || e.component == "system" || e.component == "host") continue;
    if (e.wall_us < window_start_us) {
      // Carry-in: the state each component was in when the window opened.
      if (e.failure != FailureKind::none) {
        open[e.component] = {&e, true, true};
        r.components[e.component];
      } else if (e.kind == EventKind::ready || e.kind == EventKind::adopted) {
        open.erase(e.component);
      }
      continue;
    }
    // Group-level and bookkeeping events carry no downtime of their own, and would put group
    // names into the component table.
    if (e.failure == FailureKind::none &&
        (e.kind == EventKind::escalated || e.kind == EventKind::operator_command ||
         e.kind == EventKind::restart_scheduled || e.kind == EventKind::given_up ||
         e.kind == EventKind::config_reloaded)) {
      continue;
    }
    auto& figures = r.components[e.component];
    if (e.failure != FailureKind::none) {
      ++figures.failures;
      ++figures.failures_by_kind[std::string(health::to_string(e.failure))];
      ++r.system.failures_by_kind[std::string(health::to_string(e.failure))];
      ++r.system.failures;
      auto& o = open[e.component];
      if (o.failure == nullptr) o = {&e, false};  // already down: the first failure counts
      continue;
    }
    auto it = open.find(e.component);
    if (e.kind == EventKind::spawned) {
      if (e.detail.value("restart", 0) > 0) ++figures.restarts;
      if (it != open.end() && it->second.failure != nullptr && !it->second.spawned) {
        it->second.spawned = true;
        const double s = elapsed_us(*it->second.failure, e) / 1e6;
        to_running[e.component].push_back(s);
        all_running.push_back(s);
      }
    } else if ((e.kind == EventKind::ready || e.kind == EventKind::adopted) && it != open.end() &&
               it->second.failure != nullptr) {
      if (!it->second.carried_in) {
        const double s = elapsed_us(*it->second.failure, e) / 1e6;
        to_ready[e.component].push_back(s);
        all_ready.push_back(s);
      }
      down[e.component].push_back({it->second.failure->wall_us, e.wall_us});
      open.erase(it);
    } else if (e.kind == EventKind::stopped && it != open.end() &&
               (e.state == "stopped" || e.state == "failed" || e.state == "given_up") &&
               e.reason.find("operator") != std::string::npos) {
      // An operator took it down after the failure: downtime ends, it is not "broken" now.
      down[e.component].push_back({it->second.failure->wall_us, e.wall_us});
      open.erase(it);
    }
  }
  for (const auto& [name, o] : open) {
    if (o.failure != nullptr) down[name].push_back({o.failure->wall_us, window_end_us});
  }
  for (auto& [name, intervals] : down) {
    for (auto& i : intervals) i.start_us = std::max(i.start_us, window_start_us);
  }
  std::vector<Interval> all_down;
  for (auto& [name, f] : r.components) {
    const std::int64_t d = union_length(down[name]);
    f.downtime_s = d / 1e6;
    f.availability = std::clamp(1.0 - f.downtime_s / window_s, 0.0, 1.0);
    if (f.failures > 0) f.mtbf_s = (window_s - f.downtime_s) / f.failures;
    f.mttr_running_s = mean(to_running[name]);
    f.mttr_ready_s = mean(to_ready[name]);
    r.system.restarts += f.restarts;
    all_down.insert(all_down.end(), down[name].begin(), down[name].end());
  }
  r.system.downtime_s = union_length(all_down) / 1e6;
  r.system.availability = std::clamp(1.0 - r.system.downtime_s / window_s, 0.0, 1.0);
  if (r.system.failures > 0) r.system.mtbf_s = (window_s - r.system.downtime_s) / r.system.failures;
  r.system.mttr_running_s = mean(all_running);
  r.system.mttr_ready_s = mean(all_ready);
  return r;
}

nlohmann::json Report::to_json() const {
  nlohmann::json components_json = nlohmann::json::object();
  for (const auto& [name, f] : components) components_json[name] = figures_json(f);
  return {{"window_start_us", window_start_us},
          {"window_end_us", window_end_us},
          {"window_s", (window_end_us - window_start_us) / 1e6},
          {"system", figures_json(system)},
          {"components", components_json}};
}

std::string Report::to_text() const {
  std::string out =
      fmt::format("Reliability over {} (from the event log)\n\n",
                  format_duration(std::chrono::microseconds(window_end_us - window_start_us)));
  out +=
      fmt::format("{:<20} {:>8} {:>8} {:>10} {:>12} {:>12} {:>13}  {}\n", "COMPONENT", "FAILURES",
                  "RESTARTS", "MTBF", "MTTR(run)", "MTTR(ready)", "AVAILABILITY", "BY KIND");
  auto row = [&](const std::string& name, const Figures& f) {
    std::string kinds;
    for (const auto& [k, n] : f.failures_by_kind) {
      kinds += fmt::format("{}{}={}", kinds.empty() ? "" : " ", k, n);
    }
    out += fmt::format("{:<20} {:>8} {:>8} {:>10} {:>12} {:>12} {:>12.4f}%  {}\n", name, f.failures,
                       f.restarts, seconds(f.mtbf_s), seconds(f.mttr_running_s),
                       seconds(f.mttr_ready_s), f.availability * 100.0, kinds);
  };
  for (const auto& [name, f] : components) row(name, f);
  out += "\n";
  row("SYSTEM", system);
  return out;
}

}  // namespace vigil::diagnostics
