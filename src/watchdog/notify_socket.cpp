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
                                                         const std::string& path, Handler handler) {
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
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0) {
    return make_error(fmt::format("notify socket SO_TIMESTAMPNS: {}", std::strerror(errno)));
  }
  // Plenty of room for bursts from many components heartbeating at once.
  const int rcvbuf = 4 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_error(fmt::format("bind notify socket {}: {}", path, std::strerror(errno)));
  }
  ::chmod(path.c_str(), 0666);
  return std::unique_ptr<NotifySocket>(
      new NotifySocket(io, fd.release(), path, std::move(handler)));
}

NotifySocket::NotifySocket(asio::io_context& io, int fd, std::string path, Handler handler)
    : io_(io), fd_(fd), coalesce_(io), path_(std::move(path)), handler_(std::move(handler)) {
  wait();
}

NotifySocket::~NotifySocket() {
  ::unlink(path_.c_str());
}

// Handlers hold a weak token: a completion already queued when the socket is destroyed (an
// expired timer cannot be cancelled any more) must not touch the destroyed object.
void NotifySocket::wait() {
  if (!watcher_) watcher_.emplace(io_, fd_.get());
  watcher_->async_wait(asio::posix::stream_descriptor::wait_read,
                       [this, alive = std::weak_ptr<int>(alive_)](const std::error_code& ec) {
                         if (!ec && !alive.expired()) on_readable();
                       });
}

// The first datagram after a quiet spell is handled at once (READY=1 is not delayed); while
// datagrams keep coming, the socket is read every kCoalesce instead of on every arrival.
void NotifySocket::on_readable() {
  if (drain() == 0) {
    wait();
    return;
  }
  // Off epoll while coalescing: a registered (edge-triggered) socket would still wake the loop
  // on every arrival, which is exactly what the timer is here to avoid.
  if (watcher_) {
    watcher_->release();
    watcher_.reset();
  }
  coalesce_.expires_after(kCoalesce);
  coalesce_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const std::error_code& ec) {
    if (!ec && !alive.expired()) on_readable();
  });
}

// Reads every queued datagram per wake-up, kBatch per system call.
std::size_t NotifySocket::drain() {
  std::size_t total = 0;
  // Arrival stamps are wall-clock; map them onto the monotonic clock through one pair of
  // readings per drain (a wall-clock step between arrival and now would skew by the step,
  // bounded below by "now" in the supervisor).
  const auto mono_now = std::chrono::steady_clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> iovs{};
  for (int round = 0; round < 64; ++round) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {slots_[i].data.data(), slots_[i].data.size()};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_iov = &iovs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_control = slots_[i].control.data();
      messages[i].msg_hdr.msg_controllen = slots_[i].control.size();
      messages[i].msg_len = 0;
    }
    const int n =
        ::recvmmsg(fd_.get(), messages.data(), kBatch, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, nullptr);
    if (n <= 0) return total;  // EAGAIN: drained
    total += static_cast<std::size_t>(n);
    for (int i = 0; i < n; ++i) {
      ++received_;
      msghdr& msg = messages[static_cast<std::size_t>(i)].msg_hdr;
      pid_t sender = 0;
      auto arrival = mono_now;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
            c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
          timespec ts{};
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          const auto wall = std::chrono::system_clock::time_point(
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
          const auto age = wall_now - wall;
          if (age > std::chrono::system_clock::duration::zero()) {
            arrival =
                mono_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
          }
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
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
      // SO_PASSCRED makes the kernel attach credentials to every datagram; one without them
      // cannot be attributed, so it is ignored.
      if (sender <= 0) continue;
      const auto length = messages[static_cast<std::size_t>(i)].msg_len;
      handler_(sender,
               parse_notify_message(
                   std::string_view(slots_[static_cast<std::size_t>(i)].data.data(), length)),
               arrival);
    }
    if (static_cast<std::size_t>(n) < kBatch) return total;
  }
  return total;
}

}  // namespace vigil::watchdog
