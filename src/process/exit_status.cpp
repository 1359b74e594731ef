#include "process/exit_status.hpp"

#include <fmt/format.h>

#include "common/units.hpp"

namespace vigil::process {

ExitStatus ExitStatus::from_siginfo(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return {Kind::exited, info.si_status, 0};
    case CLD_KILLED:
      return {Kind::killed, 0, info.si_status};
    case CLD_DUMPED:
      return {Kind::dumped, 0, info.si_status};
    default:
      return {Kind::unknown, 0, 0};
  }
}

std::string ExitStatus::describe() const {
  switch (kind) {
    case Kind::exited:
      return code == 0 ? std::string("exited cleanly") : fmt::format("exited with code {}", code);
    case Kind::killed:
      return fmt::format("killed by {}", signal_name(signal));
    case Kind::dumped:
      return fmt::format("killed by {} (core dumped)", signal_name(signal));
    case Kind::unknown:
      return "exited (status unknown: not vigild's child)";
  }
  return "?";
}

}  // namespace vigil::process
