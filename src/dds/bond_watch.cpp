#include "dds/bond_watch.hpp"

#include <fmt/format.h>


#include "bond_messages.h"

namespace vigil::dds {

Result<std::unique_ptr<BondWatch>> BondWatch::create(dds_entity_t participant,
                                                     const std::set<std::string>& topics,
                                                     OnStatus on_status) {
  std::unique_ptr<BondWatch> watch(new BondWatch(std::move(on_status)));
  if (auto r = WriterPids::open(participant, watch->writer_pids_); !r) return make_error(r.error());
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
      status.writer_pid = writer_pids_.pid_of(reader, infos[i].publication_handle);
      on_status_(status);
    }
    dds_return_loan(reader, samples, n);
  }
}

}  // namespace vigil::dds
