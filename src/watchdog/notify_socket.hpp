#pragma once
// vigild's NOTIFY_SOCKET: a Unix datagram socket with SO_PASSCRED, so each datagram carries
// the sender's pid as checked by the kernel (SCM_CREDENTIALS), never as claimed by the sender.
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "watchdog/notify_message.hpp"

namespace vigil::watchdog {

class NotifySocket {
 public:
  // `arrival`: when the kernel queued the datagram (SO_TIMESTAMPNS), on the monotonic clock.
  using Handler = std::function<void(pid_t sender, const NotifyMessage& message,
                                     std::chrono::steady_clock::time_point arrival)>;

  // Binds `path` (replacing a stale socket file) with mode 0666 — components may run as other
  // users; trust comes from the kernel-checked sender pid, not from who can write.
  static Result<std::unique_ptr<NotifySocket>> bind(asio::io_context& io, const std::string& path,
                                                    Handler handler);
  ~NotifySocket();

  // Reads and delivers everything queued now; returns how many datagrams.
  std::size_t drain();

  const std::string& path() const { return path_; }
  std::uint64_t received() const { return received_; }

 private:
  NotifySocket(asio::io_context& io, int fd, std::string path, Handler handler);
  void wait();
  void on_readable();

  asio::io_context& io_;
  UniqueFd fd_;
  std::optional<asio::posix::stream_descriptor> watcher_;  // only while waiting for data
  // While datagrams keep arriving, the socket is read every kCoalesce on a timer instead of on
  // every arrival: a thousand components at 10 Hz then cost ~100 wake-ups a second instead of
  // thousands. Heartbeats carry their kernel arrival time and the supervisor drains the socket
  // before declaring a hang, so the delay never changes when a hang is detected; a READY=1
  // under sustained load is seen at most kCoalesce late.
  static constexpr std::chrono::milliseconds kCoalesce{10};
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
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::uint64_t received_ = 0;
};

}  // namespace vigil::watchdog
