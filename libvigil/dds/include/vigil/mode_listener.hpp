#pragma once
// The robot's current system mode, as vigild publishes it on the DDS topic rt/vigil/mode
// (ROS 2 topic /vigil/mode, vigil_msgs/SystemMode): a name ("nominal", ...), why, and the
// values the mode sets for components (e.g. max_speed), as strings. Part of libvigil_dds
// (CMake vigil::dds, pkg-config vigil-dds).
//
// vigild writes the mode reliable + TRANSIENT_LOCAL, keep last 1, and the listener reads with
// the same QoS: a listener that starts after the mode was set gets it at once.
//
// Threads: the on_change callback runs on whichever thread delivers the sample: a Cyclone DDS
// receive thread when vigild (another process) writes, the writing thread itself (inside
// dds_write) when the writer is in this process, and, for the mode already known when the
// listener starts, possibly the constructing thread before the constructor returns. So: keep
// it short, synchronise what it touches, use the mode it is given rather than the listener
// object, and never destroy the ModeListener from inside it (the destructor waits for a
// running callback to return). Callbacks never run concurrently with each other.
// All methods may be called from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "vigil/status.hpp"
#include "vigil/system_mode.hpp"

namespace vigil {

struct ModeListenerOptions {
  // DDS domain. Default: ROS_DOMAIN_ID from the environment, else 0.
  std::optional<std::uint32_t> domain;
  // An existing participant (a dds_entity_t) to read in; it must outlive the listener, and its
  // domain wins. 0: the listener creates (and deletes) a participant of its own.
  std::int32_t participant = 0;
  // Called with the new mode when it first arrives and each time its name, reason or values
  // change (a re-publication of the same mode with a new stamp is not a change). Not on the
  // caller's thread in general: see the note at the top.
  std::function<void(const SystemMode&)> on_change;
};

class ModeListener {
 public:
  explicit ModeListener(ModeListenerOptions options = {});
  ModeListener(ModeListener&&) noexcept;  // a moved-from listener is inactive
  ModeListener& operator=(ModeListener&&) noexcept;
  ModeListener(const ModeListener&) = delete;
  ModeListener& operator=(const ModeListener&) = delete;
  ~ModeListener();  // deletes the reader (waiting for a running callback) and own participant

  // Ok when the reader was created; else why not (EINVAL, ENOMEM, EIO; status_detail()).
  Status status() const;
  std::string status_detail() const;

  // The last mode received, or nullopt before the first.
  std::optional<SystemMode> current() const;
  // Waits up to `timeout` until a mode is known (and, with a predicate, until the current
  // mode satisfies it); returns that mode, or nullopt on timeout or an inactive listener.
  // The predicate runs with an internal lock held: it must not call back into the listener.
  std::optional<SystemMode> wait_for(
      std::chrono::milliseconds timeout,
      const std::function<bool(const SystemMode&)>& predicate = {}) const;
  // current()->value<T>(key), nullopt when no mode is known yet.
  template <typename T>
  std::optional<T> value(std::string_view key) const {
    auto mode = current();
    return mode ? mode->value<T>(key) : std::nullopt;
  }
  std::uint64_t samples_received() const;  // valid samples taken, changes or not

  std::uint32_t domain() const;
  std::int32_t participant() const;  // the dds_entity_t used (0 when inactive)
  std::int32_t reader() const;       // the dds_entity_t of the reader (0 when inactive)

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vigil
