// Any mode file a component may read (vigild's back channel, libvigil's parser): the parser
// must answer with a mode or a reason, never crash or hang; what it accepts must survive a
// round trip through format_mode_file.
#include <cstdint>
#include <string_view>

#include "vigil/mode_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::file;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParsedModeFile parsed = parse_mode_file(text);
  if (!parsed.ok) {
    if (parsed.error.empty()) __builtin_trap();  // rejected without a reason
    return 0;
  }
  if (parsed.mode.name.empty()) __builtin_trap();
  const ParsedModeFile again = parse_mode_file(format_mode_file(parsed.seq, parsed.mode));
  if (!again.ok || again.seq != parsed.seq || !again.mode.same_as(parsed.mode) ||
      again.mode.stamp != parsed.mode.stamp) {
    __builtin_trap();
  }
  // The typed accessors on whatever values were accepted.
  for (const auto& entry : parsed.mode.values) {
    (void)parsed.mode.value<double>(entry.first);
    (void)parsed.mode.value<std::int8_t>(entry.first);
    (void)parsed.mode.value<std::uint64_t>(entry.first);
    (void)parsed.mode.value<bool>(entry.first);
  }
  return 0;
}
