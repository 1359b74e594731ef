#include "daemon/pidfd_runner.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "daemon/stack_capture.hpp"
#include "process/proc_stat.hpp"
#include "process/spawn.hpp"

extern char** environ;

namespace vigil::daemon {

// One pipe per component for its whole life (stdout and stderr share it, so their order is
// kept); the reader appends to the component's OutputLog.
struct PidfdRunner::Capture {
  std::unique_ptr<process::OutputLog> log;
  UniqueFd write_end;
  std::unique_ptr<asio::posix::stream_descriptor> read_end;
  std::array<char, 16384> buffer{};
};

namespace {

void read_loop(asio::posix::stream_descriptor& pipe, std::array<char, 16384>& buffer,
               process::OutputLog& log) {
  pipe.async_read_some(
      asio::buffer(buffer), [&pipe, &buffer, &log](const std::error_code& ec, std::size_t n) {
        if (ec) return;  // closed on shutdown, or the last writer of an inherited pipe is gone
        log.append(std::string_view(buffer.data(), n));
        read_loop(pipe, buffer, log);
      });
}

}  // namespace

PidfdRunner::PidfdRunner(asio::io_context& io, RunnerOptions options, OrphanCallback on_orphan)
    : io_(io),
      options_(std::move(options)),
      on_orphan_(std::move(on_orphan)),
      sigchld_(io, SIGCHLD) {
  std::filesystem::create_directories(options_.logs_dir);
  std::filesystem::create_directories(options_.run_dir);
  base_env_ = base_environment();
  wait_sigchld();
}

PidfdRunner::~PidfdRunner() = default;

std::vector<std::string> PidfdRunner::base_environment() const {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    // vigild's own service-manager variables must not leak to its children.
    if (entry.rfind("NOTIFY_SOCKET=", 0) == 0 || entry.rfind("WATCHDOG_USEC=", 0) == 0 ||
        entry.rfind("WATCHDOG_PID=", 0) == 0 || entry.rfind("LISTEN_", 0) == 0 ||
        entry.rfind("INVOCATION_ID=", 0) == 0 || entry.rfind("VIGIL_MODE_FILE=", 0) == 0 ||
        entry.rfind("VIGIL_COMPONENT=", 0) == 0) {
      continue;
    }
    env.emplace_back(entry);
  }
  return env;
}

namespace {

// The largest pipe buffer an unprivileged process may ask for (fs.pipe-max-size), at most
// 1 MiB; read once.
int wanted_pipe_size() {
  static const int size = [] {
    int max = 1 << 20;
    if (FILE* f = std::fopen("/proc/sys/fs/pipe-max-size", "r")) {
      if (std::fscanf(f, "%d", &max) != 1) max = 1 << 20;
      std::fclose(f);
    }
    return std::min(max, 1 << 20);
  }();
  return size;
}

void grow_pipe(const std::string& component, int fd) {
  if (::fcntl(fd, F_SETPIPE_SZ, wanted_pipe_size()) < 0) {
    // Over the user's pipe-user-pages-soft, for instance: the default 64 KiB still works.
    spdlog::debug("{}: output fifo stays at its default size: F_SETPIPE_SZ: {}", component,
                  std::strerror(errno));
  }
}

}  // namespace

PidfdRunner::Capture& PidfdRunner::capture_for(const config::ComponentSpec& spec) {
  auto& slot = captures_[spec.name];
  if (slot) {
    slot->log->set_spec(spec.output);
    return *slot;
  }
  slot = std::make_unique<Capture>();
  slot->log = std::make_unique<process::OutputLog>(options_.logs_dir + "/" + spec.name + ".log",
                                                   spec.output);
  // A named FIFO rather than a pipe, opened read-write for the child: the child then counts
  // as a reader of its own output, so if vigild is killed its next write does not raise
  // SIGPIPE, and a restarted vigild reopens the FIFO by name and drains it. Adoption keeps
  // the output as well as the process. The FIFO holds up to 1 MiB (fs.pipe-max-size) rather
  // than the default 64 KiB, so a chatty component goes on writing while vigild is down: it
  // would block only past that.
  const std::string fifo = options_.run_dir + "/" + spec.name + ".out";
  if (::mkfifo(fifo.c_str(), 0600) != 0 && errno != EEXIST) {
    spdlog::error("{}: cannot create output fifo {}: {}", spec.name, fifo, std::strerror(errno));
    return *slot;
  }
  const int read_fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  const int write_fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  if (read_fd < 0 || write_fd < 0) {
    spdlog::error("{}: cannot open output fifo {}: {}", spec.name, fifo, std::strerror(errno));
    if (read_fd >= 0) ::close(read_fd);
    if (write_fd >= 0) ::close(write_fd);
    return *slot;
  }
  grow_pipe(spec.name, write_fd);
  slot->write_end.reset(write_fd);
  slot->read_end = std::make_unique<asio::posix::stream_descriptor>(io_, read_fd);
  read_loop(*slot->read_end, slot->buffer, *slot->log);
  return *slot;
}

process::SpawnRequest PidfdRunner::request_for(const config::ComponentSpec& spec) {
  Capture& capture = capture_for(spec);
  process::SpawnRequest request;
  request.argv = spec.command;
  request.cwd = spec.cwd;
  request.output_fd = capture.write_end.get();
  request.env = base_env_;
  for (const auto& [k, v] : spec.env) {
    const std::string prefix = k + "=";
    std::erase_if(request.env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
    request.env.push_back(prefix + v);
  }
  request.env.push_back("NOTIFY_SOCKET=" + options_.notify_socket);
  request.env.push_back("VIGIL_COMPONENT=" + spec.name);
  if (!options_.mode_file.empty()) request.env.push_back("VIGIL_MODE_FILE=" + options_.mode_file);
  // What a systemd-style program reads to know it must beat, and how often (it beats at
  // half of it). With the phi detector alone, that is twice the expected interval.
  std::optional<Duration> advertised = spec.watchdog.timeout;
  if (!advertised && spec.watchdog.detector == config::DetectorKind::phi) {
    advertised = 2 * spec.watchdog.phi.expected_interval.value_or(std::chrono::seconds(1));
  }
  if (advertised) {
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(*advertised).count();
    request.env.push_back("WATCHDOG_USEC=" + std::to_string(usec));
    request.set_watchdog_pid = true;
  }
  apply_limits(spec, request);
  return request;
}

namespace {

std::uint64_t global_oom_kills() {
  std::FILE* f = std::fopen("/proc/vmstat", "r");
  if (f == nullptr) return 0;
  char key[64];
  unsigned long long value = 0;
  std::uint64_t out = 0;
  while (std::fscanf(f, "%63s %llu", key, &value) == 2) {
    if (std::strcmp(key, "oom_kill") == 0) out = value;
  }
  std::fclose(f);
  return out;
}

// The kernel log names the victim: "Out of memory: Killed process 1234 (name) ...".
bool kernel_log_names_oom_victim(pid_t pid) {
  const int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string needle = fmt::format("Killed process {} ", pid);
  bool found = false;
  char record[8192];
  for (;;) {
    const ssize_t n = ::read(fd, record, sizeof record - 1);
    if (n < 0 && errno == EPIPE) continue;  // overwritten while reading: go on
    if (n <= 0) break;
    record[n] = '\0';
    if (std::strstr(record, needle.c_str()) != nullptr) found = true;
  }
  ::close(fd);
  return found;
}

}  // namespace

void PidfdRunner::apply_limits(const config::ComponentSpec& spec, process::SpawnRequest& request) {
  for (const auto& r : spec.limits.rlimits) {
    const unsigned long v = r.unlimited ? RLIM_INFINITY : static_cast<unsigned long>(r.value);
    request.rlimits.push_back({r.resource, v, v});
  }
  if (spec.user) {
    request.set_user = true;
    request.uid = spec.user->uid;
    request.gid = spec.user->gid;
  }
  oom_kills_at_spawn_[spec.name] = global_oom_kills();
  if (!spec.limits.wants_cgroup()) return;
  resources::CgroupLimits limits{spec.limits.memory_max, spec.limits.cpu_max, spec.limits.pids_max};
  if (!cgroups_manager_) cgroups_manager_ = resources::CgroupManager::detect();
  std::string problem;
  if (!cgroups_manager_->available()) {
    problem = cgroups_manager_->unavailable_reason();
  } else if (auto cg = cgroups_manager_->prepare(spec.name, limits)) {
    cgroups_[spec.name] = std::move(*cg);
    request.cgroup_procs_fd = cgroups_[spec.name].procs_fd();
    cgroup_oom_kills_at_spawn_[spec.name] = cgroups_[spec.name].oom_kills();
    return;
  } else {
    problem = cg.error();
  }
  // Said once per component and reason, not at every restart: the rlimits still apply.
  if (cgroup_warned_[spec.name] != problem) {
    cgroup_warned_[spec.name] = problem;
    spdlog::warn("{}: limits memory/cpu/pids not enforced: {}", spec.name, problem);
  }
}

bool PidfdRunner::oom_killed(const std::string& component, pid_t pid) {
  if (auto it = cgroups_.find(component);
      it != cgroups_.end() && it->second.oom_kills() > cgroup_oom_kills_at_spawn_[component]) {
    return true;
  }
  auto at = oom_kills_at_spawn_.find(component);
  if (at == oom_kills_at_spawn_.end() || global_oom_kills() <= at->second) return false;
  return kernel_log_names_oom_victim(pid);
}

supervisor::LaunchResult PidfdRunner::finish_spawn(const config::ComponentSpec& spec,
                                                   process::SpawnResult spawned,
                                                   ExitCallback on_exit) {
  supervisor::LaunchResult result;
  if (!spawned.process) {
    result.error_number = spawned.error.error_number;
    result.error = spawned.error.message;
    return result;
  }
  result.pid = spawned.process->pid;
  if (auto st = process::read_proc_stat(result.pid)) result.start_time = st->start_time;
  remember_session(result.pid, spec.name);
  watch(result.pid, spawned.process->pidfd.release(), spec.name, std::move(on_exit), false);
  return result;
}

supervisor::LaunchResult PidfdRunner::launch(const config::ComponentSpec& spec,
                                             ExitCallback on_exit) {
  return finish_spawn(spec, process::spawn(request_for(spec)), std::move(on_exit));
}

std::vector<supervisor::LaunchResult> PidfdRunner::launch_many(
    const std::vector<supervisor::LaunchRequest>& requests) {
  std::vector<process::SpawnRequest> spawn_requests;
  spawn_requests.reserve(requests.size());
  for (const auto& r : requests) spawn_requests.push_back(request_for(*r.spec));
  std::vector<process::SpawnResult> spawned(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) spawned[i] = process::spawn(spawn_requests[i]);
  std::vector<supervisor::LaunchResult> results;
  results.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    results.push_back(finish_spawn(*requests[i].spec, std::move(spawned[i]), requests[i].on_exit));
  }
  return results;
}

bool PidfdRunner::adopt(const config::ComponentSpec& spec, pid_t pid, std::uint64_t start_time,
                        ExitCallback on_exit) {
  auto st = process::read_proc_stat(pid);
  if (!st || st->start_time != start_time || st->state == 'Z') return false;
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return false;
  // Re-check after opening: the pidfd now pins this exact process.
  auto again = process::read_proc_stat(pid);
  if (!again || again->start_time != start_time) {
    ::close(fd);
    return false;
  }
  capture_for(spec);  // reopens the component's FIFO: its output flows on
  remember_session(again->session, spec.name);
  watch(pid, fd, spec.name, std::move(on_exit), true);
  return true;
}

void PidfdRunner::kill_leftover(pid_t pid, std::uint64_t start_time) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  UniqueFd pidfd(fd);
  // With the pidfd pinning the process, a matching start time means it is the one recorded.
  auto st = process::read_proc_stat(pid);
  if (!st || st->start_time != start_time) return;
  ::kill(-st->pgrp, SIGKILL);
  ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
}

void PidfdRunner::watch(pid_t pid, int pidfd, std::string component, ExitCallback on_exit,
                        bool adopted) {
  Watched w;
  w.component = std::move(component);
  w.pidfd = std::make_unique<asio::posix::stream_descriptor>(io_, pidfd);
  w.on_exit = std::move(on_exit);
  w.adopted = adopted;
  auto& entry = watched_[pid] = std::move(w);
  entry.pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                          [this, pid](const std::error_code& ec) {
                            if (!ec) on_pidfd_ready(pid);
                          });
}

void PidfdRunner::capture_stacks(const std::string& /*component*/, pid_t session, Duration budget,
                                 std::function<void(nlohmann::json)> done) {
  daemon::capture_stacks(io_, *this, session, budget, std::move(done));
}

void PidfdRunner::watch_child(process::SpawnedProcess child, std::string label,
                              ExitCallback on_exit) {
  watch(child.pid, child.pidfd.release(), std::move(label), std::move(on_exit), false);
}

void PidfdRunner::on_pidfd_ready(pid_t pid) {
  auto it = watched_.find(pid);
  if (it == watched_.end()) return;  // already reaped by the SIGCHLD path
  process::ExitStatus status;
  if (!it->second.adopted) {
    siginfo_t info{};
    if (::waitid(P_PIDFD, static_cast<id_t>(it->second.pidfd->native_handle()), &info,
                 WEXITED | WNOHANG) == 0 &&
        info.si_pid != 0) {
      status = process::ExitStatus::from_siginfo(info);
    }
  }
  finish(pid, status);
}

void PidfdRunner::finish(pid_t pid, const process::ExitStatus& status) {
  auto it = watched_.find(pid);
  if (it == watched_.end()) return;
  Watched w = std::move(it->second);
  watched_.erase(it);
  w.pidfd.reset();  // closes the pidfd and drops its pending wait
  w.on_exit(status);
}

void PidfdRunner::wait_sigchld() {
  sigchld_.async_wait([this](const std::error_code& ec, int) {
    if (ec) return;
    reap_orphans();
    wait_sigchld();
  });
}

// SIGCHLD and a main process's pidfd can both report the same exit; whichever runs first reaps
// and dispatches it, and the other finds nothing (the entry is gone, or waitid says ECHILD).
// Main processes are found first with WNOWAIT so that their status goes through finish().
void PidfdRunner::reap_orphans() {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
    const pid_t pid = info.si_pid;
    auto it = watched_.find(pid);
    if (it != watched_.end() && !it->second.adopted) {
      siginfo_t real{};
      ::waitid(P_PIDFD, static_cast<id_t>(it->second.pidfd->native_handle()), &real, WEXITED);
      finish(pid, process::ExitStatus::from_siginfo(real));
      continue;
    }
    // An orphan: attribute it by its session before the zombie disappears.
    std::string component;
    if (auto st = process::read_proc_stat(pid)) {
      if (auto s = sessions_.find(st->session); s != sessions_.end()) component = s->second;
    }
    siginfo_t reaped{};
    ::waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED);
    if (on_orphan_) on_orphan_(component, pid, process::ExitStatus::from_siginfo(reaped));
  }
}

void PidfdRunner::remember_session(pid_t session, const std::string& component) {
  if (sessions_.insert_or_assign(session, component).second) session_order_.push_back(session);
  while (session_order_.size() > 4096) {
    sessions_.erase(session_order_.front());
    session_order_.pop_front();
  }
}

void PidfdRunner::signal_group(pid_t pgid, int sig) {
  process::signal_group(pgid, sig);
}

std::vector<std::string> PidfdRunner::output_tail(const std::string& component, std::size_t n) {
  auto it = captures_.find(component);
  if (it == captures_.end() || n == 0) return {};
  return it->second->log->tail(n);
}

process::OutputLog* PidfdRunner::output(const std::string& component) {
  auto it = captures_.find(component);
  return it == captures_.end() ? nullptr : it->second->log.get();
}

}  // namespace vigil::daemon
