#pragma once
// Turns health events into alerts for an operator (see docs/PROTOCOL.md, "Alerts"). Lives on
// the event loop, subscribed to the EventBus: it only sees committed events.
//
//   fires                         on                                     resolves
//   VigilComponentFailed{component} any event with a failure kind         the component's next
//                                                                         `ready`
//   VigilGroupEscalated{group}    `escalated` of the group               every component under the
//   VigilSupervisorGaveUp         `given_up` of the root                 group (root) running again
//   VigilApprovalPending{component} `approval_requested` (one per id)     its `approval_decided`
//                                                                         (approved, denied,
//                                                                         withdrawn, timed out)
//   VigilComponentSafeStopped{component} `given_up` with detail.safe_stop  the component's next
//                                   (an escalation ladder ended in a       `ready`
//                                   safe stop)
//   VigilEventLogNotWritable      `warning` with detail.source event_log   its `warning_cleared`
//                                   (the state directory is full or
//                                   read-only; events held in memory)
//   VigilStateDirNotWritable      `warning` with detail.source state_dir   a vigild restart
//                                   (vigild runs from /run instead)
//
// A component, group or root alert also resolves when an operator stops that node (or a group
// above it: the operator has taken over), or when a reload removes the component. An operator
// `start` alone resolves nothing: the alert resolves once the components are ready again.
// Components that cannot come back by themselves do not hold a group alert open: temporary
// ones, and ones an operator stopped.
//
// De-duplication: while an alert fires, more events of the same kind and node update it (count,
// last reason, last event) without a new notification to the webhook or exec targets.
// Alertmanager gets every firing alert re-posted every resolve_timeout / 2 with endsAt = now +
// resolve_timeout (which carries the updates), and endsAt = now when it resolves.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "alerts/alert.hpp"
#include "alerts/exec_target.hpp"
#include "alerts/target.hpp"
#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "health/event.hpp"

namespace vigil::alerts {

struct Targets {
  std::unique_ptr<Target> alertmanager;                // may be null
  std::vector<std::unique_ptr<Target>> notifications;  // webhook, exec: one delivery per change
};

// What the real targets need from the daemon.
struct Environment {
  Scheduler& scheduler;
  PostToLoop post;      // thread-safe: runs fn on the loop (HTTP results)
  ExecLauncher launch;  // spawns the exec hook on the loop
  std::string instance = host_name();
};

// The configured targets: Alertmanager (POST <url>/api/v2/alerts), webhook, exec hook.
Targets make_targets(const config::AlertsSpec& spec, Environment& env, OnResult on_result);

class AlertRouter final : public health::EventSink {
 public:
  // With the configured targets.
  AlertRouter(Environment env, const config::SystemSpec& spec);
  // With given targets (tests).
  AlertRouter(Scheduler& scheduler, const config::SystemSpec& spec, std::string instance,
              Targets targets);
  ~AlertRouter() override;

  void on_event(const health::Event& event) override;

  // After a reload: learns the new tree; when the alerts section changed, replaces the targets
  // (the old ones are stopped without waiting) and sends the firing alerts to the new ones.
  void reconfigure(const config::SystemSpec& spec);

  // Shutdown: gives queued deliveries up to `budget` in total, then stops every target.
  void stop(std::chrono::milliseconds budget);

  // {firing: [webhook bodies...], targets: {name: {delivered, given_up, dropped, ...}}}
  nlohmann::json describe() const;

 private:
  struct Firing {
    Alert alert;
    nlohmann::json last_event;
  };
  void learn_tree(const config::SystemSpec& spec);
  void fire(const std::string& name, const std::string& node, const std::string& node_label,
            const std::string& severity, const health::Event& event,
            std::map<std::string, std::string> annotations, std::string key = {});
  void resolve(const std::string& key, const health::Event& event);
  void resolve_recovered_groups(const health::Event& event);
  void on_operator_stop(const std::string& node, const health::Event& event);
  void on_approval_requested(const health::Event& event);
  // The node whose recovery ends a group or root alert; empty for per-component alerts.
  std::string group_alert_node(const Alert& alert) const;
  bool healthy(const std::string& component) const;
  void notify(const Firing& firing);
  void post_to_alertmanager(const Firing& firing, std::int64_t ends_at_us);
  void refresh_alertmanager();
  void on_delivery_result(const DeliveryResult& result);

  Scheduler& scheduler_;
  std::optional<Environment> env_;  // set when targets come from the config
  config::AlertsSpec spec_;
  std::string instance_;
  Targets targets_;
  Timer refresh_timer_;
  std::map<std::string, Firing> firing_;
  // The tree: the root's name, each group's components, each node's enclosing groups.
  std::string root_;
  std::map<std::string, std::vector<std::string>> components_under_;
  std::map<std::string, std::vector<std::string>> groups_above_;
  std::set<std::string> temporary_;
  // What the event stream said last about each component.
  std::map<std::string, std::string> state_;
  std::map<std::string, int> restarts_;
  std::set<std::string> operator_stopped_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vigil::alerts
