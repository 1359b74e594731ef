#pragma once
#include <signal.h>

#include <string>

namespace vigil::process {

// How a process ended, from waitid()'s siginfo.
struct ExitStatus {
  enum class Kind {
    exited,   // returned from main or called exit(): `code` holds the status
    killed,   // terminated by `signal`
    dumped,   // terminated by `signal` and dumped core
    unknown,  // not our child (adopted after a vigild restart): the status is not observable
  };
  Kind kind = Kind::unknown;
  int code = 0;
  int signal = 0;

  static ExitStatus from_siginfo(const siginfo_t& info);
  static ExitStatus exited_with(int code) { return {Kind::exited, code, 0}; }
  static ExitStatus killed_by(int sig) { return {Kind::killed, 0, sig}; }
  bool clean() const { return kind == Kind::exited && code == 0; }
  // "exited with code 3", "killed by SIGSEGV (core dumped)", "exited cleanly"
  std::string describe() const;
};

}  // namespace vigil::process
