#pragma once
// The main processes a previous vigild started and may not have recorded: found by what
// vigild gives every component (VIGIL_COMPONENT and its own NOTIFY_SOCKET in the environment,
// and a session of its own). vigild recorded each process in the same SQLite commit as its
// `spawned` event; a kill -9 between the fork and that commit leaves a process nobody knows
// of, which the next vigild must adopt rather than start the component a second time.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::process {

struct Leftover {
  std::string component;
  pid_t pid = 0;
  std::uint64_t start_time = 0;
};

// Session leaders whose environment holds NOTIFY_SOCKET=`notify_socket` and a
// VIGIL_COMPONENT; processes that vanish or cannot be read while scanning are skipped.
std::vector<Leftover> find_leftovers(const std::string& notify_socket);

}  // namespace vigil::process
