#include "dds/dds_bridge.hpp"

#include <fmt/format.h>

#include <vector>

#include "ros2_messages.h"

namespace vigil::dds {

Qos ros2_default_qos() {
  Qos qos(dds_create_qos());
  dds_qset_reliability(qos.get(), DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos.get(), DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 10);
  return qos;
}

Qos ros2_latched_qos() {
  Qos qos(dds_create_qos());
  dds_qset_reliability(qos.get(), DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos.get(), DDS_DURABILITY_TRANSIENT_LOCAL);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 1);
  return qos;
}

Result<std::unique_ptr<DdsBridge>> DdsBridge::create(const config::DdsSpec& spec) {
  std::unique_ptr<DdsBridge> bridge(new DdsBridge());
  const dds_entity_t participant =
      dds_create_participant(static_cast<dds_domainid_t>(spec.domain), nullptr, nullptr);
  if (participant < 0) {
    return make_error(
        fmt::format("dds: cannot create a participant on domain {}: {} (check "
                    "CYCLONEDDS_URI)",
                    spec.domain, dds_strretcode(participant)));
  }
  bridge->participant_ = Entity(participant);
  // ROS 2 topic /diagnostics is the DDS topic rt/diagnostics.
  const dds_entity_t topic =
      dds_create_topic(participant, &diagnostic_msgs_msg_dds__DiagnosticArray__desc,
                       "rt/diagnostics", nullptr, nullptr);
  if (topic < 0) {
    return make_error(
        fmt::format("dds: cannot create topic rt/diagnostics: {}", dds_strretcode(topic)));
  }
  auto qos = ros2_default_qos();
  const dds_entity_t writer = dds_create_writer(participant, topic, qos.get(), nullptr);
  if (writer < 0) {
    return make_error(
        fmt::format("dds: cannot create the /diagnostics writer: {}", dds_strretcode(writer)));
  }
  bridge->diagnostics_writer_ = Entity(writer);

  const dds_entity_t mode_topic = dds_create_topic(
      participant, &vigil_msgs_msg_dds__SystemMode__desc, "rt/vigil/mode", nullptr, nullptr);
  if (mode_topic < 0) {
    return make_error(
        fmt::format("dds: cannot create topic rt/vigil/mode: {}", dds_strretcode(mode_topic)));
  }
  auto latched = ros2_latched_qos();
  const dds_entity_t mode_writer =
      dds_create_writer(participant, mode_topic, latched.get(), nullptr);
  if (mode_writer < 0) {
    return make_error(
        fmt::format("dds: cannot create the /vigil/mode writer: {}", dds_strretcode(mode_writer)));
  }
  bridge->mode_writer_ = Entity(mode_writer);
  return bridge;
}

Result<void> DdsBridge::publish(const DiagnosticArray& a) {
  // The C sample points into `a` (dds_write serialises before it returns).
  auto chars = [](const std::string& s) { return const_cast<char*>(s.c_str()); };
  std::vector<std::vector<diagnostic_msgs_msg_dds__KeyValue_>> values(a.status.size());
  std::vector<diagnostic_msgs_msg_dds__DiagnosticStatus_> status(a.status.size());
  for (std::size_t i = 0; i < a.status.size(); ++i) {
    const auto& s = a.status[i];
    for (const auto& [key, value] : s.values) values[i].push_back({chars(key), chars(value)});
    status[i].level = s.level;
    status[i].name = chars(s.name);
    status[i].message = chars(s.message);
    status[i].hardware_id = chars(s.hardware_id);
    status[i].values._maximum = static_cast<std::uint32_t>(values[i].size());
    status[i].values._length = static_cast<std::uint32_t>(values[i].size());
    status[i].values._buffer = values[i].data();
    status[i].values._release = false;
  }
  diagnostic_msgs_msg_dds__DiagnosticArray_ sample{};
  sample.header.stamp.sec = a.sec;
  sample.header.stamp.nanosec = a.nanosec;
  sample.header.frame_id = chars(a.frame_id);
  sample.status._maximum = static_cast<std::uint32_t>(status.size());
  sample.status._length = static_cast<std::uint32_t>(status.size());
  sample.status._buffer = status.data();
  sample.status._release = false;
  const dds_return_t rc = dds_write(diagnostics_writer_.get(), &sample);
  if (rc < 0) return make_error(fmt::format("dds: write /diagnostics: {}", dds_strretcode(rc)));
  return {};
}

Result<void> DdsBridge::start_heartbeats(OnBeat on_beat, OnLost on_lost) {
  on_beat_ = std::move(on_beat);
  on_lost_ = std::move(on_lost);
  const dds_entity_t participant = participant_.get();
  if (auto r = WriterPids::open(participant, writer_pids_); !r) return make_error(r.error());
  const dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                                              "rt/vigil/heartbeat", nullptr, nullptr);
  if (topic < 0) {
    return make_error(
        fmt::format("dds: cannot create topic rt/vigil/heartbeat: {}", dds_strretcode(topic)));
  }
  // Requests the weakest liveliness with no lease limit, so that every writer matches
  // whatever lease it offers.
  Qos qos(dds_create_qos());
  dds_qset_reliability(qos.get(), DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 1);
  dds_qset_liveliness(qos.get(), DDS_LIVELINESS_AUTOMATIC, DDS_INFINITY);
  dds_listener_t* listener = dds_create_listener(this);
  dds_lset_data_available(listener, &DdsBridge::on_heartbeat_data);
  dds_lset_liveliness_changed(listener, &DdsBridge::on_liveliness_changed);
  const dds_entity_t reader = dds_create_reader(participant, topic, qos.get(), listener);
  dds_delete_listener(listener);
  if (reader < 0) {
    return make_error(
        fmt::format("dds: cannot create the heartbeat reader: {}", dds_strretcode(reader)));
  }
  heartbeat_reader_ = Entity(reader);
  return {};
}

void DdsBridge::on_heartbeat_data(dds_entity_t reader, void* self) {
  static_cast<DdsBridge*>(self)->take_heartbeats(reader);
}

void DdsBridge::take_heartbeats(dds_entity_t reader) {
  constexpr int kBatch = 32;
  void* samples[kBatch] = {};
  dds_sample_info_t infos[kBatch];
  int n = 0;
  while ((n = dds_take(reader, samples, infos, kBatch, kBatch)) > 0) {
    for (int i = 0; i < n; ++i) {
      if (!infos[i].valid_data) continue;
      const pid_t pid = writer_pids_.pid_of(reader, infos[i].publication_handle);
      if (pid > 0) on_beat_(infos[i].publication_handle, pid);
    }
    dds_return_loan(reader, samples, n);
  }
}

void DdsBridge::on_liveliness_changed(dds_entity_t reader, dds_liveliness_changed_status_t status,
                                      void* self) {
  auto* bridge = static_cast<DdsBridge*>(self);
  // A writer deleted in an orderly way only leaves (alive_count falls); a lost one turns
  // not-alive.
  if (status.not_alive_count_change <= 0 || !bridge->on_lost_) return;
  dds_duration_t lease = DDS_INFINITY;
  if (dds_builtintopic_endpoint_t* endpoint =
          dds_get_matched_publication_data(reader, status.last_publication_handle)) {
    dds_liveliness_kind_t kind{};
    if (endpoint->qos != nullptr) dds_qget_liveliness(endpoint->qos, &kind, &lease);
    dds_builtintopic_free_endpoint(endpoint);
  }
  bridge->on_lost_(status.last_publication_handle, lease);
}

Result<void> DdsBridge::publish(const SystemMode& m) {
  auto chars = [](const std::string& s) { return const_cast<char*>(s.c_str()); };
  std::vector<diagnostic_msgs_msg_dds__KeyValue_> values;
  for (const auto& [key, value] : m.values) values.push_back({chars(key), chars(value)});
  vigil_msgs_msg_dds__SystemMode_ sample{};
  sample.stamp.sec = m.sec;
  sample.stamp.nanosec = m.nanosec;
  sample.mode = chars(m.mode);
  sample.reason = chars(m.reason);
  sample.values._maximum = static_cast<std::uint32_t>(values.size());
  sample.values._length = static_cast<std::uint32_t>(values.size());
  sample.values._buffer = values.data();
  sample.values._release = false;
  const dds_return_t rc = dds_write(mode_writer_.get(), &sample);
  if (rc < 0) return make_error(fmt::format("dds: write /vigil/mode: {}", dds_strretcode(rc)));
  return {};
}

}  // namespace vigil::dds
