#pragma once
// For tests with real Cyclone DDS participants: loopback only (the machine has no other
// network; dds/cyclonedds-loopback.xml says why each setting is there), and a domain per test,
// since test processes run in parallel and must not see each other.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace vigil::testing {

// Every participant of the test process and of the vigild it starts (which inherits it).
inline void use_loopback_dds() {
  ::setenv("CYCLONEDDS_URI", "file://" VIGIL_SOURCE_DIR "/dds/cyclonedds-loopback.xml", 1);
}

// A domain no other running test uses: each domain 1..200 has a lock file, and a test holds
// the lock of its domain until its process exits (the kernel releases it even after a crash).
// Two tests that picked the same domain by chance once saw each other's /scan publishers.
inline int private_domain() {
  const int start = static_cast<int>(::getpid() % 200);
  for (int i = 0; i < 200; ++i) {
    const int domain = 1 + (start + i) % 200;
    const std::string path = "/tmp/vigil-test-dds-domain-" + std::to_string(domain) + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return domain;  // fd stays open: the lock is held
    ::close(fd);
  }
  return 1 + static_cast<int>(::getpid() % 200);  // every domain taken: share one
}

}  // namespace vigil::testing
