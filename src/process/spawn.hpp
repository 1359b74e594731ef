#pragma once
// Starting a program: fork with a pidfd (clone3 CLONE_PIDFD), new session and process group,
// argv/env/cwd exactly as given, never a shell. Exec failures come back as an error, not as
// a child that exits 127.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace vigil::process {

struct SpawnRequest {
  std::vector<std::string> argv;  // argv[0] is the path executed
  std::vector<std::string> env;   // complete environment, "KEY=VALUE"
  std::string cwd;
  int output_fd = -1;  // becomes stdout and stderr; -1: /dev/null
  // Adds WATCHDOG_PID=<the child's own pid>, which only the child can know (systemd does the
  // same from its forked child).
  bool set_watchdog_pid = false;
  // Applied by the child before exec, in this order: enter the cgroup, set the rlimits, drop to
  // the user. A failure is a spawn error naming the step.
  struct Rlimit {
    int resource;
    unsigned long soft;
    unsigned long hard;
  };
  std::vector<Rlimit> rlimits;
  int cgroup_procs_fd = -1;  // cgroup.procs of the component's cgroup, or -1
  bool set_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct SpawnedProcess {
  pid_t pid = 0;
  UniqueFd pidfd;  // readable once the process has exited; stays valid until closed
};

struct SpawnError {
  int error_number = 0;  // errno from the child's execve/chdir, or from fork
  std::string message;   // "execve /x: No such file or directory"
};

// Either a running process or why it could not start.
struct SpawnResult {
  std::optional<SpawnedProcess> process;
  SpawnError error;
};

SpawnResult spawn(const SpawnRequest& request);

// Signals a whole process group; ESRCH (already gone) is not an error.
void signal_group(pid_t pgid, int sig);

// Makes vigild the reaper of orphaned descendants and raises its fd limit to the hard limit,
// since it holds several fds per component.
void become_subreaper();
void raise_fd_limit();

}  // namespace vigil::process
