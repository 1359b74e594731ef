#pragma once
// vigild's NOTIFY_SOCKET: a Unix datagram socket with SO_PASSCRED, so each datagram carries
// the sender's pid as checked by the kernel (SCM_CREDENTIALS), never as claimed by the sender.
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <sys/types.h>

#include <array>
#include <functional>
#include <string>

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
  void drain();

  asio::posix::stream_descriptor socket_;
  std::string path_;
  Handler handler_;
  std::array<char, kMaxNotifyDatagram + 1> buffer_{};
  std::uint64_t received_ = 0;
  std::uint64_t without_credentials_ = 0;
};

}  // namespace vigil::watchdog
