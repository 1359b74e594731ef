#pragma once
// Topic monitors on the event loop: drains the arrival times the DDS taps recorded, feeds each
// running component's TopicMonitors, and hands their level changes to the supervisor (a topic
// that goes stale fails its component like any other failure, kind `topic`).
//
// Rates are judged every 100 ms; staleness at its exact deadline (a timer at the earliest
// `stale_at` of all monitors), so a dropout is seen `stale_after` after the last message
// plus the loop's latency, not plus a polling period.
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/scheduler.hpp"
#include "detection/topic_monitor.hpp"
#include "resources/monitors.hpp"

namespace vigil::supervisor {
class Supervisor;
}
namespace vigil::dds {
class TopicTaps;
}

namespace vigil::daemon {

class TopicWatcher {
 public:
  using RunHook =
      std::function<void(const std::string& component, const resources::MonitorOutcome& outcome)>;
  TopicWatcher(Scheduler& scheduler, supervisor::Supervisor& supervisor, dds::TopicTaps& taps,
               RunHook run_hook);
  ~TopicWatcher();

  void start(const config::SystemSpec& spec);
  void stop();
  // The taps discovered publishers (called on the loop after the taps' wake).
  void on_discovery();
  // Taps the topics the config monitors (at start and after a reload).
  void reconcile(const config::SystemSpec& spec);

  // Chaos (topic_dropout): the component's monitored topics are dropped until `until`, as if
  // its sensors were silent. False when it has no topic monitors.
  bool mute(const std::string& component, TimePoint until);
  void unmute(const std::string& component) { muted_.erase(component); }

  // The component's topic monitors with their figures, or null when it has none.
  nlohmann::json topics_of(const std::string& component) const;

 private:
  struct Watched {
    pid_t pid = 0;
    std::vector<detection::TopicMonitor> monitors;
  };
  void tick();
  void drain_and_judge();
  void arm_stale_timer();

  Scheduler& scheduler_;
  supervisor::Supervisor& supervisor_;
  dds::TopicTaps& taps_;
  RunHook run_hook_;
  std::map<std::string, TimePoint> muted_;  // component -> until
  Timer tick_timer_;
  Timer stale_timer_;
  std::map<std::string, Watched> watched_;  // by component
  // When arrivals were last drained: figures are given as of then (arrivals since are not
  // known yet, and would show as a gap).
  TimePoint judged_at_{};
};

}  // namespace vigil::daemon
