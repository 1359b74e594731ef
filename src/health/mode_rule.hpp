#pragma once
// The rule of a system mode (`modes: {degraded: {when: "lidar != ok and camera == ok"}}`): a
// small boolean language over the health of components and groups. Parsing checks every name
// and value against the config, so a typo fails at load time with an offset and a suggestion,
// never silently at run time.
//
// Grammar (tokens are separated by optional spaces, tabs or newlines; the text is ASCII):
//
//   rule       = or_expr END
//   or_expr    = and_expr { "or" and_expr }
//   and_expr   = not_expr { "and" not_expr }
//   not_expr   = "not" not_expr | primary
//   primary    = "(" or_expr ")" | "true" | "false" | comparison
//   comparison = NAME "==" VALUE
//              | NAME "!=" VALUE
//              | NAME "in" list
//              | NAME "not" "in" list
//   list       = "(" VALUE { "," VALUE } ")"
//   NAME       = 1*( letter | digit | "_" | "-" | "." ), not a keyword, and a component or
//                group of the config
//   VALUE      = STATE | LEVEL
//   STATE      = "stopped" | "starting" | "running" | "stopping" | "backoff" | "failed"
//              | "given_up"
//   LEVEL      = "ok" | "warn" | "error" | "stale"
//   keywords   = "and" "or" "not" "in" "true" "false"
//
// So `not` binds tighter than `and`, which binds tighter than `or`. Everything is lowercase and
// has one spelling: `&&`, `||`, `!`, `=`, `AND`, `OK` are errors that say what to write instead.
// A list holds only states or only levels (mixing them has no single clear meaning for groups).
// Limits: at most 4096 characters and 64 nested levels of "(" and "not".
//
// Meaning. A NAME stands for the components it names: one component, or every component of a
// group (recursively through sub-groups).
//   - Level values compare the worst diagnostic level of those components: for a component its
//     own level, for a group the worst level of its members (ok < warn < error < stale).
//   - State values compare states: `C == s` holds when every one of those components is in state
//     s (for a component: it is in s; for a group: all its members are in s). `C != s` is its
//     negation (for a group: at least one member is not in s).
//   - `C in (v1, ..., vn)`: for levels, the worst level is one of the values; for states, every
//     component is in one of the states (for a group the members may be in different listed
//     states). `C not in (...)` is its negation.
//   - If the lookup returns no component (an empty group, or a name that vanished since the
//     rule was parsed), the level is stale and no state comparison holds: `g == running` is
//     false and `g != running` is true, so a rule never turns true because nothing is known.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "health/state.hpp"

namespace vigil::health {

enum class NodeKind { component, group };

// Every component and group name of the config, with its kind.
using KnownNodes = std::map<std::string, NodeKind, std::less<>>;

struct ComponentHealth {
  std::string name;
  State state = State::stopped;
  Level level = Level::ok;
};

// Returns the components a name stands for, now: a one-element vector for a component, every
// component of a group (recursively) for a group. Called during holds()/explain() only.
using HealthLookup = std::function<std::vector<ComponentHealth>(std::string_view name)>;

struct RuleError {
  std::size_t offset = 0;  // 0-based byte offset in the rule text where the problem starts
  std::string message;     // e.g. "unknown component or group 'lidr' (did you mean 'lidar'?)"
};

class ModeRule {
 public:
  static constexpr std::size_t kMaxLength = 4096;
  static constexpr std::size_t kMaxDepth = 64;

  static std::variant<ModeRule, RuleError> parse(std::string_view text, const KnownNodes& known);

  bool holds(const HealthLookup& lookup) const;

  // Every comparison with its value now, for the mode-change event, in text order:
  // [{"atom": "lidar != ok", "value": true, "health": "lidar: running/WARN"}, ...]. A group's
  // health lists its members: "sensors: WARN (lidar: running/WARN, camera: running/OK)".
  // `true`/`false` atoms are left out: they explain nothing.
  nlohmann::json explain(const HealthLookup& lookup) const;

  // Every name the rule reads, once each, in order of first appearance.
  std::vector<std::string> names() const;

  const std::string& text() const;

  struct Program;  // the parsed tree; defined in mode_rule.cpp

 private:
  explicit ModeRule(std::shared_ptr<const Program> program);
  std::shared_ptr<const Program> program_;  // immutable after parse, so copies share it
};

}  // namespace vigil::health
