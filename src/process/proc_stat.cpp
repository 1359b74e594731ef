#include "process/proc_stat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "common/unique_fd.hpp"

namespace vigil::process {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char buf[1024];
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  const char* close = std::strrchr(buf, ')');
  if (close == nullptr) return std::nullopt;
  ProcStat st;
  st.pid = pid;
  // Fields from 3: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads itrealvalue starttime
  unsigned long long start = 0;
  const int got = std::sscanf(close + 2,
                              "%c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                              "%*d %*d %llu",
                              &st.state, &st.ppid, &st.pgrp, &st.session, &start);
  if (got != 5) return std::nullopt;
  st.start_time = start;
  return st;
}

}  // namespace vigil::process
