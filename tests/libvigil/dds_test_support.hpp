#pragma once
// Shared by the libvigil_dds tests: real Cyclone DDS participants on loopback, a private domain
// per test, and polling with a generous deadline (DDS discovery is asynchronous).
#include <dds/dds.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

namespace vigil::dds_testing {

using namespace std::chrono_literals;

// Every participant in the test process: loopback, unicast (the machine has no other network).
inline void use_loopback_dds() {
  ::setenv("CYCLONEDDS_URI", "file://" VIGIL_SOURCE_DIR "/dds/cyclonedds-loopback.xml", 1);
}

// Test processes run in parallel (ctest -j) and tests in one process one after another: each
// test gets a domain of its own.
inline std::uint32_t private_domain() {
  static int next = 0;
  return 1 + static_cast<std::uint32_t>((::getpid() * 7 + next++) % 200);
}

// Polls `condition` until it holds or `deadline` passes.
inline bool poll_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds deadline = 10s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);  // polling interval, not a synchronisation
  }
  return true;
}

// Owns a participant (and so everything created in it).
class Participant {
 public:
  explicit Participant(std::uint32_t domain)
      : p_(dds_create_participant(domain, nullptr, nullptr)) {}
  ~Participant() {
    if (p_ > 0) dds_delete(p_);
  }
  Participant(const Participant&) = delete;
  Participant& operator=(const Participant&) = delete;
  dds_entity_t get() const { return p_; }

 private:
  dds_entity_t p_;
};

}  // namespace vigil::dds_testing
