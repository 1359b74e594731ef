#pragma once
// vigild's Prometheus metrics (`GET /metrics`).
//
// Two sources, kept apart on purpose:
// - counters that must only ever grow for the life of vigild (failures, restarts, hangs,
//   recovery times, events, HTTP requests) are counted here from the committed event stream:
//   the registry is an EventSink on the daemon's EventBus, so it sees every event once, in
//   order, on the event loop. A component that restarts, or is replaced by a reload, keeps
//   its counts;
// - gauges (state, level, heartbeat age, resources, host, vigild's own figures) are read at
//   scrape time from the `status` reply, the same JSON the control socket returns, so
//   /metrics never disagrees with `vigil status`.
//
// Everything runs on the event loop: no locks. render() never throws: a field missing from
// the status (a component not sampled yet, a host without sensors) just has no sample.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "health/event.hpp"
#include "metrics/prometheus_text.hpp"

namespace vigil::metrics {

// Buckets of vigil_component_recovery_seconds: a robot component recovers in tens of
// milliseconds (a crash with no backoff) to a minute (backoff at its cap, slow start-up).
const std::vector<double>& recovery_buckets();

// The figures the Go and Python clients export as process_*, read from /proc/self.
struct OwnProcess {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // since the epoch
  double open_fds = 0;
  double max_fds = 0;
};
std::optional<OwnProcess> read_own_process();

class MetricsRegistry final : public health::EventSink {
 public:
  // `version` becomes vigil_build_info{version}; the default is the project's version.
  explicit MetricsRegistry(std::string version = default_version());

  void on_event(const health::Event& event) override;

  // One HTTP request answered. `route` must be the route's pattern ("/api/components/:name"),
  // never the raw path, to keep the label's values bounded.
  void count_http_request(std::string_view route, int status);

  // The whole exposition: the counters above plus gauges from `status_reply`, the JSON object
  // of a successful `status` command ({tree, host, daemon}; the "ok" key is ignored).
  // Const for the caller, but it does remember each component's CPU time across scrapes, so
  // that vigil_component_cpu_seconds_total never goes down when a component's processes are
  // replaced (see cpu_total()).
  std::string render(const nlohmann::json& status_reply) const;

  static std::string default_version();

 private:
  struct ComponentCounters {
    std::map<health::FailureKind, std::uint64_t> failures;
    std::uint64_t restarts = 0;
    std::uint64_t hangs = 0;
    Histogram recovery{recovery_buckets()};
    // The first failure of the current outage (wall clock, µs): recovery is measured from
    // there to the next `ready`, as `vigil report` measures MTTR.
    std::optional<std::int64_t> down_since_us;
  };
  // The CPU time of a component's processes as last sampled, and what its earlier processes
  // had used: the sampler's figure belongs to one main process and starts again from zero
  // when the component restarts.
  struct CpuAccount {
    std::int64_t pid = 0;
    double current = 0;
    double earlier = 0;
  };

  ComponentCounters& counters_of(const std::string& component);
  double cpu_total(const std::string& component, std::int64_t pid,
                   std::optional<double> sampled) const;
  void add_counters(Exposition& out, const std::vector<std::string>& components) const;
  void add_components(Exposition& out, const nlohmann::json& tree,
                      std::vector<std::string>& seen) const;
  void add_component(Exposition& out, const nlohmann::json& node) const;
  static void add_topics(Exposition& out, const std::string& component,
                         const nlohmann::json& topics);
  static void add_host(Exposition& out, const nlohmann::json& host);
  void add_daemon(Exposition& out, const nlohmann::json& daemon) const;
  static void add_recovery(Exposition& out, const nlohmann::json& mode,
                           const nlohmann::json& approvals);

  std::string version_;
  std::map<std::string, ComponentCounters> components_;
  std::map<health::EventKind, std::uint64_t> events_by_kind_;
  std::map<std::pair<std::string, int>, std::uint64_t> http_requests_;
  mutable std::map<std::string, CpuAccount> cpu_;
};

}  // namespace vigil::metrics
