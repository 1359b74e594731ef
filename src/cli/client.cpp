#include "cli/client.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace vigil::cli {

Result<UniqueFd> connect_control_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return make_error(fmt::format("socket path too long: {}", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return make_error(fmt::format("socket: {}", std::strerror(errno)));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error(fmt::format("{}: {}", path, std::strerror(errno)));
  }
  return fd;
}

Result<ControlClient> ControlClient::connect(const std::string& path) {
  auto fd = connect_control_socket(path);
  if (!fd) {
    return make_error(fmt::format("cannot reach vigild at {} (is vigild running?)", fd.error()));
  }
  return ControlClient(std::move(*fd));
}

Result<void> ControlClient::send(const nlohmann::json& request) {
  const std::string line = request.dump() + "\n";
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_.get(), line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(fmt::format("write to vigild: {}", std::strerror(errno)));
    off += static_cast<std::size_t>(n);
  }
  return {};
}

Result<nlohmann::json> ControlClient::receive() {
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded()) return make_error("vigild sent a reply that is not JSON");
      return j;
    }
    char chunk[65536];
    const ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(fmt::format("read from vigild: {}", std::strerror(errno)));
    if (n == 0) return make_error("vigild closed the connection");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace vigil::cli
