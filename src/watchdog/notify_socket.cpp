#include "watchdog/notify_socket.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "common/unique_fd.hpp"

namespace vigil::watchdog {

Result<std::unique_ptr<NotifySocket>> NotifySocket::bind(asio::io_context& io,
                                                         const std::string& path,
                                                         Handler handler) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return make_error(fmt::format("notify socket path '{}' is longer than {} bytes", path,
                                  sizeof addr.sun_path - 1));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return make_error(fmt::format("notify socket: {}", std::strerror(errno)));
  const int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    return make_error(fmt::format("notify socket SO_PASSCRED: {}", std::strerror(errno)));
  }
  // Plenty of room for bursts from many components heartbeating at once.
  const int rcvbuf = 4 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error(fmt::format("bind notify socket {}: {}", path, std::strerror(errno)));
  }
  ::chmod(path.c_str(), 0666);
  return std::unique_ptr<NotifySocket>(new NotifySocket(io, fd.release(), path, std::move(handler)));
}

NotifySocket::NotifySocket(asio::io_context& io, int fd, std::string path, Handler handler)
    : socket_(io, fd), path_(std::move(path)), handler_(std::move(handler)) {
  wait();
}

NotifySocket::~NotifySocket() { ::unlink(path_.c_str()); }

void NotifySocket::wait() {
  socket_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& ec) {
    if (ec) return;
    drain();
    wait();
  });
}

// Reads every queued datagram per wake-up: one epoll round trip serves a whole burst.
void NotifySocket::drain() {
  for (int i = 0; i < 4096; ++i) {
    iovec iov{buffer_.data(), kMaxNotifyDatagram};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * 16)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return;  // EAGAIN: drained
    ++received_;
    pid_t sender = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
          c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        sender = cred.pid;
      } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        // File descriptors (FDSTORE) are not supported: close them rather than leak them.
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t k = 0; k < count; ++k) {
          int fd = -1;
          std::memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof fd);
          if (fd >= 0) ::close(fd);
        }
      }
    }
    if (sender <= 0) {
      ++without_credentials_;
      continue;
    }
    handler_(sender, parse_notify_message(std::string_view(buffer_.data(), static_cast<std::size_t>(n))));
  }
}

}  // namespace vigil::watchdog
