#pragma once
// A heartbeat over DDS (part of libvigil_dds, CMake vigil::dds, pkg-config vigil-dds): writes
// vigil_msgs/Heartbeat on the DDS topic rt/vigil/heartbeat (ROS 2 topic /vigil/heartbeat),
// which vigild reads instead of WATCHDOG=1 datagrams. vigild attributes a beat to the writing
// process (its participant's pid), so a component beats from its own process.
//
// The writer offers MANUAL_BY_TOPIC liveliness with a lease equal to the component's watchdog
// timeout, so any DDS reader learns that the component went silent from its liveliness status
// alone; each beat is a write, which asserts liveliness. QoS: best effort, keep last 1,
// volatile.
//
// Like vigil::Heartbeat, it beats from its own thread every period() while the health
// predicate holds, or only when beat() is called (own_thread = false).
//
// Errors: nothing throws for a DDS failure (except std::bad_alloc, and std::system_error when
// the thread cannot be started). A heartbeat whose entities could not be created is inactive:
// status() says why, beat() returns that error, no thread runs.
//
// Thread safety: beat(), beats_sent(), running() and the getters may be called from any thread.
// The destructor stops the thread (promptly: it waits on a condition variable) and deletes the
// writer and topic, and the participant when the heartbeat created it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "vigil/status.hpp"

namespace vigil {

struct DdsHeartbeatOptions {
  // DDS domain. Default: ROS_DOMAIN_ID from the environment (as ROS 2 chooses it), else 0.
  std::optional<std::uint32_t> domain;
  // The `component` field of each sample; informative only (vigild attributes by process).
  // Default: VIGIL_COMPONENT (vigild sets it to the component's name), else "".
  std::optional<std::string> component;
  // The liveliness lease offered. Default: the watchdog timeout (WATCHDOG_USEC when meant for
  // this pid, see vigil::watchdog_interval()), else 1 s. Must be positive.
  std::optional<std::chrono::microseconds> lease;
  // How often the thread beats. Default: lease / 3, so one lost sample does not expire the
  // lease. Must be positive and shorter than the lease.
  std::optional<std::chrono::microseconds> period;
  // true: beat every period from a thread of the heartbeat's own; false: only on beat().
  bool own_thread = true;
  // Returns true when the program is healthy (called before each beat, from the beating
  // thread); an exception counts as unhealthy. Empty: always healthy.
  std::function<bool()> healthy;
  // An existing participant (a dds_entity_t) to create the topic and writer in; it must
  // outlive the heartbeat, and its domain wins over `domain`. 0: the heartbeat creates (and
  // deletes) a participant of its own.
  std::int32_t participant = 0;
};

class DdsHeartbeat {
 public:
  // Resolves the options against the environment and creates the DDS entities.
  explicit DdsHeartbeat(DdsHeartbeatOptions options = {});
  // A moved-from heartbeat is inactive (status() EINVAL).
  DdsHeartbeat(DdsHeartbeat&&) noexcept;
  DdsHeartbeat& operator=(DdsHeartbeat&&) noexcept;
  DdsHeartbeat(const DdsHeartbeat&) = delete;
  DdsHeartbeat& operator=(const DdsHeartbeat&) = delete;
  ~DdsHeartbeat();

  // Ok when the entities were created; else why not (EINVAL for invalid options, ENOMEM, EIO
  // for other DDS errors; status_detail() has DDS's own words).
  Status status() const;
  std::string status_detail() const;

  // One beat now, if healthy: Status{} when written, EAGAIN when the predicate says
  // unhealthy, else the creation or write error.
  Status beat();
  void stop();  // stops and joins the thread; idempotent; beat() still works afterwards
  bool running() const;
  std::uint64_t beats_sent() const;  // successful writes, by either path

  std::chrono::microseconds lease() const;   // as offered (resolved from the options)
  std::chrono::microseconds period() const;  // resolved, even when own_thread is false
  std::uint32_t domain() const;
  std::string component() const;
  std::int32_t participant() const;  // the dds_entity_t used (0 when inactive)
  std::int32_t writer() const;       // the dds_entity_t of the writer (0 when inactive)

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vigil
