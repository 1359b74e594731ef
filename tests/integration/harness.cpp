#include "integration/harness.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process/proc_stat.hpp"
#include "process/spawn.hpp"

namespace vigil::testing {
namespace fs = std::filesystem;

std::string bin(const std::string& name) {
  return std::string(VIGIL_BIN_DIR) + "/" + name;
}

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

void write_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

Vigild::Vigild(const std::string& yaml) {
  char tmpl[] = "/tmp/vigil-test-XXXXXX";
  dir_ = ::mkdtemp(tmpl);
  write_config(yaml);
}

Vigild::~Vigild() {
  if (pid_ != 0) stop();
  if (killed_) {
    // vigild was killed and not restarted: its components are orphans now; end them.
    for (const auto& e : events_) {
      if (e.value("kind", "") == "spawned" || e.value("kind", "") == "adopted") {
        const auto pid = e["detail"].value("pid", 0);
        if (pid > 1 && process_alive(pid)) ::kill(-pid, SIGKILL);
      }
    }
  }
  // Leftover components (after kill9 tests) must not outlive the test.
  std::error_code ec;
  if (!::testing::Test::HasFailure())
    fs::remove_all(dir_, ec);
  else
    std::cerr << "vigild output (" << dir_ << "):\n" << vigild_output() << "\n";
}

void Vigild::write_config(const std::string& yaml) {
  std::string text =
      replace_all(replace_all(yaml, "@BIN@", std::string(VIGIL_BIN_DIR)), "@DIR@", dir_);
  // Appended, so that line numbers in the test's yaml stay as written.
  if (text.find("state_dir:") == std::string::npos) text += "\nstate_dir: " + state_dir() + "\n";
  // Tests run in parallel: each vigild's HTTP API on a free port (see http_url()).
  if (text.find("\nhttp:") == std::string::npos && text.rfind("http:", 0) != 0) {
    text += "http: {listen: \"127.0.0.1:0\"}\n";
  }
  std::ofstream(config_path()) << text;
}

std::string Vigild::http_url() const {
  std::ifstream in(state_dir() + "/http.url");
  std::string url;
  std::getline(in, url);
  return url;
}

std::string Vigild::token() const {
  std::ifstream in(state_dir() + "/token");
  std::string token;
  std::getline(in, token);
  return token;
}

std::string Vigild::vigild_output() const {
  std::ifstream in(dir_ + "/vigild.out");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Vigild::start() {
  // vigild tells us it is up exactly as it tells systemd: READY=1 on NOTIFY_SOCKET.
  const std::string notify_path = dir_ + "/harness-notify.sock";
  ::unlink(notify_path.c_str());
  UniqueFd notify(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(notify.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  UniqueFd out(
      ::open((dir_ + "/vigild.out").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  process::SpawnRequest request;
  request.argv = {bin("vigild"), "--config", config_path(), "--log-level", "debug"};
  for (char** e = environ; *e != nullptr; ++e) request.env.emplace_back(*e);
  request.env.push_back("NOTIFY_SOCKET=" + notify_path);
  request.output_fd = out.get();
  auto spawned = process::spawn(request);
  ASSERT_TRUE(spawned.process.has_value()) << spawned.error.message;
  pid_ = spawned.process->pid;
  pidfd_ = std::move(spawned.process->pidfd);

  pollfd fds[2] = {{notify.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds, 2, 1000) <= 0) continue;
    if (fds[1].revents != 0) {
      FAIL() << "vigild exited during start-up:\n" << vigild_output();
    }
    char buf[4096];
    const ssize_t n = ::recv(notify.get(), buf, sizeof buf, 0);
    if (n > 0 && std::string_view(buf, n).find("READY=1") != std::string_view::npos) ready = true;
  }
  ASSERT_TRUE(ready) << "vigild did not report READY=1:\n" << vigild_output();
  open_stream();
}

void Vigild::open_stream() {
  stream_ = connect_unix(socket_path());
  ASSERT_TRUE(stream_.valid()) << "cannot connect to the control socket";
  const std::int64_t after = events_.empty() ? 0 : events_.back()["id"].get<std::int64_t>();
  write_all(
      stream_.get(),
      json{{"cmd", "events"}, {"follow", true}, {"limit", 100000}, {"after_id", after}}.dump() +
          "\n");
}

bool Vigild::read_stream(std::chrono::milliseconds budget) {
  pollfd pfd{stream_.get(), POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(budget.count())) <= 0) return false;
  char buf[65536];
  const ssize_t n = ::read(stream_.get(), buf, sizeof buf);
  if (n <= 0) return false;
  stream_buffer_.append(buf, static_cast<std::size_t>(n));
  std::size_t nl;
  while ((nl = stream_buffer_.find('\n')) != std::string::npos) {
    auto j = json::parse(stream_buffer_.substr(0, nl), nullptr, false);
    stream_buffer_.erase(0, nl + 1);
    if (j.is_discarded()) continue;
    if (j.contains("events")) {
      for (auto& e : j["events"]) events_.push_back(e);
    } else if (j.contains("event")) {
      events_.push_back(j["event"]);
    }
  }
  return true;
}

json Vigild::wait_for(const std::function<bool(const json&)>& pred,
                      std::chrono::milliseconds timeout, std::int64_t after_id) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t checked = 0;
  for (;;) {
    for (; checked < events_.size(); ++checked) {
      const auto& e = events_[checked];
      if (e.value("id", std::int64_t{0}) > after_id && pred(e)) return e;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    read_stream(left);
  }
  std::string seen;
  for (const auto& e : events_) {
    seen += "  " + e.value("component", "") + " " + e.value("kind", "") + " " +
            e.value("state", "") + " " + e.value("reason", "") + "\n";
  }
  ADD_FAILURE() << "timed out waiting for an event; events so far:\n" << seen;
  return json();
}

json Vigild::wait_for(const std::string& component, const std::string& kind,
                      std::chrono::milliseconds timeout, std::int64_t after_id) {
  return wait_for(
      [&](const json& e) {
        return e.value("component", "") == component && e.value("kind", "") == kind;
      },
      timeout, after_id);
}

void Vigild::follow_for(std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now()) {
    read_stream(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  }
}

bool Vigild::poll_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    ::poll(nullptr, 0, 50);
  }
  return condition();
}

std::vector<json> Vigild::events_of(const std::string& component, const std::string& kind) const {
  std::vector<json> out;
  for (const auto& e : events_) {
    if (e.value("component", "") == component && e.value("kind", "") == kind) out.push_back(e);
  }
  return out;
}

json Vigild::request(const json& r) {
  UniqueFd fd = connect_unix(socket_path());
  if (!fd.valid()) return json{{"ok", false}, {"error", "cannot connect"}};
  write_all(fd.get(), r.dump() + "\n");
  std::string buffer;
  char buf[65536];
  for (;;) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) return json{{"ok", false}, {"error", "no reply"}};
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return json{{"ok", false}, {"error", "closed"}};
    buffer.append(buf, static_cast<std::size_t>(n));
    const auto nl = buffer.find('\n');
    if (nl != std::string::npos) return json::parse(buffer.substr(0, nl));
  }
}

json Vigild::component(const std::string& name) {
  std::function<json(const json&)> find = [&](const json& node) -> json {
    if (node.value("name", "") == name) return node;
    if (node.contains("children")) {
      for (const auto& c : node["children"]) {
        auto found = find(c);
        if (!found.is_null()) return found;
      }
    }
    return json();
  };
  return find(status()["tree"]);
}

void Vigild::kill9() {
  killed_ = true;
  ::kill(pid_, SIGKILL);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  pid_ = 0;
  pidfd_.reset();
  stream_.reset();
}

int Vigild::stop() {
  if (pid_ == 0) return -1;
  ::kill(pid_, SIGTERM);
  pollfd pfd{pidfd_.get(), POLLIN, 0};
  if (::poll(&pfd, 1, 20000) <= 0) {
    ADD_FAILURE() << "vigild did not stop within 20s of SIGTERM";
    ::kill(pid_, SIGKILL);
  }
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  pid_ = 0;
  pidfd_.reset();
  stream_.reset();
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

CommandResult run_command(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  process::SpawnRequest request;
  request.argv = argv;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("VIGIL_SOCKET=", 0) != 0) request.env.emplace_back(*e);
  }
  request.output_fd = write_end.get();
  auto spawned = process::spawn(request);
  write_end.reset();
  CommandResult result;
  if (!spawned.process) {
    result.output = spawned.error.message;
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0) result.output.append(buf, n);
  siginfo_t info{};
  ::waitid(P_PIDFD, static_cast<id_t>(spawned.process->pidfd.get()), &info, WEXITED);
  result.exit_code = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
  return result;
}

UniqueFd connect_unix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  return fd;
}

void send_datagram(const std::string& socket_path, const std::string& message) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  ::sendto(fd.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&addr),
           sizeof addr);
}

bool process_alive(pid_t pid) {
  auto st = process::read_proc_stat(pid);
  return st && st->state != 'Z';
}

}  // namespace vigil::testing
