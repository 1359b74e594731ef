#pragma once
// Resource samples turned into level changes: one set of monitors per component (RSS, CPU,
// threads, fds, processes, leak) and one for the host (CPU, load, memory and disk available,
// temperature). Pure: the daemon feeds samples, the supervisor acts on the outcomes.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "detection/threshold_monitor.hpp"
#include "resources/host_sampler.hpp"
#include "resources/process_tree_sampler.hpp"

namespace vigil::resources {

// One monitor changed level.
struct MonitorOutcome {
  std::string source;  // "rss", "cpu", ..., "leak"; for the host "memory_available", ...
  detection::MonitorLevel from = detection::MonitorLevel::ok;
  detection::MonitorLevel to = detection::MonitorLevel::ok;
  std::string reason;  // "rss 195.0MiB >= fail 190.0MiB for 5.0s"
  nlohmann::json evidence;
  config::MonitorAction action = config::MonitorAction::warn;  // for `to == fail`
  std::vector<std::string> hook;
};

// One figure's monitor and the config it came from.
struct WatchedFigure {
  std::string source;
  detection::ThresholdMonitor monitor;
  const config::ThresholdSpec* spec;
};

class ComponentMonitors {
 public:
  explicit ComponentMonitors(const config::ResourcesSpec& spec);
  std::vector<MonitorOutcome> observe(const TreeSample& sample, TimePoint now);
  const config::ResourcesSpec& spec() const { return spec_; }

 private:
  config::ResourcesSpec spec_;
  std::vector<WatchedFigure> watched_;
  std::optional<detection::GrowthRate> growth_;
  std::optional<detection::ThresholdMonitor> leak_;
};

class HostMonitors {
 public:
  explicit HostMonitors(const config::HostSpec& spec);
  std::vector<MonitorOutcome> observe(const HostSample& sample, TimePoint now);
  // The figures of the last sample and each monitor's level, for the `host` node of status.
  nlohmann::json describe() const;

 private:
  config::HostSpec spec_;
  std::vector<WatchedFigure> watched_;
  nlohmann::json last_ = nlohmann::json::object();
};

// Figures of a sample, for status and evidence: {cpu_percent, rss_bytes, threads, fds, ...}.
nlohmann::json describe(const TreeSample& sample);

}  // namespace vigil::resources
