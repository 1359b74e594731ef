#pragma once
// Turns each monitoring tick of vigild into samples of the metric history and flushes it:
// per component cpu_percent, rss_bytes, threads, fds (from the resource sampler),
// heartbeat_interval_ms and phi (from the supervisor's liveness view); for "host"
// cpu_percent, memory_available_percent, disk_available_percent, load (1 min) and
// temperature_max_celsius (when the host has sensors).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "history/metric_history.hpp"

namespace vigil::history {

class TickRecorder {
 public:
  explicit TickRecorder(MetricHistory& history) : history_(history) {}

  // `components`: name -> resources::describe(sample) of each running component; `host`: the
  // host figures (HostMonitors::describe); `status_tree`: Supervisor::status(). Records and
  // flushes; a write error is logged (the first, then every 100th) and history goes on.
  void on_tick(std::int64_t wall_us, const std::map<std::string, nlohmann::json>& components,
               const nlohmann::json& host, const nlohmann::json& status_tree);

  std::uint64_t write_errors() const { return write_errors_; }

 private:
  void record_liveness(std::int64_t wall_us, const nlohmann::json& node);
  void record_number(const std::string& component, const char* series, std::int64_t wall_us,
                     const nlohmann::json& object, const char* field);

  // The heartbeat count and the wall time of the last heartbeat, per component, at the
  // previous tick: the mean interval between them is the interval recorded.
  struct Beats {
    std::int64_t count = 0;
    double last_beat_ms = 0;
  };
  MetricHistory& history_;
  std::map<std::string, Beats> beats_;
  std::uint64_t write_errors_ = 0;
};

}  // namespace vigil::history
