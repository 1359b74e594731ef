#include "alerts/alert_router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "alerts/http_target.hpp"

namespace vigil::alerts {

namespace {

using health::EventKind;
using health::FailureKind;
using nlohmann::json;

std::string key_of(std::string_view name, const std::string& node) {
  return fmt::format("{}/{}", name, node);
}

// The exec hook gets the body in an environment variable, whose size Linux caps at 128 KiB:
// an oversized event (a long output tail) loses its detail rather than the alert.
constexpr std::size_t kMaxBody = 64 * 1024;

// Approval alerts are per request, not per component: a component may wait on a second
// approval (a later rung) while the first is still being resolved.
std::string approval_key(const std::string& id) {
  return key_of(kApprovalPending, "approval-" + id);
}

std::string text_of(const json& detail, const char* key) {
  const auto it = detail.find(key);
  if (it == detail.end()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string webhook_text(const Alert& alert, const json& event) {
  std::string text = webhook_body(alert, event).dump();
  if (text.size() <= kMaxBody) return text;
  json trimmed = event;
  trimmed["detail"] = {{"truncated", true}};
  return webhook_body(alert, trimmed).dump();
}

}  // namespace

Targets make_targets(const config::AlertsSpec& spec, Environment& env, OnResult on_result) {
  Targets targets;
  const auto retry = RetryPolicy::from(spec);
  if (!spec.alertmanager_url.empty()) {
    std::string base = spec.alertmanager_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    targets.alertmanager = std::make_unique<HttpTarget>(
        HttpTargetOptions{"alertmanager", base + "/api/v2/alerts", retry}, env.post, on_result);
  }
  if (!spec.webhook_url.empty()) {
    targets.notifications.push_back(std::make_unique<HttpTarget>(
        HttpTargetOptions{"webhook", spec.webhook_url, retry}, env.post, on_result));
  }
  if (!spec.exec.empty()) {
    targets.notifications.push_back(
        std::make_unique<ExecTarget>(env.scheduler, spec.exec, retry, env.launch, on_result));
  }
  return targets;
}

AlertRouter::AlertRouter(Environment env, const config::SystemSpec& spec)
    : scheduler_(env.scheduler),
      spec_(spec.alerts),
      instance_(env.instance),
      refresh_timer_(env.scheduler) {
  env_.emplace(std::move(env));
  learn_tree(spec);
  std::weak_ptr<bool> alive = alive_;
  targets_ = make_targets(spec_, *env_, [this, alive](const DeliveryResult& r) {
    if (!alive.expired()) on_delivery_result(r);
  });
}

AlertRouter::AlertRouter(Scheduler& scheduler, const config::SystemSpec& spec, std::string instance,
                         Targets targets)
    : scheduler_(scheduler),
      spec_(spec.alerts),
      instance_(std::move(instance)),
      targets_(std::move(targets)),
      refresh_timer_(scheduler) {
  learn_tree(spec);
}

AlertRouter::~AlertRouter() {
  stop(std::chrono::milliseconds(0));
}

void AlertRouter::learn_tree(const config::SystemSpec& spec) {
  root_ = spec.root.name;
  components_under_.clear();
  groups_above_.clear();
  temporary_.clear();
  std::vector<std::string> enclosing;
  auto walk = [&](auto& self, const config::GroupSpec& group) -> void {
    enclosing.push_back(group.name);
    components_under_[group.name];
    for (const auto& child : group.children) {
      if (const auto* c = std::get_if<config::ComponentSpec>(&child.node)) {
        groups_above_[c->name] = enclosing;
        for (const auto& g : enclosing) components_under_[g].push_back(c->name);
        if (c->restart == config::RestartType::temporary) temporary_.insert(c->name);
      } else {
        const auto& sub = std::get<config::GroupSpec>(child.node);
        groups_above_[sub.name] = enclosing;
        self(self, sub);
      }
    }
    enclosing.pop_back();
  };
  walk(walk, spec.root);
}

void AlertRouter::on_event(const health::Event& e) {
  const std::string& node = e.component;
  const bool is_component = groups_above_.count(node) > 0 && components_under_.count(node) == 0;
  if (is_component && !e.state.empty()) state_[node] = e.state;
  if (is_component && e.kind == EventKind::spawned) {
    operator_stopped_.erase(node);
    if (auto it = e.detail.find("restart"); it != e.detail.end() && it->is_number_integer()) {
      restarts_[node] = it->get<int>();
    }
  }

  // Before the failure branch: a safe stop is worse than a failure and must not be folded into
  // VigilComponentFailed even if the event carries a failure kind.
  if (e.kind == EventKind::given_up && is_component && e.detail.value("safe_stop", false)) {
    std::map<std::string, std::string> annotations{{"summary", e.reason},
                                                   {"event_id", std::to_string(e.id)}};
    if (auto why = text_of(e.detail, "why"); !why.empty()) annotations["why"] = why;
    if (auto step = text_of(e.detail, "step"); !step.empty()) annotations["step"] = step;
    fire(std::string(kComponentSafeStopped), node, "component", "critical", e,
         std::move(annotations));
    return;
  }
  if (e.failure != FailureKind::none && !node.empty()) {
    std::map<std::string, std::string> annotations{
        {"summary", e.reason},
        {"failure", std::string(health::to_string(e.failure))},
        {"event_id", std::to_string(e.id)}};
    if (auto it = restarts_.find(node); it != restarts_.end()) {
      annotations["restarts"] = std::to_string(it->second);
    }
    fire(std::string(kComponentFailed), node, "component", "warning", e, std::move(annotations));
    return;
  }
  switch (e.kind) {
    case EventKind::escalated: {
      std::map<std::string, std::string> annotations{{"summary", e.reason},
                                                     {"event_id", std::to_string(e.id)}};
      if (auto m = e.detail.find("members"); m != e.detail.end() && m->is_array()) {
        std::string members;
        for (const auto& name : *m) {
          if (!members.empty()) members += ", ";
          members += name.is_string() ? name.get<std::string>() : name.dump();
        }
        annotations["members"] = members;
      }
      fire(std::string(kGroupEscalated), node, "group", "critical", e, std::move(annotations));
      break;
    }
    case EventKind::given_up:
      if (node == root_) {
        fire(std::string(kSupervisorGaveUp), node, "", "critical", e,
             {{"summary", e.reason}, {"event_id", std::to_string(e.id)}});
      }
      break;
    case EventKind::approval_requested:
      on_approval_requested(e);
      break;
    case EventKind::warning:
      if (text_of(e.detail, "source") == "event_log") {
        fire(std::string(kEventLogNotWritable), "", "", "critical", e,
             {{"summary", e.reason}, {"error", text_of(e.detail, "error")}});
      } else if (text_of(e.detail, "source") == "state_dir") {
        fire(std::string(kStateDirNotWritable), "", "", "critical", e,
             {{"summary", e.reason},
              {"error", text_of(e.detail, "error")},
              {"running_from", text_of(e.detail, "running_from")}});
      }
      break;
    case EventKind::warning_cleared:
      if (text_of(e.detail, "source") == "event_log") {
        resolve(key_of(kEventLogNotWritable, ""), e);
      }
      break;
    case EventKind::approval_decided:
      if (auto id = text_of(e.detail, "id"); !id.empty()) resolve(approval_key(id), e);
      break;
    case EventKind::ready:
      resolve(key_of(kComponentFailed, node), e);
      resolve(key_of(kComponentSafeStopped, node), e);
      resolve_recovered_groups(e);
      break;
    case EventKind::operator_command: {
      // The node-level record of `vigil stop NAME` (per-component records carry a state).
      constexpr std::string_view kStop = "operator: stop ";
      if (e.state.empty() && e.reason.rfind(kStop, 0) == 0) on_operator_stop(node, e);
      break;
    }
    case EventKind::config_reloaded: {
      // The tree was relearned by reconfigure(): alerts of nodes that are gone resolve.
      std::vector<std::string> gone;
      for (const auto& [key, f] : firing_) {
        auto n = group_alert_node(f.alert);
        if (n.empty()) n = f.alert.labels.at("component");
        if (groups_above_.count(n) == 0 && components_under_.count(n) == 0) gone.push_back(key);
      }
      for (const auto& key : gone) resolve(key, e);
      break;
    }
    default:
      break;
  }
}

void AlertRouter::on_approval_requested(const health::Event& e) {
  const std::string id = text_of(e.detail, "id");
  if (id.empty() || e.component.empty()) return;
  std::map<std::string, std::string> annotations{{"summary", e.reason},
                                                 {"id", id},
                                                 {"action", text_of(e.detail, "action")},
                                                 {"default", text_of(e.detail, "default")},
                                                 {"event_id", std::to_string(e.id)}};
  if (auto d = e.detail.find("deadline_us"); d != e.detail.end() && d->is_number_integer()) {
    annotations["deadline"] = rfc3339(d->get<std::int64_t>());
  }
  if (auto why = text_of(e.detail, "why"); !why.empty()) annotations["why"] = why;
  fire(std::string(kApprovalPending), e.component, "component", "warning", e,
       std::move(annotations), approval_key(id));
}

std::string AlertRouter::group_alert_node(const Alert& alert) const {
  if (alert.name == kGroupEscalated) return alert.labels.at("group");
  if (alert.name == kSupervisorGaveUp) return root_;
  return {};
}

void AlertRouter::fire(const std::string& name, const std::string& node,
                       const std::string& node_label, const std::string& severity,
                       const health::Event& e, std::map<std::string, std::string> annotations,
                       std::string key) {
  if (key.empty()) key = key_of(name, node);
  if (auto it = firing_.find(key); it != firing_.end()) {
    // Still firing: the same problem again. Remember it; Alertmanager learns it at its next
    // refresh, the webhook and exec targets are not told again.
    auto& f = it->second;
    ++f.alert.failures;
    for (auto& [k, v] : annotations) f.alert.annotations[k] = std::move(v);
    f.alert.annotations["failures"] = std::to_string(f.alert.failures);
    f.last_event = e.to_json();
    return;
  }
  Firing f;
  f.alert.key = key;
  f.alert.name = name;
  f.alert.labels = spec_.labels;
  f.alert.labels.emplace("instance", instance_);  // the config may name the instance itself
  f.alert.labels["alertname"] = name;
  f.alert.labels["severity"] = severity;
  if (!node_label.empty()) f.alert.labels[node_label] = node;
  f.alert.annotations = std::move(annotations);
  f.alert.annotations.insert_or_assign("failures", std::to_string(f.alert.failures));
  f.alert.starts_at_us = e.wall_us > 0 ? e.wall_us : scheduler_.wall_now_us();
  f.last_event = e.to_json();
  spdlog::info("alerts: {} firing: {}", key, e.reason);
  auto& stored = firing_.emplace(key, std::move(f)).first->second;
  notify(stored);
  post_to_alertmanager(
      stored,
      scheduler_.wall_now_us() +
          std::chrono::duration_cast<std::chrono::microseconds>(spec_.resolve_timeout).count());
  if (!refresh_timer_.armed() && targets_.alertmanager) {
    refresh_timer_.arm_after(spec_.resolve_timeout / 2, [this] { refresh_alertmanager(); });
  }
}

void AlertRouter::resolve(const std::string& key, const health::Event& e) {
  auto it = firing_.find(key);
  if (it == firing_.end()) return;
  Firing f = std::move(it->second);
  firing_.erase(it);
  f.alert.ends_at_us = std::max(scheduler_.wall_now_us(), f.alert.starts_at_us);
  f.alert.annotations["resolution"] = e.reason;
  f.last_event = e.to_json();
  spdlog::info("alerts: {} resolved: {}", key, e.reason);
  notify(f);
  post_to_alertmanager(f, f.alert.ends_at_us);
  if (firing_.empty()) refresh_timer_.cancel();
}

bool AlertRouter::healthy(const std::string& component) const {
  if (temporary_.count(component) > 0 || operator_stopped_.count(component) > 0) return true;
  auto it = state_.find(component);
  return it != state_.end() && it->second == "running";
}

void AlertRouter::resolve_recovered_groups(const health::Event& e) {
  std::vector<std::string> recovered;
  for (const auto& [key, f] : firing_) {
    const std::string node = group_alert_node(f.alert);
    if (node.empty()) continue;
    auto members = components_under_.find(node);
    if (members == components_under_.end()) continue;
    if (std::all_of(members->second.begin(), members->second.end(),
                    [this](const std::string& c) { return healthy(c); })) {
      recovered.push_back(key);
    }
  }
  for (const auto& key : recovered) resolve(key, e);
}

void AlertRouter::on_operator_stop(const std::string& node, const health::Event& e) {
  std::vector<std::string> components;
  if (auto it = components_under_.find(node); it != components_under_.end()) {
    components = it->second;
  } else if (groups_above_.count(node) > 0) {
    components = {node};
  }
  for (const auto& c : components) {
    operator_stopped_.insert(c);
    resolve(key_of(kComponentFailed, c), e);
    resolve(key_of(kComponentSafeStopped, c), e);
  }
  // Group alerts of this group and of the groups below it: the operator has taken over.
  std::vector<std::string> taken_over;
  for (const auto& [key, f] : firing_) {
    const std::string group = group_alert_node(f.alert);
    if (group.empty()) continue;
    const auto& above = groups_above_[group];
    if (group == node || std::find(above.begin(), above.end(), node) != above.end()) {
      taken_over.push_back(key);
    }
  }
  for (const auto& key : taken_over) resolve(key, e);
  resolve_recovered_groups(e);  // stopping the one bad component can settle a group
}

void AlertRouter::notify(const Firing& f) {
  if (targets_.notifications.empty()) return;
  const std::string body = webhook_text(f.alert, f.last_event);
  const std::string status = f.alert.ends_at_us == 0 ? "firing" : "resolved";
  for (auto& target : targets_.notifications) target->submit({f.alert.key, status, body, false});
}

void AlertRouter::post_to_alertmanager(const Firing& f, std::int64_t ends_at_us) {
  if (!targets_.alertmanager) return;
  const std::string status = f.alert.ends_at_us == 0 ? "firing" : "resolved";
  targets_.alertmanager->submit(
      {f.alert.key, status, json::array({alertmanager_alert(f.alert, ends_at_us)}).dump(), true});
}

void AlertRouter::refresh_alertmanager() {
  if (firing_.empty() || !targets_.alertmanager) return;
  const std::int64_t ends =
      scheduler_.wall_now_us() +
      std::chrono::duration_cast<std::chrono::microseconds>(spec_.resolve_timeout).count();
  for (const auto& [key, f] : firing_) post_to_alertmanager(f, ends);
  refresh_timer_.arm_after(spec_.resolve_timeout / 2, [this] { refresh_alertmanager(); });
}

void AlertRouter::reconfigure(const config::SystemSpec& spec) {
  learn_tree(spec);
  if (spec.alerts == spec_) return;
  spec_ = spec.alerts;
  for (auto& [key, f] : firing_) {
    // Labels from the config may have changed; the identity labels stay.
    auto labels = spec_.labels;
    labels.emplace("instance", instance_);
    for (const char* own : {"alertname", "severity", "component", "group"}) {
      if (auto it = f.alert.labels.find(own); it != f.alert.labels.end()) labels[own] = it->second;
    }
    f.alert.labels = std::move(labels);
  }
  if (env_) {
    if (targets_.alertmanager) targets_.alertmanager->stop(std::chrono::milliseconds(0));
    for (auto& t : targets_.notifications) t->stop(std::chrono::milliseconds(0));
    std::weak_ptr<bool> alive = alive_;
    targets_ = make_targets(spec_, *env_, [this, alive](const DeliveryResult& r) {
      if (!alive.expired()) on_delivery_result(r);
    });
    // The new targets have heard of nothing yet.
    for (const auto& [key, f] : firing_) notify(f);
  }
  refresh_timer_.cancel();
  if (!firing_.empty() && targets_.alertmanager) refresh_alertmanager();
}

void AlertRouter::stop(std::chrono::milliseconds budget) {
  refresh_timer_.cancel();
  const auto deadline = MonoClock::now() + budget;
  auto remaining = [&] {
    return std::max(
        std::chrono::milliseconds(0),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - MonoClock::now()));
  };
  if (targets_.alertmanager) targets_.alertmanager->stop(remaining());
  for (auto& t : targets_.notifications) t->stop(remaining());
}

void AlertRouter::on_delivery_result(const DeliveryResult& r) {
  if (r.delivered && r.attempts > 1) {
    spdlog::info("alerts: {} delivered {} ({}) after {} attempts", r.target, r.key, r.status,
                 r.attempts);
  }
}

json AlertRouter::describe() const {
  json firing = json::array();
  for (const auto& [key, f] : firing_) firing.push_back(webhook_body(f.alert, f.last_event));
  json targets = json::object();
  auto add = [&](const Target& t) {
    const auto s = t.stats();
    targets[t.name()] = {{"delivered", s.delivered},
                         {"given_up", s.given_up},
                         {"dropped", s.dropped},
                         {"superseded", s.superseded},
                         {"retries", s.retries}};
  };
  if (targets_.alertmanager) add(*targets_.alertmanager);
  for (const auto& t : targets_.notifications) add(*t);
  return {{"firing", firing}, {"targets", targets}};
}

}  // namespace vigil::alerts
