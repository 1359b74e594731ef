#include "resources/monitors.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace vigil::resources {
namespace {

using detection::MonitorLevel;

double ticks_per_second() {
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return ticks > 0 ? ticks : 100.0;
}

detection::ThresholdParameters parameters_of(const config::ThresholdSpec& t, bool low_is_bad) {
  detection::ThresholdParameters p;
  p.warn = t.warn;
  p.fail = t.fail;
  p.warn_clear = t.clear;
  p.fail_clear = t.clear;
  p.hold = t.hold;
  p.samples = t.samples;
  p.low_is_bad = low_is_bad;
  return p;
}

std::string format_value(const std::string& source, double v) {
  if (source == "rss") {
    if (v >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f}GiB", v / (1024.0 * 1024 * 1024));
    return fmt::format("{:.1f}MiB", v / (1024.0 * 1024));
  }
  if (source == "leak") return fmt::format("{:.1f}KiB/s", v / 1024.0);
  if (source == "cpu" || source == "memory_available" || source == "disk_available") {
    return fmt::format("{:.1f}%", v);
  }
  if (source == "temperature") return fmt::format("{:.1f}C", v);
  if (source == "load") return fmt::format("{:.2f}/core", v);
  return fmt::format("{:g}", v);
}

std::string describe_change(const std::string& source, const detection::ThresholdMonitor::Change& c,
                            const config::ThresholdSpec& spec, bool low_is_bad) {
  const bool worse = c.to > c.from;
  const char* op = worse == !low_is_bad ? ">=" : "<=";
  if (!worse) op = low_is_bad ? ">" : "<";
  std::string text = fmt::format("{} {} {} {} {}", source, format_value(source, c.value), op,
                                 worse ? (c.to == MonitorLevel::fail ? "fail" : "warn") : "clear",
                                 format_value(source, c.threshold));
  if (worse && spec.hold > Duration{0}) text += fmt::format(" for {}", format_duration(spec.hold));
  return text;
}

}  // namespace

nlohmann::json describe(const TreeSample& s) {
  return {{"processes", s.processes},
          {"threads", s.threads},
          {"rss_bytes", s.rss_bytes},
          {"cpu_percent", std::round(s.cpu_percent * 10) / 10},
          {"cpu_seconds", static_cast<double>(s.cpu_ticks_total) / ticks_per_second()},
          {"fds", s.open_fds},
          {"read_bytes", s.read_bytes},
          {"write_bytes", s.write_bytes},
          {"pids", s.pids}};
}

ComponentMonitors::ComponentMonitors(const config::ResourcesSpec& spec) : spec_(spec) {
  auto add = [&](const char* source, const std::optional<config::ThresholdSpec>& t) {
    if (t) watched_.push_back({source, detection::ThresholdMonitor(parameters_of(*t, false)), &*t});
  };
  add("rss", spec_.rss);
  add("cpu", spec_.cpu);
  add("threads", spec_.threads);
  add("fds", spec_.fds);
  add("processes", spec_.processes);
  if (spec_.leak) {
    growth_.emplace(spec_.leak->window);
    leak_.emplace(detection::ThresholdParameters{.fail = spec_.leak->bytes_per_second});
  }
}

std::vector<MonitorOutcome> ComponentMonitors::observe(const TreeSample& s, TimePoint now) {
  std::vector<MonitorOutcome> out;
  for (auto& w : watched_) {
    double value = 0;
    if (w.source == "rss") value = static_cast<double>(s.rss_bytes);
    if (w.source == "cpu") value = s.cpu_percent;
    if (w.source == "threads") value = s.threads;
    if (w.source == "fds") value = s.open_fds;
    if (w.source == "processes") value = s.processes;
    if (auto change = w.monitor.sample(value, now)) {
      out.push_back({w.source,
                     change->from,
                     change->to,
                     describe_change(w.source, *change, *w.spec, false),
                     {{"recent", w.monitor.recent(now)}, {"sample", describe(s)}},
                     w.spec->action,
                     w.spec->hook});
    }
  }
  if (growth_) {
    growth_->sample(static_cast<double>(s.rss_bytes), now);
    const auto rate = growth_->per_second();
    const double fit = growth_->r_squared();
    // Only steady growth counts: a fit below min_fit is noise or a single burst.
    const double value = rate && fit >= spec_.leak->min_fit ? *rate : 0.0;
    if (rate) {
      if (auto change = leak_->sample(value, now)) {
        const std::string reason =
            change->to == MonitorLevel::fail
                ? fmt::format(
                      "leak: RSS grew {:.1f}KiB/s over {} (fit r2 {:.2f}), at or above "
                      "{:.1f}KiB/s",
                      *rate / 1024, format_duration(spec_.leak->window), fit,
                      spec_.leak->bytes_per_second / 1024)
                : fmt::format("leak: RSS growth {:.1f}KiB/s is below {:.1f}KiB/s again",
                              *rate / 1024, spec_.leak->bytes_per_second / 1024);
        out.push_back(
            {"leak",
             change->from,
             change->to,
             reason,
             {{"rate_bytes_per_s", *rate},
              {"r_squared", fit},
              {"window_ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(spec_.leak->window).count()},
              {"sample", describe(s)}},
             spec_.leak->action,
             spec_.leak->hook});
      }
    }
  }
  return out;
}

HostMonitors::HostMonitors(const config::HostSpec& spec) : spec_(spec) {
  auto add = [&](const char* source, const config::ThresholdSpec& t, bool low_is_bad) {
    if (t.warn || t.fail) {
      watched_.push_back({source, detection::ThresholdMonitor(parameters_of(t, low_is_bad)), &t});
    }
  };
  add("cpu", spec_.cpu, false);
  add("load", spec_.load, false);
  add("memory_available", spec_.memory_available, true);
  add("disk_available", spec_.disk_available, true);
  add("temperature", spec_.temperature, false);
}

std::vector<MonitorOutcome> HostMonitors::observe(const HostSample& s, TimePoint now) {
  auto pct = [](std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 100.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  };
  std::optional<double> hottest;
  nlohmann::json temperatures = nlohmann::json::object();
  for (const auto& t : s.temperatures) {
    hottest = std::max(hottest.value_or(-1000.0), t.celsius);
    temperatures[t.sensor] = t.celsius;
  }
  const double load_per_core = s.cpus > 0 ? s.load1 / s.cpus : s.load1;
  last_ = {{"cpu_percent", std::round(s.cpu_percent * 10) / 10},
           {"load", {s.load1, s.load5, s.load15}},
           {"cpus", s.cpus},
           {"mem_total_bytes", s.mem_total_bytes},
           {"mem_available_bytes", s.mem_available_bytes},
           {"disk_total_bytes", s.disk_total_bytes},
           {"disk_available_bytes", s.disk_available_bytes},
           {"temperatures", temperatures},
           {"oom_kills", s.oom_kills}};
  std::vector<MonitorOutcome> out;
  for (auto& w : watched_) {
    std::optional<double> value;
    if (w.source == "cpu") value = s.cpu_percent;
    if (w.source == "load") value = load_per_core;
    if (w.source == "memory_available") value = pct(s.mem_available_bytes, s.mem_total_bytes);
    if (w.source == "disk_available" && s.disk_total_bytes > 0) {
      value = pct(s.disk_available_bytes, s.disk_total_bytes);
    }
    if (w.source == "temperature") value = hottest;
    if (!value) continue;  // no sensor, no statvfs
    const bool low_is_bad = w.source == "memory_available" || w.source == "disk_available";
    if (auto change = w.monitor.sample(*value, now)) {
      out.push_back({w.source,
                     change->from,
                     change->to,
                     describe_change(w.source, *change, *w.spec, low_is_bad),
                     {{"recent", w.monitor.recent(now)}, {"host", last_}},
                     w.spec->action,
                     w.spec->hook});
    }
  }
  return out;
}

nlohmann::json HostMonitors::describe() const {
  nlohmann::json levels = nlohmann::json::object();
  for (const auto& w : watched_) levels[w.source] = detection::to_string(w.monitor.level());
  nlohmann::json j = last_;
  j["monitors"] = levels;
  return j;
}

}  // namespace vigil::resources
