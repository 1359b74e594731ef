// Any datagram any local process can send to NOTIFY_SOCKET.
#include <cstdint>
#include <string_view>

#include "watchdog/notify_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto m = vigil::watchdog::parse_notify_message(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (m.status && m.status->size() > 512) __builtin_trap();
  return 0;
}
