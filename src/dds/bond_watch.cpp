#include "dds/bond_watch.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "bond_messages.h"

namespace vigil::dds {

Result<std::unique_ptr<BondWatch>> BondWatch::create(dds_entity_t participant,
                                                     const std::set<std::string>& topics,
                                                     OnStatus on_status) {
  std::unique_ptr<BondWatch> watch(new BondWatch(std::move(on_status)));
  const dds_entity_t participants =
      dds_create_reader(participant, DDS_BUILTIN_TOPIC_DCPSPARTICIPANT, nullptr, nullptr);
  if (participants < 0) {
    return make_error(
        fmt::format("dds: cannot read DCPSParticipant: {}", dds_strretcode(participants)));
  }
  watch->participants_reader_ = Entity(participants);
  // Best effort matches reliable and best-effort writers alike; the weakest liveliness with
  // no lease matches every writer's. Keep a few samples: several writers share the one
  // (keyless) instance, and a broken bond's active=false must not be overwritten unread.
  Qos qos(dds_create_qos());
  dds_qset_reliability(qos.get(), DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_durability(qos.get(), DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 32);
  dds_qset_liveliness(qos.get(), DDS_LIVELINESS_AUTOMATIC, DDS_INFINITY);
  for (const auto& topic : topics) {
    const std::string dds_name = "rt" + topic;  // ROS 2's mapping of a topic name
    const dds_entity_t t = dds_create_topic(participant, &bond_msg_dds__Status__desc,
                                            dds_name.c_str(), nullptr, nullptr);
    if (t < 0) {
      return make_error(
          fmt::format("dds: cannot create topic {}: {}", dds_name, dds_strretcode(t)));
    }
    auto r = std::make_unique<TopicReader>();
    r->watch = watch.get();
    r->topic = topic;
    dds_listener_t* listener = dds_create_listener(r.get());
    dds_lset_data_available(listener, &BondWatch::on_data);
    const dds_entity_t reader = dds_create_reader(participant, t, qos.get(), listener);
    dds_delete_listener(listener);
    if (reader < 0) {
      return make_error(fmt::format("dds: cannot create the bond reader on {}: {}", dds_name,
                                    dds_strretcode(reader)));
    }
    r->reader = Entity(reader);
    watch->readers_.push_back(std::move(r));
  }
  return watch;
}

BondWatch::~BondWatch() {
  // Readers go before the callback and the pid cache they use (deleting a reader waits for
  // its listener to return).
  readers_.clear();
}

void BondWatch::on_data(dds_entity_t reader, void* topic_reader) {
  auto* r = static_cast<TopicReader*>(topic_reader);
  (void)reader;
  r->watch->take(*r);
}

void BondWatch::take(TopicReader& r) {
  constexpr int kBatch = 32;
  void* samples[kBatch] = {};
  dds_sample_info_t infos[kBatch];
  int n = 0;
  const dds_entity_t reader = r.reader.get();
  while ((n = dds_take(reader, samples, infos, kBatch, kBatch)) > 0) {
    for (int i = 0; i < n; ++i) {
      if (!infos[i].valid_data) continue;
      const auto* s = static_cast<const bond_msg_dds__Status_*>(samples[i]);
      BondStatus status;
      status.topic = r.topic;
      status.id = s->id != nullptr ? s->id : "";
      status.instance_id = s->instance_id != nullptr ? s->instance_id : "";
      status.active = s->active;
      status.writer_pid = pid_of(reader, infos[i].publication_handle);
      on_status_(status);
    }
    dds_return_loan(reader, samples, n);
  }
}

// The writer's process: its participant's __Pid property, which Cyclone sets from getpid()
// of the writing process; the same resolution as DdsBridge::pid_of. Cached per publication.
pid_t BondWatch::pid_of(dds_entity_t reader, dds_instance_handle_t publication) {
  {
    std::lock_guard lock(pid_cache_mutex_);
    if (auto it = pid_of_publication_.find(publication); it != pid_of_publication_.end()) {
      return it->second;
    }
  }
  pid_t pid = 0;
  dds_builtintopic_endpoint_t* endpoint = dds_get_matched_publication_data(reader, publication);
  if (endpoint != nullptr) {
    void* samples[1] = {};
    dds_sample_info_t infos[1];
    if (dds_read_instance(participants_reader_.get(), samples, infos, 1, 1,
                          endpoint->participant_instance_handle) == 1) {
      const auto* p = static_cast<dds_builtintopic_participant_t*>(samples[0]);
      char* value = nullptr;
      if (infos[0].valid_data && dds_qget_prop(p->qos, "__Pid", &value)) {
        pid = static_cast<pid_t>(std::strtol(value, nullptr, 10));
        dds_free(value);
      }
      dds_return_loan(participants_reader_.get(), samples, 1);
    }
    dds_builtintopic_free_endpoint(endpoint);
  }
  if (pid > 0) {
    std::lock_guard lock(pid_cache_mutex_);
    // Writers come and go with restarts; the cache stays small.
    if (pid_of_publication_.size() >= 4096) pid_of_publication_.clear();
    pid_of_publication_[publication] = pid;
  }
  return pid;
}

}  // namespace vigil::dds
