// Escalation ladders, standby components and operator approvals: what the supervisor does
// with a failure when the component's config says more than "restart it".
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/units.hpp"
#include "supervisor/supervisor.hpp"
#include "supervisor/tree.hpp"

namespace vigil::supervisor {

using health::EventKind;
using health::FailureKind;
using Action = config::RecoveryStep::Action;

namespace {

// Ownership strengths handed to a standby pair: the primary outranks its standby unless the
// standby is serving and the primary is not to take over at once.
constexpr int kPrimaryStrength = 2;
constexpr int kStandbyStrength = 1;

nlohmann::json step_detail(const Ladder& ladder, const Ladder::Rung& r) {
  return {{"step", r.index + 1},
          {"of", ladder.size()},
          {"action", config::to_string(r.step->action)},
          {"target", r.step->target},
          {"use", r.use},
          {"times", r.step->times},
          {"implicit", r.index >= ladder.size()}};
}

std::string step_label(const Ladder& ladder, const Ladder::Rung& r) {
  if (r.index >= ladder.size()) return "end of the recovery ladder: safe_stop";
  return fmt::format("recovery step {}/{}: {}", r.index + 1, ladder.size(),
                     Ladder::describe(*r.step));
}

}  // namespace

void Supervisor::climb(Component& c, const std::string& failure) {
  take_rung(c, c.ladder.climb(failure));
}

void Supervisor::take_rung(Component& c, const Ladder::Rung& r) {
  if (r.entered) {
    nlohmann::json detail = step_detail(c.ladder, r);
    detail["why"] = r.why;
    emit(c.spec.name, EventKind::recovery_step, std::string(health::to_string(c.state)),
         fmt::format("{} ({})", step_label(c.ladder, r), r.why), FailureKind::none,
         std::move(detail));
    if (r.step->approval) {
      request_approval(c, r);
      return;
    }
  }
  perform_rung(c, r);
}

void Supervisor::perform_rung(Component& c, const Ladder::Rung& r) {
  const auto& step = *r.step;
  switch (step.action) {
    case Action::restart: {
      const int attempt = ++c.consecutive_failures;
      restart_for_ladder(c, r, backoff_delay(c.spec.backoff, attempt, deps_.uniform() * 2.0 - 1.0));
      return;
    }
    case Action::restart_group: {
      Group* g = c.parent;
      if (!step.target.empty()) {
        auto it = groups_.find(step.target);
        if (it != groups_.end()) g = it->second;
      }
      if (g == nullptr) g = root_.get();
      const TimePoint now = deps_.scheduler.now();
      if (now - g->last_failure > g->spec.backoff.reset_after) g->consecutive_failures = 0;
      g->last_failure = now;
      const int attempt = ++g->consecutive_failures;
      ++g->restarts;
      const Duration delay = backoff_delay(g->spec.backoff, attempt, deps_.uniform() * 2.0 - 1.0);
      std::vector<Component*> members;
      collect(*g, members);
      drop_stood_down(members);
      nlohmann::json detail = step_detail(c.ladder, r);
      detail["delay_ms"] = ms(delay);
      detail["group"] = g->spec.name;
      detail["restarting"] = names_of(members);
      emit(c.spec.name, EventKind::restart_scheduled, "backoff",
           fmt::format("restarting group {} in {} ({})", g->spec.name, format_duration(delay),
                       step_label(c.ladder, r)),
           FailureKind::none, std::move(detail));
      for (auto* m : members) ++m->restarts;
      restart_components(members, delay,
                         fmt::format("group {} restarts in {} for {} ({})", g->spec.name,
                                     format_duration(delay), c.spec.name, step_label(c.ladder, r)));
      return;
    }
    case Action::standby: {
      Component* s = find_component(step.target);
      if (s == nullptr) {
        // The loader checks this; a reload could still remove it under a pending step.
        climb(c, fmt::format("standby {} no longer exists", step.target));
        return;
      }
      activate_standby(c, *s, r.why, /*hold_primary=*/true);
      return;
    }
    case Action::mode: {
      force_mode(c, step.target);
      const int attempt = ++c.consecutive_failures;
      restart_for_ladder(c, r, backoff_delay(c.spec.backoff, attempt, deps_.uniform() * 2.0 - 1.0));
      return;
    }
    case Action::safe_stop:
      safe_stop(c, r);
      return;
  }
}

void Supervisor::restart_for_ladder(Component& c, const Ladder::Rung& r, Duration delay) {
  nlohmann::json detail = step_detail(c.ladder, r);
  detail["delay_ms"] = ms(delay);
  detail["attempt"] = c.consecutive_failures;
  detail["restarting"] = {c.spec.name};
  const std::string uses =
      r.step->times > 1 ? fmt::format(", restart {} of {}", r.use, r.step->times) : "";
  emit(c.spec.name, EventKind::restart_scheduled, "backoff",
       fmt::format("restart in {} ({}{}): {}", format_duration(delay), step_label(c.ladder, r),
                   uses, r.why),
       FailureKind::none, std::move(detail));
  ++c.restarts;
  restart_components(
      {&c}, delay,
      fmt::format("restart in {} ({}{})", format_duration(delay), step_label(c.ladder, r), uses));
}

void Supervisor::safe_stop(Component& c, const Ladder::Rung& r) {
  if (!r.step->target.empty()) force_mode(c, r.step->target);
  c.wanted = false;
  const std::string reason = fmt::format("safe stop ({}): {}; `vigil start {}` to try again",
                                         step_label(c.ladder, r), r.why, c.spec.name);
  if (c.alive()) {
    begin_stop(c, StopPurpose::give_up, reason);
    return;
  }
  nlohmann::json detail = step_detail(c.ladder, r);
  detail["why"] = r.why;
  detail["safe_stop"] = true;
  transition(c, State::given_up, EventKind::given_up, reason, FailureKind::none, std::move(detail));
  request_reconcile();
}

// ---- approvals ----

void Supervisor::request_approval(Component& c, const Ladder::Rung& r) {
  const std::string id = std::to_string(next_approval_++);
  auto pending = std::make_unique<PendingApproval>(deps_.scheduler);
  pending->id = id;
  pending->component = c.spec.name;
  pending->rung = r.index;
  pending->action = Ladder::describe(*r.step);
  pending->why = r.why;
  pending->approve_on_timeout = r.step->approve_on_timeout;
  pending->timeout = r.step->approval_timeout;
  pending->requested_us = deps_.scheduler.wall_now_us();
  pending->deadline_us = pending->requested_us + ms(r.step->approval_timeout) * 1000;
  pending->timer.arm_after(r.step->approval_timeout, [this, id] {
    auto it = approvals_.find(id);
    if (it == approvals_.end()) return;
    settle_approval(id, it->second->approve_on_timeout, "timeout", {});
  });
  const char* fallback = r.step->approve_on_timeout ? "approve" : "deny";
  nlohmann::json detail = step_detail(c.ladder, r);
  detail["id"] = id;
  detail["why"] = r.why;
  detail["timeout_ms"] = ms(r.step->approval_timeout);
  detail["deadline_us"] = pending->deadline_us;
  detail["default"] = fallback;
  approvals_.emplace(id, std::move(pending));
  // Held down while the operator decides: nothing restarts it behind their back.
  c.wanted = false;
  const std::string reason = fmt::format(
      "waiting for approval {} to {} ({}); `vigil approve {}` or `vigil deny {}`; "
      "{} after {}",
      id, Ladder::describe(*r.step), step_label(c.ladder, r), id, id, fallback,
      format_duration(r.step->approval_timeout));
  if (c.alive()) {
    emit(c.spec.name, EventKind::approval_requested, std::string(health::to_string(c.state)),
         reason, FailureKind::none, std::move(detail));
  } else {
    transition(c, State::failed, EventKind::approval_requested, reason, FailureKind::none,
               std::move(detail));
  }
}

Result<std::string> Supervisor::decide(const std::string& id, bool approve,
                                       const nlohmann::json& origin) {
  if (approvals_.find(id) == approvals_.end()) {
    std::string pending;
    for (const auto& [key, a] : approvals_) {
      pending += (pending.empty() ? "" : ", ") + key + " (" + a->component + ")";
    }
    return make_error(pending.empty()
                          ? fmt::format("no approval '{}' is pending (none are)", id)
                          : fmt::format("no approval '{}' is pending (pending: {})", id, pending));
  }
  const auto& a = *approvals_.at(id);
  std::string what =
      fmt::format("{} {} for {}", approve ? "approved" : "denied", a.action, a.component);
  settle_approval(id, approve, "operator", origin);
  return what;
}

void Supervisor::settle_approval(const std::string& id, bool approve, const std::string& by,
                                 const nlohmann::json& origin) {
  auto node = approvals_.extract(id);
  if (node.empty()) return;
  auto a = std::move(node.mapped());
  a->timer.cancel();
  Component* c = find_component(a->component);
  nlohmann::json detail = {{"id", a->id},
                           {"decision", approve ? "approved" : "denied"},
                           {"by", by},
                           {"action", a->action},
                           {"step", a->rung + 1}};
  if (origin.is_object() && !origin.empty()) detail["origin"] = origin;
  const bool stale = c == nullptr || c->ladder.index() != a->rung;
  const std::string decision =
      by == "timeout" ? fmt::format("no answer within {}: the default ({}) applies",
                                    format_duration(a->timeout), approve ? "approve" : "deny")
                      : fmt::format("{} by {}", approve ? "approved" : "denied", by);
  emit(a->component, EventKind::approval_decided,
       c != nullptr ? std::string(health::to_string(c->state)) : std::string(),
       fmt::format("approval {} ({}): {}{}", a->id, a->action, decision,
                   stale ? "; nothing to do any more" : ""),
       FailureKind::none, std::move(detail));
  if (stale) return;
  Ladder::Rung r{a->rung, c->ladder.current(), 1, true, a->why};
  if (approve) {
    perform_rung(*c, r);
    return;
  }
  take_rung(*c, c->ladder.skip(fmt::format("step {} ({}) {}", a->rung + 1, a->action, decision)));
}

void Supervisor::cancel_approvals(const Component& c, const std::string& why) {
  std::vector<std::string> ids;
  for (const auto& [id, a] : approvals_) {
    if (a->component == c.spec.name) ids.push_back(id);
  }
  for (const auto& id : ids) {
    auto node = approvals_.extract(id);
    emit(c.spec.name, EventKind::approval_decided, std::string(health::to_string(c.state)),
         fmt::format("approval {} ({}) withdrawn: {}", id, node.mapped()->action, why),
         FailureKind::none,
         {{"id", id}, {"decision", "withdrawn"}, {"by", "operator"}, {"why", why}});
  }
}

nlohmann::json Supervisor::approvals() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [id, a] : approvals_) {
    out.push_back({{"id", id},
                   {"component", a->component},
                   {"step", a->rung + 1},
                   {"action", a->action},
                   {"why", a->why},
                   {"requested_us", a->requested_us},
                   {"deadline_us", a->deadline_us},
                   {"timeout_ms", ms(a->timeout)},
                   {"default", a->approve_on_timeout ? "approve" : "deny"}});
  }
  return out;
}

// ---- modes forced by ladders ----

void Supervisor::force_mode(Component& c, const std::string& mode) {
  if (std::find(c.forced_modes.begin(), c.forced_modes.end(), mode) != c.forced_modes.end()) {
    return;
  }
  c.forced_modes.push_back(mode);
  if (deps_.force_mode) deps_.force_mode(mode, c.spec.name, true);
}

void Supervisor::release_modes(Component& c) {
  auto modes = std::move(c.forced_modes);
  c.forced_modes.clear();
  for (const auto& m : modes) {
    if (deps_.force_mode) deps_.force_mode(m, c.spec.name, false);
  }
}

void Supervisor::reset_ladder(Component& c) {
  c.ladder.reset();
  release_modes(c);
}

// ---- standbys ----

Component* Supervisor::partner(const Component& c) const {
  if (c.spec.standby) return find_component(c.spec.standby->primary);
  for (auto* other : components_) {
    if (other->spec.standby && other->spec.standby->primary == c.spec.name) return other;
  }
  return nullptr;
}

void Supervisor::activate_standby(Component& primary, Component& standby, const std::string& why,
                                  bool hold_primary) {
  const auto& pair = *standby.spec.standby;
  standby.serving_for = primary.spec.name;
  if (hold_primary) {
    primary.replaced_by = standby.spec.name;
    primary.wanted = false;
    if (!primary.alive()) {
      transition(
          primary, State::failed, EventKind::stopped,
          fmt::format("held stopped: standby {} serves for it ({})", standby.spec.name, why));
    } else {
      begin_stop(primary, StopPurpose::operator_stop,
                 fmt::format("replaced by standby {}", standby.spec.name));
    }
  }
  nlohmann::json detail = {{"primary", primary.spec.name},
                           {"hot", pair.hot},
                           {"failback", config::to_string(pair.failback)},
                           {"why", why}};
  if (pair.failback == config::StandbySpec::Failback::after) {
    detail["failback_after_ms"] = ms(pair.failback_after);
  }
  if (pair.hot && standby.alive()) {
    detail["ownership_strength"] = standby.ownership_strength;
    emit(standby.spec.name, EventKind::standby_activated,
         std::string(health::to_string(standby.state)),
         fmt::format("serves for {} (hot standby: its DDS writers take over when {}'s lose "
                     "liveliness): {}",
                     primary.spec.name, primary.spec.name, why),
         FailureKind::none, std::move(detail));
  } else {
    standby.wanted = true;
    standby.not_before = {};
    standby.consecutive_failures = 0;
    emit(standby.spec.name, EventKind::standby_activated,
         std::string(health::to_string(standby.state)),
         fmt::format("starting to serve for {} ({} standby): {}", primary.spec.name,
                     pair.hot ? "hot" : "cold", why),
         FailureKind::none, std::move(detail));
    request_reconcile();
  }
  if (hold_primary && pair.failback == config::StandbySpec::Failback::after) {
    Component* p = &primary;
    standby.failback_timer.arm_after(pair.failback_after, [this, p] { fail_back(*p); });
  }
}

// The primary is tried again while its standby keeps serving; the standby stands down once
// the primary is ready (on_pair_ready), or keeps serving if the primary fails again.
void Supervisor::fail_back(Component& primary) {
  if (primary.replaced_by.empty() || primary.alive() || shutting_down_) return;
  Component* s = find_component(primary.replaced_by);
  primary.wanted = true;
  primary.not_before = {};
  primary.consecutive_failures = 0;
  transition(primary, State::stopped, EventKind::recovery_step,
             fmt::format("failback: trying {} again after {} on standby {}", primary.spec.name,
                         s != nullptr ? format_duration(s->spec.standby->failback_after) : "?",
                         primary.replaced_by),
             FailureKind::none, {{"action", "failback"}, {"standby", primary.replaced_by}});
  request_reconcile();
}

// A member of a standby pair terminated. A hot standby is said to serve when its primary
// fails; a serving standby that fails moves its primary's ladder on; a failback attempt
// that fails leaves the standby serving. True when that settles the termination.
bool Supervisor::on_pair_failure(Component& c, bool abnormal, const std::string& reason) {
  Component* other = partner(c);
  if (other == nullptr || !abnormal || shutting_down_) return false;
  if (!c.spec.standby) {
    Component& standby = *other;
    if (!c.replaced_by.empty() && standby.serving_for == c.spec.name) {
      // A failback attempt: the standby goes on serving; try again after the failback time.
      c.wanted = false;
      const Duration again = standby.spec.standby->failback_after;
      transition(c, State::failed, EventKind::stopped,
                 fmt::format("failback failed: {}; standby {} keeps serving; next try in {}",
                             reason, standby.spec.name, format_duration(again)));
      Component* p = &c;
      standby.failback_timer.arm_after(again, [this, p] { fail_back(*p); });
      return true;
    }
    if (standby.spec.standby->hot && standby.alive() && standby.serving_for.empty()) {
      activate_standby(c, standby, reason, /*hold_primary=*/false);
    }
    return false;
  }
  Component& primary = *other;
  if (c.serving_for != primary.spec.name) return false;
  // A hot standby that fails beside a live primary: the primary's writers serve again.
  if (c.spec.standby->hot && primary.alive()) c.serving_for.clear();
  const auto* rung = primary.ladder.current();
  const bool ladder_rung = !primary.alive() && rung != nullptr &&
                           rung->action == Action::standby && primary.replaced_by == c.spec.name;
  // Serving for a primary without a ladder: its own policy restarts it, still serving.
  if (!ladder_rung) return false;
  c.serving_for.clear();
  primary.replaced_by.clear();
  c.failback_timer.cancel();
  climb(primary, fmt::format("standby {} failed: {}", c.spec.name, reason));
  if (c.spec.standby->hot) return false;  // a hot standby always runs
  // The ladder has moved past this cold standby: it is not restarted behind it.
  c.wanted = false;
  transition(c, State::failed, EventKind::stopped,
             fmt::format("{}; not restarted: {}'s recovery ladder moved on", reason,
                         primary.spec.name));
  request_reconcile();
  return true;
}

void Supervisor::on_pair_ready(Component& c) {
  Component* other = partner(c);
  if (other == nullptr) return;
  if (c.spec.standby) return;  // a standby becoming ready changes nothing by itself
  Component& standby = *other;
  const bool was_replaced = !c.replaced_by.empty();
  c.replaced_by.clear();
  standby.failback_timer.cancel();
  if (standby.serving_for != c.spec.name && !was_replaced) return;
  const auto& pair = *standby.spec.standby;
  // A hot standby that outranks the returned primary goes on serving (failback stay/after).
  const bool still_outranks = pair.hot && standby.alive() &&
                              standby.ownership_strength > c.ownership_strength;
  if (!still_outranks) standby.serving_for.clear();
  if (!pair.hot) {
    standby.wanted = false;
    if (standby.alive()) {
      begin_stop(standby, StopPurpose::operator_stop,
                 fmt::format("{} is back: its cold standby stands down", c.spec.name));
    }
    return;
  }
  if (pair.failback == config::StandbySpec::Failback::after && standby.alive() &&
      standby.ownership_strength > c.ownership_strength) {
    // It came back below its standby; after the failback time the standby restarts below it.
    Component* cp = &c;
    Component* sp = &standby;
    c.failback_timer.arm_after(pair.failback_after, [this, cp, sp] {
      if (cp->state != State::running || !sp->alive()) return;
      sp->serving_for.clear();
      restart_components(
          {sp}, Duration{0},
          fmt::format("failback: {} has run {}; its standby restarts below it", cp->spec.name,
                      format_duration(sp->spec.standby->failback_after)));
    });
  }
}

// Pair members learn their role and DDS ownership strength from the environment.
const config::ComponentSpec& Supervisor::launch_spec(Component& c) {
  Component* other = partner(c);
  if (other == nullptr) return c.spec;
  const bool is_standby = c.spec.standby.has_value();
  const auto& pair = is_standby ? *c.spec.standby : *other->spec.standby;
  int strength = is_standby ? kStandbyStrength : kPrimaryStrength;
  if (other->alive()) {
    if (is_standby) {
      strength = std::min(strength, other->ownership_strength - 1);
    } else if (pair.failback == config::StandbySpec::Failback::immediate) {
      strength = std::max(strength, other->ownership_strength + 1);
    } else {
      strength = other->ownership_strength - 1;
    }
  }
  c.ownership_strength = strength;
  c.launch_spec = c.spec;
  c.launch_spec.env["VIGIL_OWNERSHIP_STRENGTH"] = std::to_string(strength);
  c.launch_spec.env["VIGIL_STANDBY_ROLE"] = is_standby ? "standby" : "primary";
  c.launch_spec.env["VIGIL_STANDBY_PARTNER"] = other->spec.name;
  return c.launch_spec;
}

}  // namespace vigil::supervisor
