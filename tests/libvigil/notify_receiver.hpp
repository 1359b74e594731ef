#pragma once
// A notify socket owned by the test: a real Unix datagram socket, bound to a path (or an
// abstract name), set as NOTIFY_SOCKET while the object lives.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::test {

class NotifyReceiver {
 public:
  explicit NotifyReceiver(bool abstract = false) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    static int counter = 0;
    const std::string name =
        "libvigil-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socklen_t length;
    if (abstract) {
      address_ = "@" + name;
      name.copy(address.sun_path + 1, name.size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    } else {
      const char* tmp = std::getenv("TMPDIR");
      address_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + name + ".sock";
      ::unlink(address_.c_str());
      address_.copy(address.sun_path, address_.size());
      length = sizeof address;
    }
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0)
      throw std::runtime_error("bind " + address_);
    ::setenv("NOTIFY_SOCKET", address_.c_str(), 1);
  }
  ~NotifyReceiver() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    if (address_[0] == '/') ::unlink(address_.c_str());
  }
  NotifyReceiver(const NotifyReceiver&) = delete;
  NotifyReceiver& operator=(const NotifyReceiver&) = delete;

  const std::string& address() const { return address_; }

  // The next datagram, or nullopt if none arrives within `timeout`.
  std::optional<std::string> receive(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }
  // Every datagram already queued.
  std::vector<std::string> drain() {
    std::vector<std::string> all;
    while (auto d = receive(std::chrono::milliseconds(0))) all.push_back(*d);
    return all;
  }

 private:
  int fd_ = -1;
  std::string address_;
};

}  // namespace vigil::test
