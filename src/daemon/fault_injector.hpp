#pragma once
// Chaos on purpose (`vigil chaos`): vigild injects one fault into a running component so that
// the detection and recovery that follow can be checked against it. Each injection is a
// `fault_injected` event and, for a timed fault, a `fault_cleared` event when it ends; both sit
// in the same event log as the detections, so "injected at X, detected at Y, recovered at Z"
// is read from one stream.
//
//   kill            a signal (SIGKILL by default) to the main process, or its process group
//   hang            SIGSTOP to the process group for a duration, then SIGCONT if the same
//                   process is still there (a restarted component is left alone)
//   slow            a SIGSTOP/SIGCONT duty cycle on the process group for a duration; always
//                   ends continued; ends early when the process is replaced
//   heartbeat_loss  the component's heartbeats are dropped by vigild for a duration
//   topic_dropout   the component's monitored topics are dropped by vigild for a duration
//   partition       every UDP datagram to or from the component's sockets is dropped for a
//                   duration (nftables, daemon/network_fault.hpp); ends early when the
//                   process is replaced
//   packet_loss     the same for a random share of them
//   state_dir_full  vigild's own: its event log cannot be written for a duration, as on a full
//                   disk (no component; events are held in memory meanwhile)
//   cpu_hog         a helper process (vigild itself, --chaos-hog) spinning N threads, counted
//                   in the component's process tree by the resource monitors, for a duration;
//                   ends early when the process is replaced
//   memory_hog      the same holding BYTES of touched memory
//
// At most one timed fault per component at a time, so a detection matches one injection.
// Runs on the event loop, like everything it touches.
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/protocol.hpp"
#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "health/event.hpp"
#include "supervisor/process_runner.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::daemon {

class FaultInjector {
 public:
  struct Dependencies {
    Scheduler& scheduler;
    supervisor::Supervisor& supervisor;
    supervisor::ProcessRunner& runner;  // signal_group
    std::function<void(health::Event)> emit;
    // Names this vigild's nftables tables apart from another vigild's on the same host; the
    // leftovers of a vigild killed during a network fault are removed at construction.
    std::string network_table_prefix = "vigil_chaos_";
    // Counts (true) or stops counting (false) a helper's session in a component's tree.
    std::function<void(const std::string& component, pid_t helper, bool attach)> attach_helper;
    // Drops (until a time) or accepts again (nullopt) the component's monitored topics; false
    // when it has none.
    std::function<bool(const std::string& component, std::optional<TimePoint> until)> mute_topics;
    // Makes the event log's writes fail (true) or work again (false).
    std::function<void(bool)> fill_state_dir;
  };

  explicit FaultInjector(Dependencies deps);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Injects `request` (not `list`) into `component`. Returns the reply's fields (id, fault,
  // name, pid, until_us for a timed fault), or why it was refused; a refusal emits nothing.
  Result<nlohmann::json> inject(const std::string& component, const api::ChaosRequest& request);

  // The timed faults still running, oldest first (for `vigil chaos list` and the status).
  nlohmann::json active() const;

  // Ends every running fault now (continuing stopped processes), e.g. before vigild stops
  // the components at shutdown: a stopped process would not see its SIGTERM.
  void clear_all(const std::string& why);

 private:
  struct Injection;

  std::unique_ptr<Injection> new_timed(const api::ChaosRequest& request);
  Result<nlohmann::json> start_timed(std::unique_ptr<Injection> injection);
  void slow_cycle(Injection& injection, bool stop_now);
  Result<std::string> cut_network(Injection& injection);
  Result<pid_t> start_hog(Injection& injection);
  void watch_replacement(Injection& injection);
  void finish(const std::string& component, const std::string& why_early = {});
  bool still_same_process(const Injection& injection) const;
  void publish(const std::string& component, health::EventKind kind, const std::string& state,
               std::string reason, nlohmann::json detail);

  Dependencies deps_;
  std::map<std::string, std::unique_ptr<Injection>> running_;  // by component
  int next_id_ = 1;
};

}  // namespace vigil::daemon
