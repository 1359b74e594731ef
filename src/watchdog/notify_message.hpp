#pragma once
// The sd_notify(3) datagram: newline-separated KEY=VALUE assignments. Parsing is pure and
// total: any byte string yields a message (unknown keys and malformed lines are ignored and
// counted), so a hostile sender cannot crash vigild.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::watchdog {

struct NotifyMessage {
  bool ready = false;                          // READY=1
  bool stopping = false;                       // STOPPING=1
  bool reloading = false;                      // RELOADING=1
  bool watchdog_ping = false;                  // WATCHDOG=1
  bool watchdog_trigger = false;               // WATCHDOG=trigger: the program reports itself hung
  std::optional<std::string> status;           // STATUS=...
  std::optional<int> error_number;             // ERRNO=...
  std::optional<std::uint64_t> watchdog_usec;  // WATCHDOG_USEC=...: new timeout
  std::optional<std::uint64_t> extend_timeout_usec;  // EXTEND_TIMEOUT_USEC=...
  std::optional<std::uint32_t> main_pid;             // MAINPID=...
  // vigil's extension for progress-based liveness (watched loops): VIGIL_LOOP=NAME with
  // WATCHDOG=1 (or alone) is one beat of loop NAME; with VIGIL_LOOP_USEC=N it declares the
  // loop with a deadline of N microseconds (0 retires it). See docs/PROTOCOL.md.
  std::optional<std::string> loop;
  std::optional<std::uint64_t> loop_usec;
  int ignored_lines = 0;  // unknown keys and malformed values
};

// Datagrams larger than this are truncated by the socket; systemd uses the same bound.
inline constexpr std::size_t kMaxNotifyDatagram = 4096;

NotifyMessage parse_notify_message(std::string_view datagram);

}  // namespace vigil::watchdog
