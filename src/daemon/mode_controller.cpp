#include "daemon/mode_controller.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "common/units.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::daemon {
namespace {

health::Level level_from(std::string_view s) {
  for (auto l : {health::Level::ok, health::Level::warn, health::Level::error}) {
    if (health::to_string(l) == s) return l;
  }
  return health::Level::stale;
}

health::KnownNodes known_nodes(const config::GroupSpec& group, health::KnownNodes out = {}) {
  for (const auto& child : group.children) {
    if (const auto* c = std::get_if<config::ComponentSpec>(&child.node)) {
      out.emplace(c->name, health::NodeKind::component);
    } else {
      const auto& g = std::get<config::GroupSpec>(child.node);
      out.emplace(g.name, health::NodeKind::group);
      out = known_nodes(g, std::move(out));
    }
  }
  return out;
}

// `\` and newlines escaped, so that every entry is one line.
std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const auto& x : a) {
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  }
  return out;
}

}  // namespace

ModeController::ModeController(Scheduler& scheduler, supervisor::Supervisor& supervisor,
                               const config::SystemSpec& spec, std::string mode_file,
                               Outputs outputs)
    : scheduler_(scheduler),
      supervisor_(supervisor),
      mode_file_(std::move(mode_file)),
      out_(std::move(outputs)),
      recheck_(scheduler),
      settle_timer_(scheduler) {
  reconfigure(spec);
}

void ModeController::reconfigure(const config::SystemSpec& spec) {
  const std::string current = manager_ ? manager_->mode(manager_->current()).name : "";
  const TimePoint entered = manager_ ? manager_->since() : scheduler_.now();
  modes_ = spec.modes;
  rules_.clear();
  const auto known = known_nodes(spec.root);
  for (const auto& m : modes_) {
    if (m.when.empty()) {
      rules_.emplace_back();
      continue;
    }
    auto parsed = health::ModeRule::parse(m.when, known);
    if (auto* rule = std::get_if<health::ModeRule>(&parsed)) {
      rules_.emplace_back(std::move(*rule));
    } else {
      // The loader checked every rule against the same tree: this cannot happen.
      spdlog::error("mode {}: {}", m.name, std::get<health::RuleError>(parsed).message);
      rules_.emplace_back();
    }
  }
  // A reload keeps the robot in its mode (if the new config still has it): it is left as
  // usual, once its rule has been false for exit_after and its dwell has passed.
  std::size_t initial = 0;
  for (std::size_t i = 0; i < modes_.size(); ++i) {
    if (modes_[i].name == current) initial = i;
  }
  manager_ = modes_.empty() ? nullptr
                            : std::make_unique<health::ModeManager>(modes_, scheduler_.now(),
                                                                    initial, entered);
  if (announcement_.seq > 0) {
    // Components hear of a mode that is gone, or of new values for the one they are in.
    const std::string now_in = manager_ ? modes_[manager_->current()].name : "nominal";
    const auto values =
        manager_ ? modes_[manager_->current()].publish : std::map<std::string, std::string>{};
    if (now_in != announcement_.mode || values != announcement_.values) {
      announce(now_in == announcement_.mode
                   ? "config reloaded: new values for mode " + now_in
                   : "config reloaded: mode " + announcement_.mode + " no longer exists");
    }
  }
  if (manager_ && !current.empty()) on_health_changed();
}

void ModeController::start(Duration settle_limit) {
  announce(modes_.empty() ? "no modes configured" : "the default mode, at start");
  settle_timer_.arm_after(settle_limit, [this, settle_limit] {
    if (settled_) return;
    settled_ = true;
    spdlog::info("mode: components still starting after {}: rules are evaluated from now",
                 format_duration(settle_limit));
    evaluate();
  });
  evaluate();
}

void ModeController::stop() {
  stopped_ = true;
  recheck_.cancel();
  settle_timer_.cancel();
}

void ModeController::force(const std::string& mode, const std::string& by, bool on) {
  auto& who = forced_[mode];
  const bool changed = on ? who.insert(by).second : who.erase(by) > 0;
  if (who.empty()) forced_.erase(mode);
  if (!changed) return;
  spdlog::info("mode: {} {} mode {}", by, on ? "forces" : "no longer forces", mode);
  settled_ = true;
  settle_timer_.cancel();
  on_health_changed();
}

void ModeController::on_health_changed() {
  if (!manager_ || evaluation_posted_) return;
  evaluation_posted_ = true;
  scheduler_.post([this] {
    evaluation_posted_ = false;
    evaluate();
  });
}

bool ModeController::anything_starting(const nlohmann::json& node) {
  if (node.value("type", "") == "component") {
    return node.value("state", "") == "starting" ||
           (node.value("state", "") == "stopped" && node.value("wanted", false));
  }
  for (const auto& child : node.value("children", nlohmann::json::array())) {
    if (anything_starting(child)) return true;
  }
  return false;
}

health::HealthLookup ModeController::lookup_from_status(const nlohmann::json& tree) const {
  // name -> the health of each component it stands for (itself, or a group's members).
  auto table =
      std::make_shared<std::map<std::string, std::vector<health::ComponentHealth>, std::less<>>>();
  std::function<void(const nlohmann::json&, std::vector<std::string>&)> walk =
      [&](const nlohmann::json& node, std::vector<std::string>& groups) {
        if (node.value("type", "") == "component") {
          health::ComponentHealth h;
          h.name = node.value("name", "");
          h.state =
              health::state_from_string(node.value("state", "")).value_or(health::State::stopped);
          h.level = level_from(node.value("level", ""));
          (*table)[h.name].push_back(h);
          for (const auto& g : groups) (*table)[g].push_back(h);
          return;
        }
        groups.push_back(node.value("name", ""));
        for (const auto& child : node.value("children", nlohmann::json::array())) {
          walk(child, groups);
        }
        groups.pop_back();
      };
  std::vector<std::string> groups;
  walk(tree, groups);
  return [table](std::string_view name) {
    auto it = table->find(name);
    return it == table->end() ? std::vector<health::ComponentHealth>{} : it->second;
  };
}

void ModeController::evaluate() {
  if (!manager_ || stopped_) return;
  const nlohmann::json tree = supervisor_.status();
  if (!settled_) {
    if (anything_starting(tree)) return;
    settled_ = true;
    settle_timer_.cancel();
  }
  const auto lookup = lookup_from_status(tree);
  std::vector<bool> holds(modes_.size(), false);
  for (std::size_t i = 1; i < modes_.size(); ++i) {
    holds[i] = (rules_[i] && rules_[i]->holds(lookup)) || forced_.count(modes_[i].name) > 0;
  }
  const TimePoint now = scheduler_.now();
  if (auto s = manager_->evaluate(holds, now)) enter(*s, lookup);
  if (auto next = manager_->next_check(now)) {
    recheck_.arm_at(*next, [this] { evaluate(); });
  } else {
    recheck_.cancel();
  }
}

void ModeController::enter(const health::ModeManager::Switch& s,
                           const health::HealthLookup& lookup) {
  const auto& from = modes_[s.from];
  const auto& to = modes_[s.to];
  nlohmann::json detail = {
      {"from", from.name}, {"to", to.name}, {"more_severe", s.more_severe}, {"values", to.publish}};
  std::string why;
  auto forcing = [this](const config::ModeSpec& m) {
    std::string who;
    if (auto it = forced_.find(m.name); it != forced_.end()) {
      for (const auto& name : it->second) who += (who.empty() ? "" : ", ") + name;
    }
    return who;
  };
  const std::string forced_by = forcing(to);
  if (s.more_severe && !forced_by.empty() && !rules_[s.to]->holds(lookup)) {
    why = fmt::format("forced by the recovery ladder of {}", forced_by);
    detail["forced_by"] = forced_by;
    detail["atoms"] = nlohmann::json::array();
  } else if (s.more_severe) {
    why = fmt::format("{} holds", to.when);
    detail["rule"] = to.when;
    detail["atoms"] = rules_[s.to]->explain(lookup);
    if (!forced_by.empty()) detail["forced_by"] = forced_by;
  } else {
    why = fmt::format("{} no longer holds and no recovery ladder forces it", from.when);
    detail["rule"] = from.when;
    detail["atoms"] = rules_[s.from]->explain(lookup);
    if (rules_[s.to]) detail["holding"] = rules_[s.to]->explain(lookup);
  }
  // The health that decided, in words: "lidar: running/WARN, camera: running/OK".
  std::string health;
  for (const auto& atom : detail["atoms"]) {
    if (!health.empty()) health += ", ";
    health += atom.value("health", "");
  }
  const std::string reason =
      health.empty() ? fmt::format("{} -> {}: {}", from.name, to.name, why)
                     : fmt::format("{} -> {}: {} ({})", from.name, to.name, why, health);
  health::Event e;
  e.wall_us = scheduler_.wall_now_us();
  e.mono_us =
      std::chrono::duration_cast<std::chrono::microseconds>(scheduler_.now().time_since_epoch())
          .count();
  e.component = "system";
  e.kind = health::EventKind::mode_changed;
  e.state = to.name;
  e.reason = reason;
  e.detail = std::move(detail);
  out_.emit(std::move(e));
  spdlog::info("mode: {}", reason);
  announce(reason);
  hold_components(from, to);
  if (!to.hook.empty() && out_.run_hook) out_.run_hook(to.name, to.hook, reason);
}

// A mode holds its `stop` components stopped and its `start` ones started while it lasts.
void ModeController::hold_components(const config::ModeSpec& from, const config::ModeSpec& to) {
  const nlohmann::json origin = {{"via", "mode"}, {"mode", to.name}, {"from", from.name}};
  auto act = [&](const std::vector<std::string>& names, bool start) {
    for (const auto& name : names) {
      auto r = start ? supervisor_.start_node(name, origin) : supervisor_.stop_node(name, origin);
      if (!r)
        spdlog::warn("mode {}: {} {}: {}", to.name, start ? "start" : "stop", name, r.error());
    }
  };
  act(minus(from.stop, to.stop), true);  // released by the old mode
  act(minus(from.start, to.start), false);
  act(minus(to.stop, from.stop), false);  // held by the new one
  act(minus(to.start, from.start), true);
}

void ModeController::announce(std::string reason) {
  const auto& mode = manager_ ? modes_[manager_->current()] : config::ModeSpec{};
  announcement_.mode = manager_ ? mode.name : "nominal";
  announcement_.reason = std::move(reason);
  announcement_.values = manager_ ? mode.publish : std::map<std::string, std::string>{};
  announcement_.since_wall_us = scheduler_.wall_now_us();
  ++announcement_.seq;
  // DDS first: it is the fast path to components (the file costs a write and a rename).
  if (out_.announce) out_.announce(announcement_);
  write_mode_file();
}

// Replaced atomically (temp file, rename), so a reader never sees half a mode. Not fsynced: on
// this loop an fsync took up to 38 ms on a busy disk (bench/modes), and the file is only for
// running components; vigild writes it again when it starts.
void ModeController::write_mode_file() const {
  if (mode_file_.empty()) return;
  std::string text = fmt::format("seq={}\nmode={}\nreason={}\nsince_us={}\n", announcement_.seq,
                                 escape(announcement_.mode), escape(announcement_.reason),
                                 announcement_.since_wall_us);
  for (const auto& [k, v] : announcement_.values) {
    text += fmt::format("value.{}={}\n", escape(k), escape(v));
  }
  const std::string tmp = mode_file_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  if (ok) {
    ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::close(fd) == 0 && ok;
  }
  if (!ok || std::rename(tmp.c_str(), mode_file_.c_str()) != 0) {
    // Components without DDS then keep the previous mode; vigild keeps supervising.
    spdlog::error("mode: cannot write {}: {}", mode_file_, std::strerror(errno));
  }
}

nlohmann::json ModeController::status() const {
  nlohmann::json modes = nlohmann::json::array();
  for (const auto& m : modes_) modes.push_back(m.name);
  return {{"name", announcement_.mode},
          {"reason", announcement_.reason},
          {"since_us", announcement_.since_wall_us},
          {"values", announcement_.values},
          {"seq", announcement_.seq},
          {"modes", modes}};
}

}  // namespace vigil::daemon
