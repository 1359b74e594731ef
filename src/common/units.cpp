#include "common/units.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <csignal>
#include <cstring>
#include <utility>

namespace vigil {
namespace {

// Splits "250ms" into 250 and "ms"; rejects empty numbers, signs and trailing junk.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  std::size_t i = 0;
  bool digits = false;
  bool dot = false;
  while (i < text.size()) {
    const char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return std::nullopt;
  double number = 0;
  const std::string copy(text.substr(0, i));
  try {
    std::size_t used = 0;
    number = std::stod(copy, &used);
    if (used != copy.size()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::pair{number, unit};
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  const auto [number, unit] = *parts;
  double ns_per_unit = 0;
  if (unit == "ns") {
    ns_per_unit = 1;
  } else if (unit == "us") {
    ns_per_unit = 1e3;
  } else if (unit == "ms") {
    ns_per_unit = 1e6;
  } else if (unit == "s") {
    ns_per_unit = 1e9;
  } else if (unit == "m" || unit == "min") {
    ns_per_unit = 60e9;
  } else if (unit == "h") {
    ns_per_unit = 3600e9;
  } else if (unit == "d") {
    ns_per_unit = 86400e9;
  } else if (unit.empty() && number == 0) {
    return Duration{0};
  } else {
    return std::nullopt;
  }
  const double ns = number * ns_per_unit;
  if (ns > 1e18) return std::nullopt;  // > 31 years: certainly a typo, and it would overflow
  return Duration{static_cast<std::int64_t>(ns)};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  const auto [number, unit] = *parts;
  static constexpr std::array<std::pair<std::string_view, double>, 10> kUnits{{
      {"", 1},
      {"B", 1},
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"TiB", 1024.0 * 1024 * 1024 * 1024},
      {"kB", 1e3},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
  }};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      const double bytes = number * factor;
      if (bytes > 1.8e19) return std::nullopt;
      return static_cast<std::uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

std::optional<int> parse_signal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc{} && ptr == text.data() + text.size()) {
    if (number > 0 && number < NSIG) return number;
    return std::nullopt;
  }
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("SIG", 0) == 0) upper.erase(0, 3);
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && upper == abbrev) return sig;
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return fmt::format("signal {}", sig);
  return fmt::format("SIG{}", abbrev);
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(d).count();
  if (ms < 0) return "-" + format_duration(-d);
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  const auto s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

}  // namespace vigil
