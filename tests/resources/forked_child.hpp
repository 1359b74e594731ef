#pragma once
// Real processes for the resource tests: a forked child in its own session (as vigild runs
// components), a pipe on which it reports readiness, and a pipe whose closing tells it to
// stop. Tests wait on the readiness pipe, never on sleeps.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>

namespace vigil::resources::test_support {

class ForkedChild {
 public:
  // Runs body(ready_fd, stop_fd) in a child that has called setsid(); body must not return
  // into the test framework, so the child _exits with whatever it returns. stop_fd reads EOF
  // when the test is done with the child.
  template <typename Body>
  static ForkedChild start(Body body) {
    int ready[2];
    int stop[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(stop, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2");
    }
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
      ::setsid();
      // Drop every other inherited fd, in particular earlier children's stop pipes, whose
      // EOF would otherwise never arrive.
      for (int fd = 3; fd < 1024; ++fd) {
        if (fd != ready[1] && fd != stop[0]) ::close(fd);
      }
      ::_exit(body(ready[1], stop[0]));
    }
    ::close(ready[1]);
    ::close(stop[0]);
    return ForkedChild(pid, ready[0], stop[1]);
  }

  ForkedChild(ForkedChild&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        ready_fd_(std::exchange(o.ready_fd_, -1)),
        stop_fd_(std::exchange(o.stop_fd_, -1)) {}
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  ~ForkedChild() { stop(); }

  pid_t pid() const { return pid_; }

  // Blocks until the child tree has written `count` readiness bytes.
  void wait_ready(int count) {
    char byte;
    for (int i = 0; i < count; ++i) {
      if (::read(ready_fd_, &byte, 1) != 1) throw std::runtime_error("child died before ready");
    }
  }

  // Asks the child to finish (EOF on stop_fd) and reaps it; after 5 s, kills its whole
  // process group instead. Returns the wait status.
  int stop() {
    if (pid_ < 0) return 0;
    if (stop_fd_ >= 0) ::close(std::exchange(stop_fd_, -1));
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    pollfd exited{pidfd, POLLIN, 0};
    if (pidfd < 0 || ::poll(&exited, 1, 5000) != 1) ::kill(-pid_, SIGKILL);
    if (pidfd >= 0) ::close(pidfd);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (ready_fd_ >= 0) ::close(std::exchange(ready_fd_, -1));
    pid_ = -1;
    return status;
  }

  // For children that never read stop_fd (a busy loop): SIGKILL to the group, then reap.
  void kill_group() {
    if (pid_ > 0) ::kill(-pid_, SIGKILL);
    stop();
  }

 private:
  ForkedChild(pid_t pid, int ready_fd, int stop_fd)
      : pid_(pid), ready_fd_(ready_fd), stop_fd_(stop_fd) {}

  pid_t pid_ = -1;
  int ready_fd_ = -1;
  int stop_fd_ = -1;
};

// Blocks the calling child until the test closes the stop pipe.
inline void wait_for_stop(int stop_fd) {
  char byte;
  while (::read(stop_fd, &byte, 1) > 0) {
  }
}

}  // namespace vigil::resources::test_support
