#pragma once
// vigild's DDS participant (Cyclone DDS), speaking ROS 2's wire format without ROS 2: today
// it publishes /diagnostics. Cyclone calls back on its own threads; nothing here is called from
// them, and every method is called on vigild's event loop.
#include <dds/dds.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.hpp"
#include "config/spec.hpp"
#include "dds/diagnostics.hpp"
#include "dds/writer_pids.hpp"

namespace vigil::dds {

// Owns one DDS entity; deleting a participant deletes everything it created.
class Entity {
 public:
  Entity() = default;
  explicit Entity(dds_entity_t e) : e_(e) {}
  Entity(const Entity&) = delete;
  Entity& operator=(const Entity&) = delete;
  Entity(Entity&& o) noexcept : e_(o.e_) { o.e_ = 0; }
  Entity& operator=(Entity&& o) noexcept {
    if (this != &o) {
      reset();
      e_ = o.e_;
      o.e_ = 0;
    }
    return *this;
  }
  ~Entity() { reset(); }
  dds_entity_t get() const { return e_; }
  void reset() {
    if (e_ > 0) dds_delete(e_);
    e_ = 0;
  }

 private:
  dds_entity_t e_ = 0;
};

// The QoS ROS 2 gives a publisher by default (rclcpp: keep last 10, reliable, volatile).
struct QosDeleter {
  void operator()(dds_qos_t* q) const { dds_delete_qos(q); }
};
using Qos = std::unique_ptr<dds_qos_t, QosDeleter>;
Qos ros2_default_qos();
// Latched, as ROS 2 publishers of state do: reliable, transient local, keep last 1.
Qos ros2_latched_qos();

class DdsBridge {
 public:
  static Result<std::unique_ptr<DdsBridge>> create(const config::DdsSpec& spec);
  Result<void> publish(const DiagnosticArray& diagnostics);
  Result<void> publish(const SystemMode& mode);

  // Heartbeats on rt/vigil/heartbeat: `on_beat` is called, on a Cyclone listener thread,
  // with the writer (its publication handle) and the process id of the writer's participant
  // (its __Pid property) for each sample. The caller hands it to the event loop and
  // attributes it like a notify datagram.
  using OnBeat = std::function<void(dds_instance_handle_t writer, pid_t writer_pid)>;
  // A writer's liveliness lease expired: it wrote nothing (MANUAL_BY_TOPIC) or its process
  // went silent (AUTOMATIC) for `lease`. Cyclone's own lease timing decides, to the
  // millisecond; called on a Cyclone thread.
  using OnLost = std::function<void(dds_instance_handle_t writer, dds_duration_t lease)>;
  Result<void> start_heartbeats(OnBeat on_beat, OnLost on_lost);
  dds_entity_t participant() const { return participant_.get(); }

 private:
  DdsBridge() = default;
  Entity participant_;      // declared first: destroyed last, and takes its children with it
  WriterPids writer_pids_;  // used by the readers' listeners: destroyed after them
  Entity diagnostics_writer_;
  Entity mode_writer_;
  Entity heartbeat_reader_;
  OnBeat on_beat_;
  OnLost on_lost_;

  static void on_heartbeat_data(dds_entity_t reader, void* self);
  static void on_liveliness_changed(dds_entity_t reader, dds_liveliness_changed_status_t status,
                                    void* self);
  void take_heartbeats(dds_entity_t reader);
};

}  // namespace vigil::dds
