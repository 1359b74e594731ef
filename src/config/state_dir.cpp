#include "config/state_dir.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace vigil::config {

std::string state_dir_tag(const std::string& state_dir) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : state_dir) hash = (hash ^ c) * 16777619u;
  return fmt::format("{:08x}", hash);
}

std::string fallback_state_dir(const std::string& state_dir) {
  return "/run/vigil/state-" + state_dir_tag(state_dir);
}

std::string state_dir_unwritable(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
  // access(W_OK) answers EROFS on a read-only file system even for root.
  if (::access(dir.c_str(), W_OK) != 0) return fmt::format("{}: {}", dir, std::strerror(errno));
  return {};
}

}  // namespace vigil::config
