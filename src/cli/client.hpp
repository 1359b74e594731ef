#pragma once
// A blocking client for the control socket: the CLI sends one request and reads replies.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace vigil::cli {

// A connected stream socket to vigild's control socket at `path`.
Result<UniqueFd> connect_control_socket(const std::string& path);

class ControlClient {
 public:
  static Result<ControlClient> connect(const std::string& socket_path);
  Result<void> send(const nlohmann::json& request);
  // The next reply line; an error when the daemon hung up or sent garbage.
  Result<nlohmann::json> receive();

 private:
  explicit ControlClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace vigil::cli
