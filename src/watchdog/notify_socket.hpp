#pragma once
// vigild's NOTIFY_SOCKET: a Unix datagram socket with SO_PASSCRED, so each datagram carries
// the sender's pid as checked by the kernel (SCM_CREDENTIALS), never as claimed by the sender.
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "watchdog/notify_message.hpp"

namespace vigil::watchdog {

class NotifySocket {
 public:
  using Handler = std::function<void(pid_t sender, const NotifyMessage& message)>;

  // Binds `path` (replacing a stale socket file) with mode 0666 — components may run as other
  // users; trust comes from the kernel-checked sender pid, not from who can write.
  static Result<std::unique_ptr<NotifySocket>> bind(asio::io_context& io, const std::string& path,
                                                    Handler handler);
  ~NotifySocket();

  const std::string& path() const { return path_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t without_credentials() const { return without_credentials_; }

 private:
  NotifySocket(asio::io_context& io, int fd, std::string path, Handler handler);
  void wait();
  void on_readable();
  std::size_t drain();

  asio::posix::stream_descriptor socket_;
  // While datagrams keep arriving, the socket is read every kCoalesce on a timer instead of on
  // every arrival: a thousand components at 10 Hz then cost ~250 wake-ups a second instead of
  // thousands, and a heartbeat is seen at most kCoalesce late.
  static constexpr std::chrono::milliseconds kCoalesce{4};
  asio::steady_timer coalesce_;
  std::string path_;
  Handler handler_;
  // One recvmmsg() takes up to kBatch datagrams: under 10,000 heartbeats/s the syscall, not the
  // parsing, is the cost, so it is paid once per batch.
  static constexpr std::size_t kBatch = 64;
  struct Slot {
    std::array<char, kMaxNotifyDatagram> data;
    alignas(cmsghdr) std::array<char, 256> control;
  };
  std::vector<Slot> slots_{kBatch};
  std::uint64_t received_ = 0;
  std::uint64_t without_credentials_ = 0;
};

}  // namespace vigil::watchdog
