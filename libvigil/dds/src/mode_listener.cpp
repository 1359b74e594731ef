#include "vigil/mode_listener.hpp"

#include <dds/dds.h>

#include <cerrno>
#include <charconv>
#include <clocale>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "dds_support.hpp"
#include "ros2_types_private.h"

namespace vigil {

using dds_support::Entity;

struct ModeListener::State {
  std::uint32_t domain = 0;
  std::function<void(const SystemMode&)> on_change;

  Status status = Status::from_errno(EINVAL);
  std::string status_detail = "not started";
  Entity own_participant;
  dds_entity_t participant = 0;
  Entity topic;
  Entity reader;

  // Serialises take(): the constructor's first take and Cyclone's listener could otherwise
  // store two samples in the wrong order, and callbacks run one at a time.
  std::mutex take_mutex;
  mutable std::mutex mutex;  // the mode and the count
  mutable std::condition_variable changed;
  std::optional<SystemMode> mode;
  std::uint64_t samples = 0;

  void fail(dds_return_t rc, std::string what) {
    status = Status::from_errno(dds_support::errno_of(rc));
    status_detail = std::move(what);
  }

  static SystemMode from_sample(const vigil_msgs_msg_dds__SystemMode_& s) {
    SystemMode m;
    m.name = s.mode != nullptr ? s.mode : "";
    m.reason = s.reason != nullptr ? s.reason : "";
    for (std::uint32_t i = 0; i < s.values._length; ++i) {
      const auto& kv = s.values._buffer[i];
      m.values[kv.key != nullptr ? kv.key : ""] = kv.value != nullptr ? kv.value : "";
    }
    const auto since_epoch =
        std::chrono::seconds(s.stamp.sec) + std::chrono::nanoseconds(s.stamp.nanosec);
    m.stamp = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
    return m;
  }

  // On a Cyclone listener thread.
  static void on_data_available(dds_entity_t reader, void* arg) {
    static_cast<State*>(arg)->take(reader);
  }

  void take(dds_entity_t from) {
    std::lock_guard take_lock(take_mutex);
    for (;;) {
      void* samples_out[8] = {};
      dds_sample_info_t infos[8];
      const dds_return_t n = dds_take(from, samples_out, infos, 8, 8);
      if (n <= 0) return;
      for (dds_return_t i = 0; i < n; ++i) {
        if (!infos[i].valid_data) continue;  // a disposal or a writer gone: the mode stays
        SystemMode next =
            from_sample(*static_cast<const vigil_msgs_msg_dds__SystemMode_*>(samples_out[i]));
        bool is_change = false;
        {
          std::lock_guard lock(mutex);
          ++samples;
          is_change = !mode || !mode->same_as(next);
          mode = next;
        }
        changed.notify_all();
        if (is_change && on_change) {
          try {
            on_change(next);
          } catch (...) {
            // An exception must not unwind into Cyclone's C thread; the mode is stored anyway.
          }
        }
      }
      dds_return_loan(from, samples_out, n);
    }
  }

  void create(std::int32_t given_participant) {
    std::string what;
    participant = dds_support::participant_for(given_participant, domain, own_participant, what);
    if (participant < 0) {
      fail(participant, what);
      participant = 0;
      return;
    }
    if (given_participant != 0) {
      dds_domainid_t actual = 0;
      if (dds_get_domainid(participant, &actual) == DDS_RETCODE_OK) domain = actual;
    }
    const dds_entity_t t = dds_create_topic(participant, &vigil_msgs_msg_dds__SystemMode__desc,
                                            "rt/vigil/mode", nullptr, nullptr);
    if (t < 0) {
      fail(t, std::string("dds_create_topic(rt/vigil/mode): ") + dds_strretcode(t));
      return;
    }
    topic = Entity(t);
    // vigild's writer QoS: a late joiner gets the latched mode from the writer's history.
    dds_qos_t* qos = dds_create_qos();
    dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
    dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
    dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
    dds_listener_t* listener = dds_create_listener(this);
    dds_lset_data_available(listener, &State::on_data_available);
    const dds_entity_t r = dds_create_reader(participant, t, qos, listener);
    dds_delete_listener(listener);
    dds_delete_qos(qos);
    if (r < 0) {
      fail(r, std::string("dds_create_reader(rt/vigil/mode): ") + dds_strretcode(r));
      return;
    }
    reader = Entity(r);
    status = Status();
    status_detail = "ok";
    // Historical data may have arrived before the listener could fire for it.
    take(r);
  }

  ~State() {
    // Deleting the reader waits for a callback in progress, so none runs on a dead State.
    reader.reset();
    topic.reset();
    own_participant.reset();
  }
};

ModeListener::ModeListener(ModeListenerOptions options) : state_(std::make_unique<State>()) {
  state_->domain = options.domain ? *options.domain : dds_support::domain_from_environment();
  state_->on_change = std::move(options.on_change);
  state_->create(options.participant);
}

ModeListener::ModeListener(ModeListener&&) noexcept = default;
ModeListener& ModeListener::operator=(ModeListener&&) noexcept = default;
ModeListener::~ModeListener() = default;

Status ModeListener::status() const {
  return state_ ? state_->status : Status::from_errno(EINVAL);
}
std::string ModeListener::status_detail() const {
  return state_ ? state_->status_detail : "moved from";
}

std::optional<SystemMode> ModeListener::current() const {
  if (!state_) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  return state_->mode;
}

std::optional<SystemMode> ModeListener::wait_for(
    std::chrono::milliseconds timeout,
    const std::function<bool(const SystemMode&)>& predicate) const {
  if (!state_ || !state_->status) return std::nullopt;
  std::unique_lock lock(state_->mutex);
  const bool met = state_->changed.wait_for(
      lock, timeout, [&] { return state_->mode && (!predicate || predicate(*state_->mode)); });
  if (!met) return std::nullopt;
  return state_->mode;
}

std::uint64_t ModeListener::samples_received() const {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->samples;
}
std::uint32_t ModeListener::domain() const {
  return state_ ? state_->domain : 0;
}
std::int32_t ModeListener::participant() const {
  return state_ && state_->status ? state_->participant : 0;
}
std::int32_t ModeListener::reader() const {
  return state_ ? state_->reader.get() : 0;
}

}  // namespace vigil
