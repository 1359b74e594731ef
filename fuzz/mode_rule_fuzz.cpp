// Any `when:` rule of a mode: the parser must answer with a rule or an error inside the text,
// never crash, overflow the stack or hang; a parsed rule must evaluate on any health.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "health/mode_rule.hpp"

namespace {

using vigil::health::ComponentHealth;
using vigil::health::KnownNodes;
using vigil::health::Level;
using vigil::health::NodeKind;
using vigil::health::State;

const KnownNodes& known() {
  static const KnownNodes nodes{
      {"lidar", NodeKind::component}, {"camera", NodeKind::component},
      {"a", NodeKind::component},     {"imu.left-2", NodeKind::component},
      {"sensors", NodeKind::group},   {"spare", NodeKind::group},
  };
  return nodes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = vigil::health::ModeRule::parse(text, known());
  if (const auto* error = std::get_if<vigil::health::RuleError>(&parsed)) {
    if (error->message.empty() || error->offset > text.size()) __builtin_trap();
    return 0;
  }
  const auto& rule = std::get<vigil::health::ModeRule>(parsed);
  if (rule.text() != text) __builtin_trap();
  for (const auto& name : rule.names()) {
    if (known().count(name) == 0) __builtin_trap();
  }
  // Health derived from the input, so different inputs see different worlds.
  const auto lookup = [&](std::string_view name) {
    const std::size_t seed = size + name.size() + static_cast<std::size_t>(data[0]);
    auto one = [&](const char* member, std::size_t salt) {
      return ComponentHealth{member, static_cast<State>((seed + salt) % 7),
                             static_cast<Level>((seed / 7 + salt) % 4)};
    };
    if (name == "spare") return std::vector<ComponentHealth>{};
    if (name == "sensors") return std::vector<ComponentHealth>{one("lidar", 1), one("camera", 2)};
    return std::vector<ComponentHealth>{one(std::string(name).c_str(), 0)};
  };
  const bool holds = rule.holds(lookup);
  const auto explained = rule.explain(lookup);
  for (const auto& atom : explained) {
    if (text.find(atom.at("atom").get<std::string>()) == std::string_view::npos) __builtin_trap();
  }
  (void)holds;
  return 0;
}
