#pragma once
// Samples every running component's process tree and the host at `monitoring.interval`, on
// the event loop, feeds the resource monitors, and hands their level changes to the
// supervisor (components) or publishes them as events of the `host` node. Runs a monitor's
// hook command when its action says so. Keeps the last sample of each for status.
#include <sys/types.h>

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "health/event.hpp"
#include "resources/host_sampler.hpp"
#include "resources/monitors.hpp"
#include "resources/process_tree_sampler.hpp"

namespace vigil::supervisor {
class Supervisor;
}

namespace vigil::daemon {

class PidfdRunner;

class ResourceWatcher {
 public:
  using Emit = std::function<void(health::Event)>;
  ResourceWatcher(Scheduler& scheduler, supervisor::Supervisor& supervisor, PidfdRunner& runner,
                  const config::SystemSpec& spec, Emit emit);

  void start();
  void stop();
  void reconfigure(const config::SystemSpec& spec);

  // The last sample of a component's tree, or null.
  nlohmann::json resources_of(const std::string& component) const;
  // The `host` node: {type, name, level, warnings, figures..., monitors}.
  nlohmann::json host_node() const;

  // Called at the end of every tick, on the loop, with that tick's samples: each running
  // component's resources (as in resources_of) by name, and the host figures (as in
  // host_node). The metric history is fed from here.
  using TickObserver =
      std::function<void(std::int64_t wall_us, const std::map<std::string, nlohmann::json>&,
                         const nlohmann::json& host)>;
  void on_tick(TickObserver observer) { tick_observer_ = std::move(observer); }

  // The session led by `leader` (a helper vigild started on the component's behalf: a chaos
  // hog) counts in `component`'s tree until detached.
  void attach(const std::string& component, pid_t leader) { attached_[leader] = component; }
  void detach(pid_t leader) { attached_.erase(leader); }

  // Runs a monitor's hook (argv in `outcome.hook`) with VIGIL_COMPONENT, VIGIL_MONITOR,
  // VIGIL_LEVEL and VIGIL_REASON set; its end is a hook_finished event. Topic monitors use it
  // too.
  void run_hook(const std::string& component, const resources::MonitorOutcome& outcome,
                const std::string& reason);

 private:
  struct Watched {
    pid_t pid = 0;
    std::unique_ptr<resources::ComponentMonitors> monitors;
    nlohmann::json last;
  };
  void tick();
  void on_host_outcome(const resources::MonitorOutcome& outcome);
  health::Event event(const std::string& component, health::EventKind kind, std::string state,
                      std::string reason, nlohmann::json detail) const;

  Scheduler& scheduler_;
  supervisor::Supervisor& supervisor_;
  PidfdRunner& runner_;
  config::SystemSpec spec_;
  Emit emit_;
  Timer timer_;
  resources::ProcessTreeSampler sampler_;
  std::map<pid_t, std::string> attached_;  // session leader -> component
  resources::HostSampler host_sampler_;
  std::unique_ptr<resources::HostMonitors> host_monitors_;
  std::map<std::string, Watched> watched_;
  std::map<std::string, std::string> host_warnings_;
  std::map<std::string, std::string> host_failures_;
  TickObserver tick_observer_;
};

}  // namespace vigil::daemon
