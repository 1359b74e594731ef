#include "process/spawn.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace vigil::process {
namespace {

// The fd limit vigild started with; children get it back (vigild raises its own).
rlimit g_child_nofile{0, 0};

// What the child needs, prepared by the parent; the child shares this memory (CLONE_VM) and
// reports a failure by writing `stage` and `error_number` before _exit.
struct ChildContext {
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int output_fd;
  char* pid_slot;  // WATCHDOG_PID value to fill in, or nullptr
  std::size_t pid_room;
  const SpawnRequest::Rlimit* rlimits;
  std::size_t rlimit_count;
  int cgroup_procs_fd;
  bool set_user;
  uid_t uid;
  gid_t gid;
  int failed_rlimit = -1;
  int stage = 0;
  int error_number = 0;
};
enum Stage {
  kStageChdir = 1,
  kStageDup = 2,
  kStageExec = 3,
  kStageSetsid = 4,
  kStageCgroup = 5,
  kStageRlimit = 6,
  kStageUser = 7
};

// Writes the decimal pid into a buffer reserved by the parent; no allocation in the child.
void write_pid(char* out, std::size_t room, pid_t pid) {
  char digits[16];
  int n = 0;
  auto v = static_cast<unsigned>(pid);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 15);
  std::size_t i = 0;
  while (n > 0 && i + 1 < room) out[i++] = digits[--n];
  out[i] = '\0';
}

[[noreturn]] void child_fail(ChildContext& ctx, int stage) {
  ctx.error_number = errno;
  ctx.stage = stage;
  ::_exit(127);
}

// Runs in the child, on its own stack, sharing the parent's memory until execve (the parent
// is suspended meanwhile: CLONE_VFORK). Async-signal-safe calls only.
int child_main(void* arg) {
  auto& ctx = *static_cast<ChildContext*>(arg);
  // The parent blocked every signal around clone(); restore default dispositions (handlers
  // point into vigild's code) before unblocking.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (::sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL) {
      sa.sa_handler = SIG_DFL;
      sa.sa_flags = 0;
      ::sigaction(sig, &sa, nullptr);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (::setsid() < 0) child_fail(ctx, kStageSetsid);
  if (g_child_nofile.rlim_cur != 0) ::setrlimit(RLIMIT_NOFILE, &g_child_nofile);
  if (ctx.cgroup_procs_fd >= 0 && ::write(ctx.cgroup_procs_fd, "0", 1) != 1) {
    child_fail(ctx, kStageCgroup);
  }
  for (std::size_t i = 0; i < ctx.rlimit_count; ++i) {
    const rlimit lim{ctx.rlimits[i].soft, ctx.rlimits[i].hard};
    if (::setrlimit(static_cast<__rlimit_resource>(ctx.rlimits[i].resource), &lim) != 0) {
      ctx.failed_rlimit = static_cast<int>(i);
      child_fail(ctx, kStageRlimit);
    }
  }
  // Last, while still privileged: the rlimits above may need CAP_SYS_RESOURCE.
  if (ctx.set_user &&
      (::setgroups(0, nullptr) != 0 || ::setgid(ctx.gid) != 0 || ::setuid(ctx.uid) != 0)) {
    child_fail(ctx, kStageUser);
  }
  if (ctx.pid_slot != nullptr) write_pid(ctx.pid_slot, ctx.pid_room, ::getpid());
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0) child_fail(ctx, kStageDup);
  const int out = ctx.output_fd >= 0 ? ctx.output_fd : null_fd;
  if (::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) child_fail(ctx, kStageDup);
  if (ctx.cwd != nullptr && ::chdir(ctx.cwd) != 0) child_fail(ctx, kStageChdir);
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  ::execve(ctx.argv[0], ctx.argv, ctx.envp);
  child_fail(ctx, kStageExec);
}

}  // namespace

SpawnResult spawn(const SpawnRequest& request) {
  SpawnResult result;
  if (request.argv.empty()) {
    result.error = {EINVAL, "empty argv"};
    return result;
  }
  std::vector<char*> argv;
  argv.reserve(request.argv.size() + 1);
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env = request.env;
  constexpr std::size_t kPidRoom = 16;
  if (request.set_watchdog_pid) env.push_back("WATCHDOG_PID=" + std::string(kPidRoom, '\0'));
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  ChildContext ctx{};
  ctx.argv = argv.data();
  ctx.envp = envp.data();
  ctx.cwd = request.cwd.empty() ? nullptr : request.cwd.c_str();
  ctx.output_fd = request.output_fd;
  ctx.pid_slot = request.set_watchdog_pid ? envp[env.size() - 1] + 13 : nullptr;
  ctx.pid_room = kPidRoom;
  ctx.rlimits = request.rlimits.data();
  ctx.rlimit_count = request.rlimits.size();
  ctx.cgroup_procs_fd = request.cgroup_procs_fd;
  ctx.set_user = request.set_user;
  ctx.uid = request.uid;
  ctx.gid = request.gid;

  // vfork-style: no page tables are copied, which makes spawning several times faster than
  // fork() and keeps it independent of vigild's size. The child uses this stack until exec.
  alignas(64) static thread_local char stack[64 * 1024];
  sigset_t all;
  sigset_t saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  int pidfd = -1;
  const int pid = ::clone(child_main, stack + sizeof stack,
                          CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &ctx, &pidfd);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) {
    result.error = {clone_errno, fmt::format("clone: {}", std::strerror(clone_errno))};
    return result;
  }
  if (ctx.stage != 0) {
    // The child has already exited: reap it here so it never reaches the loop.
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    ::close(pidfd);
    const char* what = ctx.stage == kStageChdir    ? "chdir"
                       : ctx.stage == kStageExec   ? "execve"
                       : ctx.stage == kStageSetsid ? "setsid"
                       : ctx.stage == kStageCgroup ? "enter cgroup for"
                       : ctx.stage == kStageRlimit ? "setrlimit for"
                       : ctx.stage == kStageUser   ? "switch user for"
                                                   : "set up stdio";
    std::string target = ctx.stage == kStageChdir ? request.cwd : request.argv[0];
    if (ctx.stage == kStageRlimit && ctx.failed_rlimit >= 0) {
      target += fmt::format(" (resource {})", request.rlimits[ctx.failed_rlimit].resource);
    }
    if (ctx.stage == kStageUser)
      target += fmt::format(" (uid {}, gid {})", request.uid, request.gid);
    result.error = {ctx.error_number,
                    fmt::format("{} {}: {}", what, target, std::strerror(ctx.error_number))};
    return result;
  }
  result.process = SpawnedProcess{static_cast<pid_t>(pid), UniqueFd(pidfd)};
  return result;
}

void signal_group(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

void become_subreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    g_child_nofile = lim;
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace vigil::process
