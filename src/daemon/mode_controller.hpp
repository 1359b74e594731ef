#pragma once
// System modes on the event loop: re-evaluates the mode rules whenever a component's state or
// level changes (and when a dwell, enter_after or exit_after runs out), asks the ModeManager
// which mode applies, and carries a change out: the mode_changed event with the rule and the
// health that caused it, the components the mode holds stopped or started, its hook, and the
// mode's values to components (DDS rt/vigil/mode and the mode file).
//
// The mode file (`state_dir/mode`, given to components as VIGIL_MODE_FILE) is the back channel
// for components without DDS: replaced atomically (rename) on every change; `key=value` lines (seq,
// mode, reason, since_us, value.KEY), `\\` and `\n` escaped. libvigil's file listener reads it.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/scheduler.hpp"
#include "config/spec.hpp"
#include "health/event.hpp"
#include "health/mode_manager.hpp"
#include "health/mode_rule.hpp"

namespace vigil::supervisor {
class Supervisor;
}

namespace vigil::daemon {

struct ModeAnnouncement {
  std::string mode;
  std::string reason;
  std::map<std::string, std::string> values;
  std::int64_t since_wall_us = 0;
  std::uint64_t seq = 0;
};

class ModeController {
 public:
  struct Outputs {
    std::function<void(health::Event)> emit;
    std::function<void(const ModeAnnouncement&)> announce;  // DDS and the like; may be empty
    std::function<void(const std::string& mode, const std::vector<std::string>& argv,
                       const std::string& reason)>
        run_hook;
  };
  ModeController(Scheduler& scheduler, supervisor::Supervisor& supervisor,
                 const config::SystemSpec& spec, std::string mode_file, Outputs outputs);

  // Announces the default mode (or "nominal" when no modes are configured). Rules are first
  // evaluated once the robot has started: no component still in its first start (a starting
  // sensor is not "ok", and the robot must not begin in safe_stop), or after `settle_limit`.
  void start(Duration settle_limit);
  // vigild is stopping everything: the modes stay as they are.
  void stop();
  // A component's state or level changed: evaluate after the current batch (coalesced).
  void on_health_changed();
  // A recovery ladder (supervisor) forces `mode` as if its rule held, until it lets go; `by`
  // is the component whose ladder it is. Forcing counts as the robot having started.
  void force(const std::string& mode, const std::string& by, bool on);
  // A reload: new rules and modes; the current mode is kept if it still exists.
  void reconfigure(const config::SystemSpec& spec);

  // {name, since_us, reason, values, modes: [...]} for status and the API.
  nlohmann::json status() const;
  const ModeAnnouncement& current() const { return announcement_; }

 private:
  void evaluate();
  void enter(const health::ModeManager::Switch& s, const health::HealthLookup& lookup);
  void hold_components(const config::ModeSpec& from, const config::ModeSpec& to);
  void announce(std::string reason);
  void write_mode_file() const;
  health::HealthLookup lookup_from_status(const nlohmann::json& tree) const;
  static bool anything_starting(const nlohmann::json& node);

  Scheduler& scheduler_;
  supervisor::Supervisor& supervisor_;
  std::string mode_file_;
  Outputs out_;
  std::vector<config::ModeSpec> modes_;
  std::vector<std::optional<health::ModeRule>> rules_;  // per mode; none for the default
  std::unique_ptr<health::ModeManager> manager_;
  ModeAnnouncement announcement_;
  Timer recheck_;
  Timer settle_timer_;
  std::map<std::string, std::set<std::string>> forced_;  // mode -> components forcing it
  bool evaluation_posted_ = false;
  bool settled_ = false;
  bool stopped_ = false;
};

}  // namespace vigil::daemon
