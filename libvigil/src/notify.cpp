#include "vigil/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "vigil/watched_loop.hpp"

namespace vigil {
namespace {

template <typename T>
std::optional<T> parse_unsigned(std::string_view s) {
  T value{};
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

Status notify(std::string_view message) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || *env == '\0') return {};
  const std::string_view target(env);

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // An abstract name ("@name") is sent with a leading NUL and no terminator.
  if ((target[0] != '/' && target[0] != '@') || target.size() < 2 ||
      target.size() >= sizeof(address.sun_path))
    return Status::from_errno(EINVAL);
  target.copy(address.sun_path, target.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.size());
  if (target[0] == '@') {
    address.sun_path[0] = '\0';
  } else {
    ++length;  // include the path's terminator
  }

  Socket socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) return Status::from_errno(errno);
  ssize_t sent;
  do {
    sent = ::sendto(socket.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                    reinterpret_cast<const sockaddr*>(&address), length);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return Status::from_errno(errno);
  return {};
}

Status notify_ready() {
  return notify("READY=1");
}
Status notify_stopping() {
  return notify("STOPPING=1");
}
Status notify_watchdog() {
  return notify("WATCHDOG=1");
}

Status notify_status(std::string_view text) {
  std::string message = "STATUS=";
  message.reserve(message.size() + text.size());
  for (char c : text) message += (c == '\n' || c == '\r') ? ' ' : c;
  return notify(message);
}

Status extend_timeout(std::chrono::microseconds extra) {
  const auto usec = extra.count() < 0 ? 0 : extra.count();
  return notify("EXTEND_TIMEOUT_USEC=" + std::to_string(usec));
}

bool is_valid_loop_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  const char* usec_env = std::getenv("WATCHDOG_USEC");
  if (usec_env == nullptr) return std::nullopt;
  const auto usec = parse_unsigned<std::uint64_t>(usec_env);
  // Bounded like vigild's parser: an absurd value would overflow time arithmetic.
  if (!usec || *usec == 0 || *usec > 1'000'000'000'000ull) return std::nullopt;
  if (const char* pid_env = std::getenv("WATCHDOG_PID"); pid_env != nullptr && *pid_env) {
    const auto pid = parse_unsigned<std::uint64_t>(pid_env);
    if (!pid || *pid != static_cast<std::uint64_t>(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::int64_t>(*usec));
}

// ---- WatchedLoop -------------------------------------------------------------------------

WatchedLoop::WatchedLoop(std::string name, std::chrono::microseconds deadline)
    : name_(std::move(name)), deadline_(deadline) {
  if (!is_valid_loop_name(name_) || deadline_.count() <= 0) {
    declared_ = Status::from_errno(EINVAL);
    return;
  }
  active_ = true;
  declared_ =
      notify("VIGIL_LOOP=" + name_ + "\nVIGIL_LOOP_USEC=" + std::to_string(deadline_.count()));
}

WatchedLoop::WatchedLoop(WatchedLoop&& other) noexcept
    : name_(std::move(other.name_)),
      deadline_(other.deadline_),
      declared_(other.declared_),
      active_(other.active_) {
  other.active_ = false;
}

WatchedLoop& WatchedLoop::operator=(WatchedLoop&& other) noexcept {
  if (this != &other) {
    (void)retire();
    name_ = std::move(other.name_);
    deadline_ = other.deadline_;
    declared_ = other.declared_;
    active_ = other.active_;
    other.active_ = false;
  }
  return *this;
}

WatchedLoop::~WatchedLoop() {
  (void)retire();
}

Status WatchedLoop::beat() const {
  if (!active_) return Status::from_errno(EINVAL);
  return notify("WATCHDOG=1\nVIGIL_LOOP=" + name_);
}

Status WatchedLoop::retire() {
  if (!active_) return Status::from_errno(EINVAL);
  active_ = false;
  return notify("VIGIL_LOOP=" + name_ + "\nVIGIL_LOOP_USEC=0");
}

}  // namespace vigil
