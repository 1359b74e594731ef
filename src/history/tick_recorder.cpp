#include "history/tick_recorder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace vigil::history {

void TickRecorder::record_number(const std::string& component, const char* series,
                                 std::int64_t wall_us, const nlohmann::json& object,
                                 const char* field) {
  auto it = object.find(field);
  if (it != object.end() && it->is_number()) {
    history_.record({component, series}, wall_us, it->get<double>());
  }
}

void TickRecorder::record_liveness(std::int64_t wall_us, const nlohmann::json& node) {
  if (node.value("type", "") != "component") {
    if (auto c = node.find("children"); c != node.end() && c->is_array()) {
      for (const auto& child : *c) record_liveness(wall_us, child);
    }
    return;
  }
  const auto name = node.value("name", "");
  auto l = node.find("liveness");
  if (name.empty() || l == node.end() || !l->is_object()) {
    beats_.erase(name);
    return;
  }
  record_number(name, "phi", wall_us, *l, "phi");
  const auto count = l->value("heartbeats", std::int64_t{0});
  const double last_beat_ms =
      static_cast<double>(wall_us) / 1000.0 - l->value("since_heartbeat_ms", 0.0);
  auto previous = beats_.find(name);
  if (previous != beats_.end() && count > previous->second.count) {
    // The mean interval of the heartbeats that arrived since the previous tick: what the
    // component actually did, whichever detector judges it.
    const double interval = (last_beat_ms - previous->second.last_beat_ms) /
                            static_cast<double>(count - previous->second.count);
    if (interval >= 0) history_.record({name, "heartbeat_interval_ms"}, wall_us, interval);
  } else if (previous == beats_.end()) {
    // First tick of this process: the phi detector's learned mean, when there is one.
    record_number(name, "heartbeat_interval_ms", wall_us, *l, "mean_interval_ms");
  }
  // A new process starts counting again; so does the baseline.
  if (previous == beats_.end() || count != previous->second.count) {
    beats_[name] = {count, last_beat_ms};
  }
}

void TickRecorder::on_tick(std::int64_t wall_us,
                           const std::map<std::string, nlohmann::json>& components,
                           const nlohmann::json& host, const nlohmann::json& status_tree) {
  for (const auto& [name, sample] : components) {
    if (!sample.is_object()) continue;
    record_number(name, "cpu_percent", wall_us, sample, "cpu_percent");
    record_number(name, "rss_bytes", wall_us, sample, "rss_bytes");
    record_number(name, "threads", wall_us, sample, "threads");
    record_number(name, "fds", wall_us, sample, "fds");
  }
  record_liveness(wall_us, status_tree);

  if (host.is_object()) {
    record_number("host", "cpu_percent", wall_us, host, "cpu_percent");
    auto percent = [&](const char* series, const char* part, const char* total) {
      const double t = host.value(total, 0.0);
      if (t > 0) history_.record({"host", series}, wall_us, 100.0 * host.value(part, 0.0) / t);
    };
    percent("memory_available_percent", "mem_available_bytes", "mem_total_bytes");
    percent("disk_available_percent", "disk_available_bytes", "disk_total_bytes");
    if (auto load = host.find("load");
        load != host.end() && load->is_array() && !load->empty() && load->front().is_number()) {
      history_.record({"host", "load"}, wall_us, load->front().get<double>());
    }
    if (auto temps = host.find("temperatures"); temps != host.end() && temps->is_object()) {
      std::optional<double> hottest;
      for (const auto& [sensor, celsius] : temps->items()) {
        if (celsius.is_number()) hottest = std::max(hottest.value_or(-1e9), celsius.get<double>());
      }
      if (hottest) history_.record({"host", "temperature_max_celsius"}, wall_us, *hottest);
    }
  }

  if (auto r = history_.flush(wall_us); !r) {
    if (write_errors_++ % 100 == 0) {
      spdlog::error("{} ({} write errors so far; supervision goes on)", r.error(), write_errors_);
    }
  }
}

}  // namespace vigil::history
