// vigil-keeper: keeps vigild running where there is no systemd (a container's pid 1, a
// minimal image), as systemd's Restart=always and WatchdogSec would.
//
//   vigil-keeper [--watchdog 10s] [--backoff-max 30s] -- /usr/local/bin/vigild -c robot.yaml
//
// - Starts vigild with NOTIFY_SOCKET (a socket of the keeper's) and, with --watchdog,
//   WATCHDOG_USEC/WATCHDOG_PID: vigild then sends READY=1 and WATCHDOG=1 from its event loop
//   exactly as under systemd.
// - vigild gone (killed, crashed): started again after a backoff (1 s, doubling to
//   --backoff-max, back to 1 s after a minute up). Its components were left running; the new
//   vigild adopts them.
// - vigild hung (no WATCHDOG=1 for --watchdog after READY=1): killed with SIGKILL, then as
//   above.
// - SIGTERM/SIGINT: passed to vigild, which stops the robot in order; the keeper exits with
//   its status. SIGHUP is passed on (reload).
// - Reaps any other child it is given (as a container's pid 1 is given every orphan).
//
// Small on purpose: one loop, no config, nothing that can fail once started but a fork.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "common/units.hpp"
#include "process/spawn.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using vigil::UniqueFd;

void say(const std::string& line) {
  std::fprintf(stderr, "vigil-keeper: %s\n", line.c_str());
}

// Reaps every exited child but `keep` (vigild, reaped through its pidfd).
void reap_others(pid_t keep) {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    if (info.si_pid == keep) return;  // vigild: its turn comes through the pidfd
    ::waitpid(info.si_pid, nullptr, WNOHANG);
  }
}

struct Options {
  std::vector<std::string> command;
  std::optional<std::chrono::milliseconds> watchdog;
  std::chrono::milliseconds backoff_max{30'000};
};

class Keeper {
 public:
  explicit Keeper(Options options) : options_(std::move(options)) {}

  int run() {
    char tmpl[] = "/tmp/vigil-keeper-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      say(fmt::format("mkdtemp: {}", std::strerror(errno)));
      return 1;
    }
    dir_ = tmpl;
    notify_path_ = dir_ + "/notify.sock";
    notify_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, notify_path_.c_str(), sizeof(addr.sun_path) - 1);
    if (notify_.get() < 0 ||
        ::bind(notify_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      say(fmt::format("notify socket {}: {}", notify_path_, std::strerror(errno)));
      return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

    int status = 0;
    while (!stopping_) {
      if (!start()) {
        status = 1;
      } else {
        status = supervise();
      }
      if (stopping_) break;
      wait_backoff();
    }
    std::filesystem::remove_all(dir_);
    return status;
  }

 private:
  bool start() {
    vigil::process::SpawnRequest request;
    request.argv = options_.command;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (entry.rfind("NOTIFY_SOCKET=", 0) == 0 || entry.rfind("WATCHDOG_", 0) == 0) continue;
      request.env.push_back(entry);
    }
    request.env.push_back("NOTIFY_SOCKET=" + notify_path_);
    if (options_.watchdog) {
      request.env.push_back(fmt::format(
          "WATCHDOG_USEC={}",
          std::chrono::duration_cast<std::chrono::microseconds>(*options_.watchdog).count()));
      request.set_watchdog_pid = true;
    }
    request.output_fd = STDERR_FILENO;
    auto spawned = vigil::process::spawn(request);
    if (!spawned.process) {
      say(fmt::format("cannot start {}: {}", options_.command.front(), spawned.error.message));
      return false;
    }
    pid_ = spawned.process->pid;
    pidfd_ = std::move(spawned.process->pidfd);
    started_ = Clock::now();
    ready_ = false;
    last_ping_ = started_;
    say(fmt::format("started {} (pid {})", options_.command.front(), pid_));
    return true;
  }

  // Until vigild exits; returns its exit status (128 + signal when killed).
  int supervise() {
    for (;;) {
      pollfd fds[3] = {
          {pidfd_.get(), POLLIN, 0}, {notify_.get(), POLLIN, 0}, {signals_.get(), POLLIN, 0}};
      ::poll(fds, 3, 200);
      if (fds[2].revents != 0) on_signals();
      if (fds[1].revents != 0) on_notify();
      if (fds[0].revents != 0) return reap_vigild();
      if (options_.watchdog && ready_ && !stopping_ &&
          Clock::now() - last_ping_ > *options_.watchdog) {
        say(fmt::format("pid {} sent no WATCHDOG=1 for {}: hung; killing it", pid_,
                        vigil::format_duration(*options_.watchdog)));
        ::kill(pid_, SIGKILL);
        ready_ = false;
      }
    }
  }

  void on_signals() {
    signalfd_siginfo info{};
    while (::read(signals_.get(), &info, sizeof(info)) == sizeof(info)) {
      const int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGCHLD) {
        reap_others(pid_);
        continue;
      }
      if (sig == SIGTERM || sig == SIGINT) {
        stopping_ = true;
        say(fmt::format("{}: stopping pid {}", sig == SIGTERM ? "SIGTERM" : "SIGINT", pid_));
      }
      ::kill(pid_, sig);
    }
  }

  void on_notify() {
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(notify_.get(), buffer, sizeof(buffer), 0);
      if (n <= 0) return;
      const std::string_view message(buffer, static_cast<std::size_t>(n));
      if (message.find("READY=1") != std::string_view::npos && !ready_) {
        ready_ = true;
        say(fmt::format("pid {} is ready", pid_));
      }
      if (message.find("WATCHDOG=1") != std::string_view::npos) last_ping_ = Clock::now();
    }
  }

  int reap_vigild() {
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED);
    pidfd_.reset();
    const bool killed = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    const int status = killed ? 128 + info.si_status : info.si_status;
    say(fmt::format("pid {} {} {}", pid_, killed ? "killed by signal" : "exited with status",
                    info.si_status));
    reap_others(0);
    return status;
  }

  void wait_backoff() {
    // A vigild that stayed up a minute failed for a new reason: start over from 1 s.
    if (Clock::now() - started_ > std::chrono::minutes(1)) delay_ = std::chrono::seconds(1);
    say(fmt::format("starting it again in {}", vigil::format_duration(delay_)));
    const auto until = Clock::now() + delay_;
    delay_ = std::min(delay_ * 2, options_.backoff_max);
    while (!stopping_ && Clock::now() < until) {
      pollfd fd{signals_.get(), POLLIN, 0};
      ::poll(&fd, 1, 100);
      if (fd.revents == 0) continue;
      signalfd_siginfo info{};
      while (::read(signals_.get(), &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) stopping_ = true;
        if (info.ssi_signo == SIGCHLD) reap_others(0);
      }
    }
  }

  Options options_;
  std::string dir_;
  std::string notify_path_;
  UniqueFd notify_;
  UniqueFd signals_;
  UniqueFd pidfd_;
  pid_t pid_ = 0;
  bool ready_ = false;
  bool stopping_ = false;
  Clock::time_point started_;
  Clock::time_point last_ping_;
  std::chrono::milliseconds delay_{1000};
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigil-keeper: restarts vigild when it dies or hangs, where there is no systemd"};
  Options options;
  std::string watchdog;
  std::string backoff_max = "30s";
  app.add_option("--watchdog", watchdog,
                 "kill and restart vigild when it sends no WATCHDOG=1 for this long (e.g. 10s)");
  app.add_option("--backoff-max", backoff_max, "the longest wait between restarts (default 30s)");
  app.add_option("command", options.command, "vigild and its arguments, after --")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 64;
  }
  auto to_ms = [](const std::string& text,
                  const char* option) -> std::optional<std::chrono::milliseconds> {
    auto d = vigil::parse_duration(text);
    if (!d || d->count() <= 0) {
      say(fmt::format("{} '{}' is not a duration (e.g. 10s)", option, text));
      return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  };
  if (!watchdog.empty()) {
    options.watchdog = to_ms(watchdog, "--watchdog");
    if (!options.watchdog) return 64;
  }
  auto max = to_ms(backoff_max, "--backoff-max");
  if (!max) return 64;
  options.backoff_max = std::max(*max, std::chrono::milliseconds(1000));
  return Keeper(std::move(options)).run();
}
