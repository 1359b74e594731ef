#pragma once
// The robot's system mode as vigild announces it, shared by both listeners: the DDS one
// (vigil::ModeListener in vigil::dds) and the mode file one (vigil::file::ModeListener).
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace vigil {

struct SystemMode {
  std::string name;
  std::string reason;
  std::map<std::string, std::string> values;
  std::chrono::system_clock::time_point stamp;  // when vigild set it (its wall clock)

  // The value named `key` converted to T: std::string, bool ("true"/"false"/"1"/"0"),
  // double, float, or an integer type. nullopt when absent or not a whole valid T (no
  // trailing garbage, no overflow). Numbers are parsed independently of the locale.
  template <typename T>
  std::optional<T> value(std::string_view key) const;

  // Same name, reason and values (the stamp is not compared).
  bool same_as(const SystemMode& other) const {
    return name == other.name && reason == other.reason && values == other.values;
  }
};

// ---- value<T> -------------------------------------------------------------------------

namespace detail {
bool parse_mode_value(std::string_view text, std::string& out);
bool parse_mode_value(std::string_view text, bool& out);
bool parse_mode_value(std::string_view text, double& out);
bool parse_mode_value(std::string_view text, float& out);
bool parse_mode_value(std::string_view text, long long& out);
bool parse_mode_value(std::string_view text, unsigned long long& out);
}  // namespace detail

template <typename T>
std::optional<T> SystemMode::value(std::string_view key) const {
  const auto it = values.find(std::string(key));
  if (it == values.end()) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                std::is_same_v<T, double> || std::is_same_v<T, float>) {
    T out{};
    if (!detail::parse_mode_value(it->second, out)) return std::nullopt;
    return out;
  } else {
    static_assert(std::is_integral_v<T>, "value<T>: T must be a string, bool, float or integer");
    using Wide = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
    Wide wide{};
    if (!detail::parse_mode_value(it->second, wide)) return std::nullopt;
    if (wide < static_cast<Wide>(std::numeric_limits<T>::min()) ||
        wide > static_cast<Wide>(std::numeric_limits<T>::max())) {
      return std::nullopt;
    }
    return static_cast<T>(wide);
  }
}

}  // namespace vigil
