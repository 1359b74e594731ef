#pragma once
// For tests with real Cyclone DDS participants: loopback only (the machine has no other
// network; dds/cyclonedds-loopback.xml says why each setting is there), and a domain per test,
// since test processes run in parallel and must not see each other.
#include <unistd.h>

#include <cstdlib>

namespace vigil::testing {

// Every participant of the test process and of the vigild it starts (which inherits it).
inline void use_loopback_dds() {
  ::setenv("CYCLONEDDS_URI", "file://" VIGIL_SOURCE_DIR "/dds/cyclonedds-loopback.xml", 1);
}

// A domain of this test's own: from the process id (ctest runs each test in a process) and a
// counter (tests in one process run one after another).
inline int private_domain() {
  static int next = 0;
  return 1 + static_cast<int>((::getpid() * 7 + next++) % 200);
}

}  // namespace vigil::testing
