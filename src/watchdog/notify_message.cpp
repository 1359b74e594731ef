#include "watchdog/notify_message.hpp"

#include <charconv>
#include <limits>

namespace vigil::watchdog {
namespace {

template <typename T>
std::optional<T> parse_unsigned(std::string_view s) {
  T value{};
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

NotifyMessage parse_notify_message(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    const auto nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view{} : datagram.substr(nl + 1);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      ++m.ignored_lines;
      continue;
    }
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    bool understood = true;
    if (key == "READY") {
      understood = value == "1";
      m.ready = m.ready || understood;
    } else if (key == "STOPPING") {
      understood = value == "1";
      m.stopping = m.stopping || understood;
    } else if (key == "RELOADING") {
      understood = value == "1";
      m.reloading = m.reloading || understood;
    } else if (key == "WATCHDOG") {
      if (value == "1") {
        m.watchdog_ping = true;
      } else if (value == "trigger") {
        m.watchdog_trigger = true;
      } else {
        understood = false;
      }
    } else if (key == "STATUS") {
      // A status line is for humans; keep it printable and bounded.
      std::string status;
      for (char c : value.substr(0, 512)) {
        status += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
      }
      m.status = std::move(status);
    } else if (key == "ERRNO") {
      auto v = parse_unsigned<unsigned>(value);
      if (v && *v <= 4095)
        m.error_number = static_cast<int>(*v);
      else
        understood = false;
    } else if (key == "WATCHDOG_USEC") {
      auto v = parse_unsigned<std::uint64_t>(value);
      // 0 disables in systemd; an absurd value would overflow deadlines.
      if (v && *v <= 1'000'000'000'000ull)
        m.watchdog_usec = *v;
      else
        understood = false;
    } else if (key == "EXTEND_TIMEOUT_USEC") {
      auto v = parse_unsigned<std::uint64_t>(value);
      if (v && *v <= 1'000'000'000'000ull)
        m.extend_timeout_usec = *v;
      else
        understood = false;
    } else if (key == "VIGIL_LOOP") {
      // Names are checked by the receiver; here only bound them.
      if (!value.empty() && value.size() <= 64)
        m.loop = std::string(value);
      else
        understood = false;
    } else if (key == "VIGIL_LOOP_USEC") {
      auto v = parse_unsigned<std::uint64_t>(value);
      if (v && *v <= 1'000'000'000'000ull)
        m.loop_usec = *v;
      else
        understood = false;
    } else if (key == "MAINPID") {
      auto v = parse_unsigned<std::uint32_t>(value);
      if (v && *v > 0)
        m.main_pid = *v;
      else
        understood = false;
    } else {
      understood = false;
    }
    if (!understood) ++m.ignored_lines;
  }
  return m;
}

}  // namespace vigil::watchdog
