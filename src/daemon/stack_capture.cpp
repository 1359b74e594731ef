#include "daemon/stack_capture.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <charconv>
#include <csignal>
#include <fstream>
#include <memory>

#include "common/scheduler.hpp"
#include "common/unique_fd.hpp"
#include "daemon/pidfd_runner.hpp"
#include "process/proc_stat.hpp"
#include "process/spawn.hpp"

namespace vigil::daemon {
namespace {

constexpr std::size_t kMaxTextPerProcess = std::size_t{64} * 1024;

std::string comm_of(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/comm", pid));
  std::string comm;
  std::getline(in, comm);
  return comm;
}

int count_threads(const std::string& text) {
  int n = 0;
  for (std::size_t at = 0; (at = text.find("TID ", at)) != std::string::npos; at += 4) {
    if (at == 0 || text[at - 1] == '\n') ++n;
  }
  if (n == 0) {  // gdb's format
    for (std::size_t at = 0; (at = text.find("\nThread ", at)) != std::string::npos; at += 8) ++n;
  }
  return n;
}

// One run of the tool against one process.
struct Job {
  pid_t target = 0;
  pid_t tool_pid = 0;
  std::unique_ptr<asio::posix::stream_descriptor> output;
  std::array<char, 4096> buffer{};
  std::string text;
  bool exited = false;
  bool eof = false;
  std::string error;
  bool done() const { return exited && eof; }
};

class Capture : public std::enable_shared_from_this<Capture> {
 public:
  Capture(asio::io_context& io, std::function<void(nlohmann::json)> done)
      : io_(io), timer_(io), done_(std::move(done)), started_(MonoClock::now()) {}

  void start(PidfdRunner& runner, pid_t session, Duration budget) {
    tool_ = stack_tool();
    if (tool_.empty()) {
      finish_with_error("neither eu-stack (elfutils) nor gdb is installed");
      return;
    }
    const auto targets = processes_in_session(session);
    if (targets.empty()) {
      finish_with_error("no process left in the component's session");
      return;
    }
    for (pid_t target : targets) launch(runner, target);
    auto self = shared_from_this();
    timer_.expires_after(budget);
    timer_.async_wait([self](const std::error_code& e) {
      if (!e) self->out_of_time();
    });
    check_done();
  }

 private:
  void launch(PidfdRunner& runner, pid_t target) {
    auto job = std::make_shared<Job>();
    job->target = target;
    jobs_.push_back(job);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      job->error = fmt::format("pipe: {}", std::strerror(errno));
      job->exited = job->eof = true;
      return;
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    process::SpawnRequest request;
    if (tool_ == "eu-stack") {
      request.argv = {"/usr/bin/eu-stack", "-p", std::to_string(target), "-n", "64"};
    } else {
      request.argv = {"/usr/bin/gdb",          "-nx", "-batch", "-p", std::to_string(target), "-ex",
                      "thread apply all bt 64"};
    }
    // No DEBUGINFOD_URLS: a robot is offline, and a network lookup would eat the budget.
    request.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
    request.cwd = "/";
    request.output_fd = write_end.get();
    auto spawned = process::spawn(request);
    write_end.reset();
    if (!spawned.process) {
      job->error = spawned.error.message;
      job->exited = job->eof = true;
      return;
    }
    job->tool_pid = spawned.process->pid;
    job->output = std::make_unique<asio::posix::stream_descriptor>(io_, read_end.release());
    auto self = shared_from_this();
    runner.watch_child(std::move(*spawned.process), "stack capture",
                       [self, job](const process::ExitStatus& status) {
                         job->exited = true;
                         if (!status.clean())
                           job->error = fmt::format("{} {}", self->tool_, status.describe());
                         self->check_done();
                       });
    read_more(job);
  }

  void read_more(const std::shared_ptr<Job>& job) {
    auto self = shared_from_this();
    job->output->async_read_some(asio::buffer(job->buffer), [self, job](const std::error_code& e,
                                                                        std::size_t n) {
      if (self->finished_) return;
      if (job->text.size() < kMaxTextPerProcess) {
        job->text.append(job->buffer.data(), std::min(n, kMaxTextPerProcess - job->text.size()));
      }
      if (e) {
        job->eof = true;
        self->check_done();
        return;
      }
      self->read_more(job);
    });
  }

  void out_of_time() {
    if (finished_) return;
    for (auto& job : jobs_) {
      if (!job->done() && job->tool_pid != 0) {
        process::signal_group(job->tool_pid, SIGKILL);
        job->error = "stack budget exhausted";
      }
    }
    report(false);
  }

  void check_done() {
    if (finished_) return;
    for (const auto& job : jobs_) {
      if (!job->done()) return;
    }
    report(true);
  }

  void report(bool complete) {
    finished_ = true;
    timer_.cancel();
    nlohmann::json processes = nlohmann::json::array();
    for (auto& job : jobs_) {
      nlohmann::json p = {{"pid", job->target},
                          {"comm", comm_of(job->target)},
                          {"threads", count_threads(job->text)},
                          {"text", job->text}};
      if (!job->error.empty()) p["error"] = job->error;
      processes.push_back(std::move(p));
      if (job->output) {
        std::error_code ignored;
        job->output->close(ignored);
      }
    }
    const auto elapsed = MonoClock::now() - started_;
    nlohmann::json result = {
        {"tool", tool_},
        {"complete", complete},
        {"elapsed_ms", std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()},
        {"processes", std::move(processes)}};
    auto done = std::move(done_);
    done(std::move(result));
  }

  void finish_with_error(const std::string& why) {
    finished_ = true;
    auto done = std::move(done_);
    nlohmann::json result = {{"tool", tool_},
                             {"complete", false},
                             {"error", why},
                             {"processes", nlohmann::json::array()}};
    asio::post(io_, [done, result] { done(result); });
  }

  asio::io_context& io_;
  asio::steady_timer timer_;
  std::function<void(nlohmann::json)> done_;
  TimePoint started_;
  std::string tool_;
  std::vector<std::shared_ptr<Job>> jobs_;
  bool finished_ = false;
};

}  // namespace

std::string stack_tool() {
  if (::access("/usr/bin/eu-stack", X_OK) == 0) return "eu-stack";
  if (::access("/usr/bin/gdb", X_OK) == 0) return "gdb";
  return "";
}

std::vector<pid_t> processes_in_session(pid_t session) {
  std::vector<pid_t> out;
  if (session <= 0) return out;
  out.push_back(session);  // the main process leads its session
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (const dirent* entry = ::readdir(dir)) {
    pid_t pid = 0;
    const char* name = entry->d_name;
    auto [ptr, ec] = std::from_chars(name, name + std::strlen(name), pid);
    if (ec != std::errc{} || *ptr != '\0' || pid == session) continue;
    auto stat = process::read_proc_stat(pid);
    if (stat && stat->session == session) out.push_back(pid);
  }
  ::closedir(dir);
  return out;
}

void capture_stacks(asio::io_context& io, PidfdRunner& runner, pid_t session, Duration budget,
                    std::function<void(nlohmann::json)> done) {
  auto capture = std::make_shared<Capture>(io, std::move(done));
  capture->start(runner, session, budget);
}

}  // namespace vigil::daemon
