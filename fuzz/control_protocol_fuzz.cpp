// Any line a local client can write to the control socket.
#include <cstdint>
#include <string_view>

#include "api/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = vigil::api::parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok() && r.error().empty()) __builtin_trap();
  return 0;
}
