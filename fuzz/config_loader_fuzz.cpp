// Any config file: the loader must answer with a spec or errors, never crash or hang.
#include <cstdint>
#include <string>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto result =
      vigil::config::load_config_text(text, "/fuzz/robot.yaml", {.check_executables = false});
  if (!result.ok() && result.errors.empty()) __builtin_trap();  // rejected without a reason
  for (const auto& e : result.errors) {
    if (e.where.line < 1 || e.where.column < 1) __builtin_trap();
  }
  return 0;
}
