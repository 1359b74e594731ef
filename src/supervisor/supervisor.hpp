#pragma once
// The supervision tree: OTP strategies, restart types and intensity, backoff, dependency
// order, graceful ordered stops, watchdog deadlines and readiness. Single-threaded: every
// entry point runs on the event loop. Inputs are process exits (ProcessRunner), notify
// messages, probe results, timers and operator commands; outputs are health events.
//
// clang-format off
// Component state x event table ("-": ignored; fail(k): record failure k, then stop):
//
//                   stopped, backoff,    starting            running             stopping
//                   failed, given_up
//   deps ready      spawn -> starting    -                   -                   -
//                   (wanted, backoff over)
//   exec failure    -> backoff (max),    -                   -                   -
//                   logged once
//   READY, probe ok -                    -> running          -                   -
//   start timeout   -                    fail(not_ready)     -                   -
//   watchdog late   -                    -                   warning             -
//   watchdog missed -                    -                   stacks, fail(hang)  -
//   probe failing   -                    -                   fail(probe)         -
//   exit            -                    policy              policy              per stop purpose
//   stop timeout    -                    -                   -                   SIGKILL group
//   operator stop   -> stopped           stop                stop                -
// clang-format on
//
// policy: temporary, or transient with a clean exit -> stopped/failed, not restarted;
// otherwise the parent group records a restart; within intensity its strategy picks the set
// to restart (after stopping the live ones in reverse dependency order) with the failed
// node's backoff delay; beyond intensity the group fails to its parent; at the root the
// final action runs (stop everything: given_up; or retry forever at the maximum backoff).
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "detection/liveness.hpp"
#include "health/event.hpp"
#include "health/state.hpp"
#include "supervisor/backoff.hpp"
#include "supervisor/ladder.hpp"
#include "supervisor/process_runner.hpp"
#include "watchdog/notify_message.hpp"

namespace vigil::supervisor {

struct Component;
struct Group;

// Why a component is being stopped, which decides the state it ends in.
enum class StopPurpose { none, operator_stop, restart, failure, give_up, shutdown, retire };

struct Dependencies {
  ProcessRunner& runner;
  Prober& prober;
  Scheduler& scheduler;
  std::function<void(health::Event)> emit;
  std::function<double()> uniform;  // in [0, 1): backoff jitter
  // Delivers notify datagrams already received but not yet read (they are read in batches).
  // Called before a missed watchdog deadline is declared a hang. May be empty.
  std::function<void()> drain_notifications = {};
  // A recovery ladder forces system mode `mode` (on), or lets go of it (off). `by` names the
  // component whose ladder holds it. May be empty (no modes).
  std::function<void(const std::string& mode, const std::string& by, bool on)> force_mode = {};
};

// Recorded process of a previous vigild, offered for adoption at start.
struct ProcessRecord {
  std::string component;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  std::string fingerprint;  // ComponentSpec::process_fingerprint() when it was started
};

class Supervisor {
 public:
  Supervisor(const config::SystemSpec& spec, Dependencies deps);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Adopts still-running processes of a previous vigild, then starts everything else in
  // dependency order.
  void start(const std::vector<ProcessRecord>& previous = {});

  // Stops everything in reverse dependency order; `done` runs once nothing is left.
  void shutdown(std::function<void()> done);

  // A datagram on the notify socket from `sender` (kernel-checked). Accepted when the sender
  // is a component's main process or leads its session (every component runs in a session of
  // its own, so the session id is the main pid); false otherwise, and the caller may retry
  // with the sender's session or ancestors. O(1): this runs for every heartbeat.
  // `arrival` is when the kernel received the datagram: a heartbeat counts from then, however
  // late it is read.
  bool on_notify_from(pid_t sender, const watchdog::NotifyMessage& message, TimePoint arrival);
  // The same, for a component named directly, arriving now.
  void on_notify(const std::string& component, const watchdog::NotifyMessage& message);

  // Operator commands on a component or a group (with all its members).
  // `origin` says who asked (control socket, HTTP from an address) and why, for the
  // operator_command event; it does not change what happens.
  Result<void> start_node(const std::string& name, const nlohmann::json& origin = {});
  Result<void> stop_node(const std::string& name, const nlohmann::json& origin = {});
  Result<void> restart_node(const std::string& name, const nlohmann::json& origin = {});

  // An operator's answer to a recovery step waiting for approval (`vigil approve ID`). The
  // result says what happens now.
  Result<std::string> decide(const std::string& id, bool approve,
                             const nlohmann::json& origin = {});
  // Recovery steps waiting for an operator: id, component, step, why, deadline, default.
  nlohmann::json approvals() const;

  // Applies a new config: starts added components, stops removed ones, restarts only the
  // changed ones; unchanged processes keep running untouched. Returns what changed.
  nlohmann::json reload(const config::SystemSpec& spec);

  // The tree with each node's state, for `vigil status` and other observers.
  nlohmann::json status() const;

  // Components whose process trees the resource monitors sample: running, with their main
  // pid; `judged` is false during the grace period after readiness.
  struct MonitorTarget {
    std::string name;
    pid_t pid = 0;
    bool judged = true;
    const config::ComponentSpec* spec = nullptr;
  };
  std::vector<MonitorTarget> monitor_targets() const;
  // A monitor of `component` (sampled while `pid` was its main process) changed level. At the
  // fail level, `kind` says what failed: a resource limit, or a topic that went silent.
  void on_monitor(const std::string& component, pid_t pid, const std::string& source,
                  int level /* 0 ok, 1 warn, 2 fail */, const std::string& reason,
                  nlohmann::json evidence, config::MonitorAction action,
                  health::FailureKind kind = health::FailureKind::resource);

  bool is_component(const std::string& name) const;
  // The component whose main process is `pid`, or "" (retired processes included).
  std::string component_of(pid_t main_pid) const;
  // Another detector (DDS liveliness) judged the component hung while `pid` was its main
  // process: the same path as a missed watchdog deadline, stacks and all. Ignored when the
  // process has been replaced since or the component is not running.
  void report_hang(const std::string& component, pid_t pid, const std::string& reason,
                   nlohmann::json evidence);
  int alive_count() const;

  // Fault injection (`vigil chaos heartbeat-loss`): until `until`, the component's heartbeats
  // (WATCHDOG=1, watched-loop beats, DDS and bond beats, which all arrive as notify messages)
  // are dropped as if lost on the way: not counted, not seen by the watchdog. Whatever else a
  // message carries (READY=1, STATUS=...) still counts. Another call replaces the deadline;
  // unmute_heartbeats ends it early.
  void mute_heartbeats(const std::string& component, TimePoint until);
  void unmute_heartbeats(const std::string& component);

 private:
  friend struct Component;
  // Building and lookup.
  std::unique_ptr<Group> build_group(const config::GroupSpec& spec, Group* parent,
                                     std::map<std::string, std::unique_ptr<Component>>* reuse);
  void index_tree();
  Component* find_component(const std::string& name) const;
  std::vector<Component*> components_under(const std::string& name) const;

  // State changes: the only place a component's state is written.
  void transition(Component& c, health::State to, health::EventKind kind, std::string reason,
                  health::FailureKind failure = health::FailureKind::none,
                  nlohmann::json detail = nlohmann::json::object());
  void emit(const std::string& component, health::EventKind kind, std::string state,
            std::string reason, health::FailureKind failure = health::FailureKind::none,
            nlohmann::json detail = nlohmann::json::object());

  // Starting.
  void request_reconcile();
  void reconcile();
  // The dependencies (`after:`) `c` must still wait for before it starts.
  std::vector<const Component*> awaited_dependencies(const Component& c) const;
  LaunchRequest prepare_launch(Component& c);
  void finish_launch(Component& c, const LaunchResult& result);
  void become_ready(Component& c, const std::string& how);
  void arm_watchdog(Component& c);
  void on_watchdog_deadline(Component& c);
  void apply_verdict(Component& c, detection::Verdict verdict);
  void on_hang(Component& c, std::string reason, nlohmann::json evidence);
  void set_warning(Component& c, const std::string& source, const std::string& reason,
                   nlohmann::json evidence);
  void clear_warning(Component& c, const std::string& source, const std::string& reason);
  void handle_notify(Component& c, const watchdog::NotifyMessage& message, TimePoint arrival);
  void set_pid(Component& c, pid_t pid);
  void run_probe(Component& c);
  void on_probe_result(Component& c, bool ok, const std::string& detail);

  // Failing and restarting.
  void on_exit(Component& c, const process::ExitStatus& status);
  void fail(Component& c, health::FailureKind kind, health::EventKind event, std::string reason,
            int signal, nlohmann::json detail, std::optional<Duration> kill_after = std::nullopt);
  void handle_termination(Component& c, bool abnormal, const std::string& reason);
  void fail_to_parent(Group* parent, Component* failed_component, Group* failed_group,
                      const std::string& reason);
  void apply_strategy(Group& parent, Component* failed_component, Group* failed_group,
                      const std::string& reason);
  void escalate(Group& group, const std::string& reason);
  void arm_backoff(Component& c);
  void root_exhausted(const std::string& reason);
  void restart_components(const std::vector<Component*>& set, Duration delay,
                          const std::string& reason);

  // Escalation ladders, standbys and approvals (recovery.cpp).
  void climb(Component& c, const std::string& failure);
  void take_rung(Component& c, const Ladder::Rung& rung);
  void perform_rung(Component& c, const Ladder::Rung& rung);
  void restart_for_ladder(Component& c, const Ladder::Rung& rung, Duration delay);
  void safe_stop(Component& c, const Ladder::Rung& rung);
  void request_approval(Component& c, const Ladder::Rung& rung);
  void settle_approval(const std::string& id, bool approve, const std::string& by,
                       const nlohmann::json& origin);
  void cancel_approvals(const Component& c, const std::string& why);
  void force_mode(Component& c, const std::string& mode);
  void release_modes(Component& c);
  void reset_ladder(Component& c);
  Component* partner(const Component& c) const;
  void activate_standby(Component& primary, Component& standby, const std::string& why,
                        bool hold_primary);
  bool on_pair_failure(Component& c, bool abnormal, const std::string& reason);
  void on_pair_ready(Component& c);
  void fail_back(Component& primary);
  const config::ComponentSpec& launch_spec(Component& c);

  // Stopping.
  void begin_stop(Component& c, StopPurpose purpose, std::string reason);
  void advance_stops();
  void send_stop_signal(Component& c, int signal, const std::string& reason,
                        std::optional<Duration> kill_after = std::nullopt);
  void start_timed_out(Component& c, std::string reason, nlohmann::json detail);
  void stop_timed_out(Component& c, std::string reason);
  void after_stopped(Component& c);
  void check_shutdown_done();

  const Dependencies deps_;
  config::SystemSpec spec_;
  std::vector<std::unique_ptr<Component>> owned_;  // every component of the current tree
  std::unique_ptr<Group> root_;
  std::vector<Component*> components_;  // declaration order
  std::unordered_map<std::string, Component*> by_name_;
  std::unordered_map<std::string, Group*> groups_;
  std::unordered_map<pid_t, Component*> by_pid_;  // live main processes, retired ones too
  std::unordered_map<Component*, std::vector<Component*>> waits_for_;
  std::unordered_map<Component*, std::vector<Component*>> dependants_;
  std::vector<std::unique_ptr<Component>> retired_;  // removed or changed, still stopping
  bool reconcile_posted_ = false;
  bool shutting_down_ = false;
  std::optional<std::pair<std::int64_t, std::int64_t>> event_time_;  // wall, mono us
  std::function<void()> shutdown_done_;
  struct PendingApproval;
  std::map<std::string, std::unique_ptr<PendingApproval>> approvals_;
  int next_approval_ = 1;
  // Components whose heartbeats are dropped until a deadline (chaos); usually empty, and then
  // a heartbeat pays one emptiness check.
  std::unordered_map<std::string, TimePoint> muted_heartbeats_;
};

}  // namespace vigil::supervisor
