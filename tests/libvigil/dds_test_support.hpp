#pragma once
// Shared by the libvigil_dds tests: real Cyclone DDS participants on loopback, a private domain
// per test, and polling with a generous deadline (DDS discovery is asynchronous).
#include <dds/dds.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <thread>

#include "support/dds_env.hpp"

namespace vigil::dds_testing {

using namespace std::chrono_literals;

using testing::use_loopback_dds;

inline std::uint32_t private_domain() {
  return static_cast<std::uint32_t>(testing::private_domain());
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
