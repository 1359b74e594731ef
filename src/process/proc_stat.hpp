#pragma once
// Facts about a process read from /proc/PID/stat.
#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace vigil::process {

struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
  pid_t session = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot: with the pid, names a process uniquely
  char state = '?';
};

std::optional<ProcStat> read_proc_stat(pid_t pid);

}  // namespace vigil::process
