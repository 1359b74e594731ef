#include "vigil/mode_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

namespace vigil::file {

// ---- the format -------------------------------------------------------------------------

std::string escape_mode_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_mode_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return std::nullopt;
    if (text[i] == '\\') {
      out += '\\';
    } else if (text[i] == 'n') {
      out += '\n';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::string format_mode_file(std::uint64_t seq, const SystemMode& mode) {
  const auto since_us =
      std::chrono::duration_cast<std::chrono::microseconds>(mode.stamp.time_since_epoch()).count();
  std::string text = "seq=" + std::to_string(seq) + "\nmode=" + mode.name +
                     "\nreason=" + escape_mode_text(mode.reason) +
                     "\nsince_us=" + std::to_string(since_us) + "\n";
  for (const auto& [key, value] : mode.values) {
    text += "value." + key + "=" + escape_mode_text(value) + "\n";
  }
  return text;
}

namespace {

// Rejects binary garbage early: overlong forms, surrogates and code points past U+10FFFF
// are invalid, as is any NUL byte.
bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra = 0;
    std::uint32_t code = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

ParsedModeFile parse_failure(std::string error) {
  ParsedModeFile result;
  result.error = std::move(error);
  return result;
}

}  // namespace

ParsedModeFile parse_mode_file(std::string_view text) {
  if (text.empty()) return parse_failure("empty file");
  if (!valid_utf8(text)) return parse_failure("not UTF-8 text (or contains a NUL byte)");
  // A torn write would most likely end mid-line: every line must be complete.
  if (text.back() != '\n') return parse_failure("last line does not end with a newline");

  ParsedModeFile result;
  bool have_seq = false, have_mode = false, have_reason = false, have_since = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    const auto where = "line " + std::to_string(line_number) + ": ";
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return parse_failure(where + "no '=' in the line");
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    const auto once = [&](bool& seen) {
      if (seen) return false;
      seen = true;
      return true;
    };
    if (key == "seq") {
      if (!once(have_seq)) return parse_failure(where + "seq repeated");
      unsigned long long seq = 0;
      if (value.empty() || value.front() == '+' || !detail::parse_mode_value(value, seq)) {
        return parse_failure(where + "seq is not an unsigned integer");
      }
      result.seq = seq;
    } else if (key == "mode") {
      if (!once(have_mode)) return parse_failure(where + "mode repeated");
      if (value.empty()) return parse_failure(where + "empty mode name");
      result.mode.name.assign(value);
    } else if (key == "reason") {
      if (!once(have_reason)) return parse_failure(where + "reason repeated");
      auto reason = unescape_mode_text(value);
      if (!reason) return parse_failure(where + "invalid escape in reason (only \\\\ and \\n)");
      result.mode.reason = std::move(*reason);
    } else if (key == "since_us") {
      if (!once(have_since)) return parse_failure(where + "since_us repeated");
      long long since_us = 0;
      if (value.empty() || value.front() == '+' || !detail::parse_mode_value(value, since_us)) {
        return parse_failure(where + "since_us is not an integer");
      }
      // Clamp into what system_clock can hold instead of overflowing (UB) on absurd stamps.
      using Rep = std::chrono::system_clock::duration::rep;
      constexpr auto per_us = std::chrono::system_clock::duration::period::den / 1'000'000;
      constexpr long long limit =
          static_cast<long long>(std::numeric_limits<Rep>::max() / (per_us > 0 ? per_us : 1));
      if (since_us > limit || since_us < -limit) {
        return parse_failure(where + "since_us out of range");
      }
      result.mode.stamp = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::microseconds(since_us)));
    } else if (key.substr(0, 6) == "value.") {
      const std::string_view name = key.substr(6);
      if (name.empty()) return parse_failure(where + "empty value name");
      auto unescaped = unescape_mode_text(value);
      if (!unescaped) {
        return parse_failure(where + "invalid escape in value." + std::string(name) +
                             " (only \\\\ and \\n)");
      }
      if (!result.mode.values.emplace(name, std::move(*unescaped)).second) {
        return parse_failure(where + "value." + std::string(name) + " repeated");
      }
    }
    // Any other key: written by a newer vigild, ignored.
  }
  if (!have_seq) return parse_failure("missing seq");
  if (!have_mode) return parse_failure("missing mode");
  if (!have_reason) return parse_failure("missing reason");
  if (!have_since) return parse_failure("missing since_us");
  result.ok = true;
  return result;
}

// ---- the listener -----------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxFileSize = 1 << 20;
// How often the thread retries watching a directory that does not exist yet.
constexpr int kDirectoryRetryMs = 200;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Reads the whole file: 0 and `out`, or an errno (ENOENT, EFBIG, ...).
int read_whole_file(const std::string& path, std::string& out) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  out.clear();
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > kMaxFileSize) return EFBIG;
  }
}

}  // namespace

struct ModeListener::State {
  std::string path;
  std::string directory;
  std::string file_name;
  std::function<void(const SystemMode&)> on_change;

  Status status = Status::from_errno(EINVAL);
  Fd inotify;
  Fd wake_read;
  Fd wake_write;
  int watch = -1;  // inotify watch descriptor of `directory`, -1 while it does not exist
  std::thread thread;

  mutable std::mutex mutex;  // everything below
  mutable std::condition_variable changed;
  std::string detail = "not started";
  Status last_read = Status::from_errno(ENOENT);
  std::optional<SystemMode> mode;
  std::uint64_t seq = 0;
  std::uint64_t samples = 0;
  std::optional<SystemMode> pending_callback;  // the mode read in the constructor

  void set_detail(std::string text, Status read) {
    std::lock_guard lock(mutex);
    detail = std::move(text);
    last_read = read;
  }

  std::string keeping() const {  // with mutex held
    return mode ? "; keeping mode '" + mode->name + "' (seq " + std::to_string(seq) + ")"
                : "; no mode yet";
  }

  void try_watch() {
    watch = ::inotify_add_watch(
        inotify.get(), directory.c_str(),
        IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  }

  // Reads and parses the file; returns the mode to announce when it changed.
  std::optional<SystemMode> reload() {
    std::string text;
    const int error = read_whole_file(path, text);
    std::lock_guard lock(mutex);
    if (error == ENOENT) {
      last_read = Status::from_errno(ENOENT);
      detail = "waiting for " + path + " to appear" + (mode ? keeping() : "");
      return std::nullopt;
    }
    if (error != 0) {
      last_read = Status::from_errno(error);
      detail =
          path + ": " + (error == EFBIG ? "larger than 1 MiB" : std::strerror(error)) + keeping();
      return std::nullopt;
    }
    ParsedModeFile parsed = parse_mode_file(text);
    if (!parsed.ok) {
      last_read = Status::from_errno(EBADMSG);
      detail = path + ": " + parsed.error + keeping();
      return std::nullopt;
    }
    last_read = Status();
    detail = "ok";
    // The same version seen again (IN_CLOSE_WRITE and IN_MOVED_TO, or a spurious event). A
    // lower seq is accepted: vigild restarted and counts from the start again.
    if (mode && parsed.seq == seq) return std::nullopt;
    ++samples;
    seq = parsed.seq;
    const bool is_change = !mode || !mode->same_as(parsed.mode);
    mode = std::move(parsed.mode);
    changed.notify_all();
    if (!is_change) return std::nullopt;
    return mode;
  }

  void announce(const std::optional<SystemMode>& next) {
    if (!next || !on_change) return;
    try {
      on_change(*next);
    } catch (...) {
      // A throwing callback must not end the thread (std::terminate); the mode is stored.
    }
  }

  // The listener thread. `self` keeps the State alive when the listener was destroyed from
  // inside on_change and the thread detached.
  static void run(std::shared_ptr<State> self) { self->loop(); }

  void loop() {
    {
      std::optional<SystemMode> first;
      {
        std::lock_guard lock(mutex);
        first = std::move(pending_callback);
        pending_callback.reset();
      }
      announce(first);
    }
    alignas(inotify_event) char buffer[16 * (sizeof(inotify_event) + NAME_MAX + 1)];
    for (;;) {
      pollfd fds[2] = {{wake_read.get(), POLLIN, 0}, {inotify.get(), POLLIN, 0}};
      const int ready = ::poll(fds, 2, watch < 0 ? kDirectoryRetryMs : -1);
      if (ready < 0 && errno != EINTR) {
        set_detail(std::string("poll: ") + std::strerror(errno), Status::from_errno(errno));
        return;
      }
      if (fds[0].revents != 0) return;  // woken by the destructor
      if (watch < 0) {
        // Events left from the removed watch (IN_IGNORED) would make poll return at once.
        if (fds[1].revents & POLLIN) {
          while (::read(inotify.get(), buffer, sizeof buffer) > 0) {
          }
        }
        try_watch();
        if (watch >= 0) announce(reload());  // the file may have appeared with the directory
        continue;
      }
      if ((fds[1].revents & POLLIN) == 0) continue;
      const ssize_t n = ::read(inotify.get(), buffer, sizeof buffer);
      if (n <= 0) continue;
      bool file_replaced = false;
      bool file_deleted = false;
      bool directory_gone = false;
      for (ssize_t offset = 0; offset < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
        offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        if (event->mask & IN_Q_OVERFLOW) file_replaced = true;  // events lost: just re-read
        if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) directory_gone = true;
        if (event->len == 0 || file_name != event->name) continue;
        if (event->mask & (IN_MOVED_TO | IN_CLOSE_WRITE)) file_replaced = true;
        if (event->mask & IN_DELETE) file_deleted = true;
      }
      if (directory_gone) {
        if (watch >= 0) ::inotify_rm_watch(inotify.get(), watch);
        watch = -1;
        std::lock_guard lock(mutex);
        detail = "waiting for " + path + " to appear" + (mode ? keeping() : "");
        last_read = Status::from_errno(ENOENT);
        continue;
      }
      if (file_replaced) {
        announce(reload());
      } else if (file_deleted) {
        std::lock_guard lock(mutex);
        detail = path + " was removed" + keeping();
        last_read = Status::from_errno(ENOENT);
      }
    }
  }

  void start() {
    if (path.empty()) {
      status = Status::from_errno(ENOENT);
      detail = "VIGIL_MODE_FILE is not set: not running under vigild, no mode";
      return;
    }
    if (path.back() == '/' || path.find('\0') != std::string::npos) {
      status = Status::from_errno(EINVAL);
      detail = "not a file path: " + path;
      return;
    }
    if (path.front() != '/') {  // the thread must not depend on later chdir() calls
      char cwd[4096];
      if (::getcwd(cwd, sizeof cwd) == nullptr) {
        status = Status::from_errno(errno);
        detail = std::string("getcwd: ") + std::strerror(errno);
        return;
      }
      path = std::string(cwd) + "/" + path;
    }
    const auto slash = path.rfind('/');
    directory = slash == 0 ? "/" : path.substr(0, slash);
    file_name = path.substr(slash + 1);

    inotify.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (inotify.get() < 0) {
      status = Status::from_errno(errno);
      detail = std::string("inotify_init1: ") + std::strerror(errno);
      return;
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      status = Status::from_errno(errno);
      detail = std::string("pipe2: ") + std::strerror(errno);
      return;
    }
    wake_read.reset(pipe_fds[0]);
    wake_write.reset(pipe_fds[1]);
    // Watch before reading, so that a replacement in between is not missed.
    try_watch();
    if (watch < 0 && errno != ENOENT) {
      status = Status::from_errno(errno);
      detail = "inotify_add_watch(" + directory + "): " + std::strerror(errno);
      return;
    }
    status = Status();
    pending_callback = reload();
  }
};

ModeListener::ModeListener(ModeListenerOptions options) : state_(std::make_shared<State>()) {
  if (options.path) {
    state_->path = *options.path;
  } else if (const char* from_env = std::getenv("VIGIL_MODE_FILE")) {
    state_->path = from_env;
  }
  state_->on_change = std::move(options.on_change);
  state_->start();
  if (!state_->status) return;
  try {
    state_->thread = std::thread(&State::run, state_);
  } catch (const std::system_error& e) {
    state_->status = Status::from_errno(e.code().value() > 0 ? e.code().value() : EAGAIN);
    state_->detail = std::string("cannot start the listener thread: ") + e.what();
  }
}

ModeListener::ModeListener(ModeListener&& other) noexcept : state_(std::move(other.state_)) {}

ModeListener& ModeListener::operator=(ModeListener&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

ModeListener::~ModeListener() {
  stop();
}

void ModeListener::stop() noexcept {
  if (!state_) return;
  if (state_->thread.joinable()) {
    const char wake = 1;
    while (::write(state_->wake_write.get(), &wake, 1) < 0 && errno == EINTR) {
    }
    if (state_->thread.get_id() == std::this_thread::get_id()) {
      state_->thread.detach();  // destroyed from on_change: the loop ends after it returns
    } else {
      state_->thread.join();
    }
  }
  state_.reset();
}

Status ModeListener::status() const {
  return state_ ? state_->status : Status::from_errno(EINVAL);
}
std::string ModeListener::status_detail() const {
  if (!state_) return "moved from";
  std::lock_guard lock(state_->mutex);
  return state_->detail;
}
Status ModeListener::last_read() const {
  if (!state_) return Status::from_errno(EINVAL);
  std::lock_guard lock(state_->mutex);
  return state_->last_read;
}
const std::string& ModeListener::path() const {
  static const std::string none;
  return state_ && state_->status ? state_->path : none;
}

std::optional<SystemMode> ModeListener::current() const {
  if (!state_) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  return state_->mode;
}

std::optional<SystemMode> ModeListener::wait_for(
    std::chrono::milliseconds timeout,
    const std::function<bool(const SystemMode&)>& predicate) const {
  if (!state_ || !state_->status) return std::nullopt;
  std::unique_lock lock(state_->mutex);
  const bool met = state_->changed.wait_for(
      lock, timeout, [&] { return state_->mode && (!predicate || predicate(*state_->mode)); });
  if (!met) return std::nullopt;
  return state_->mode;
}

std::uint64_t ModeListener::samples_received() const {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->samples;
}
std::uint64_t ModeListener::sequence() const {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->mode ? state_->seq : 0;
}

}  // namespace vigil::file
