#include "dds/topic_taps.hpp"

#include <dds/ddsi/ddsi_serdata.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "dds/raw_cdr_type.hpp"

namespace vigil::dds {

struct TopicTaps::Tap {
  TopicTaps* owner = nullptr;
  std::string topic;
  std::string type_name;
  Entity topic_entity;  // declared before the reader: deleted after it
  Entity reader;
};

Result<std::unique_ptr<TopicTaps>> TopicTaps::create(dds_entity_t participant, Wake wake) {
  std::unique_ptr<TopicTaps> taps(new TopicTaps());
  taps->participant_ = participant;
  taps->wake_ = std::move(wake);
  dds_listener_t* listener = dds_create_listener(taps.get());
  dds_lset_data_available(listener, &TopicTaps::on_publications);
  const dds_entity_t reader =
      dds_create_reader(participant, DDS_BUILTIN_TOPIC_DCPSPUBLICATION, nullptr, listener);
  dds_delete_listener(listener);
  if (reader < 0) {
    return make_error(fmt::format("dds: cannot read DCPSPublication: {}", dds_strretcode(reader)));
  }
  taps->publications_reader_ = Entity(reader);
  return taps;
}

TopicTaps::~TopicTaps() {
  // Listeners first: deleting a reader waits for its callbacks to return.
  publications_reader_.reset();
  taps_.clear();
}

void TopicTaps::on_publications(dds_entity_t reader, void* self) {
  static_cast<TopicTaps*>(self)->read_publications(reader, DDS_NOT_READ_SAMPLE_STATE);
}

// Reads (does not take: a topic watched later must still find its publishers) the publications
// in `sample_states`, remembers those alive, and queues those of tapped topics for the loop.
void TopicTaps::read_publications(dds_entity_t reader, std::uint32_t sample_states) {
  constexpr int kBatch = 64;
  void* samples[kBatch] = {};
  dds_sample_info_t infos[kBatch];
  bool found = false;
  std::vector<dds_instance_handle_t> gone;
  for (;;) {
    const int n = dds_read_mask(reader, samples, infos, kBatch, kBatch,
                                sample_states | DDS_ANY_VIEW_STATE | DDS_ANY_INSTANCE_STATE);
    if (n <= 0) break;
    {
      std::lock_guard lock(mutex_);
      for (int i = 0; i < n; ++i) {
        const auto* endpoint = static_cast<const dds_builtintopic_endpoint_t*>(samples[i]);
        const dds_instance_handle_t handle = infos[i].instance_handle;
        if (infos[i].instance_state != DDS_IST_ALIVE) {
          alive_publications_.erase(handle);
          gone.push_back(handle);
          continue;
        }
        if (!infos[i].valid_data || endpoint->topic_name == nullptr ||
            endpoint->type_name == nullptr) {
          continue;
        }
        alive_publications_[handle] = endpoint->topic_name;
        if (topics_.count(endpoint->topic_name) == 0) continue;
        Publication p;
        p.topic = endpoint->topic_name;
        p.type_name = endpoint->type_name;
        // The last octet of an endpoint's GUID is its kind: 0x02 a writer with a key.
        p.keyed = (endpoint->key.v[15] & 0x3f) == 0x02;
        dds_ownership_kind_t ownership = DDS_OWNERSHIP_SHARED;
        if (endpoint->qos != nullptr && dds_qget_ownership(endpoint->qos, &ownership)) {
          p.exclusive = ownership == DDS_OWNERSHIP_EXCLUSIVE;
        }
        std::uint32_t count = 0;
        char** names = nullptr;
        if (endpoint->qos != nullptr && dds_qget_partition(endpoint->qos, &count, &names)) {
          for (std::uint32_t k = 0; k < count; ++k) {
            p.partitions.emplace_back(names[k]);
            dds_free(names[k]);
          }
          dds_free(names);
        }
        discovered_.push_back(std::move(p));
        found = true;
      }
    }
    dds_return_loan(reader, samples, n);
    if (n < kBatch) break;
  }
  // Components restart for days: the publications they leave behind are forgotten.
  for (const dds_instance_handle_t handle : gone) {
    void* sample[1] = {};
    dds_sample_info_t info[1];
    while (dds_take_instance(reader, sample, info, 1, 1, handle) > 0) {
      dds_return_loan(reader, sample, 1);
    }
  }
  if (found && wake_) wake_();
}

void TopicTaps::set_topics(const std::set<std::string>& dds_topics) {
  {
    std::lock_guard lock(mutex_);
    if (dds_topics == topics_) return;
    topics_ = dds_topics;
    for (auto it = arrivals_.begin(); it != arrivals_.end();) {
      it = topics_.count(it->first) ? std::next(it) : arrivals_.erase(it);
    }
  }
  for (auto it = taps_.begin(); it != taps_.end();) {
    it = dds_topics.count(it->second->topic) ? std::next(it) : taps_.erase(it);
  }
  for (auto it = errors_.begin(); it != errors_.end();) {
    it = dds_topics.count(it->first) ? std::next(it) : errors_.erase(it);
  }
  // Publishers already known for newly tapped topics: read them all again.
  read_publications(publications_reader_.get(), DDS_ANY_SAMPLE_STATE);
}

void TopicTaps::subscribe_discovered() {
  std::vector<Publication> discovered;
  {
    std::lock_guard lock(mutex_);
    discovered.swap(discovered_);
  }
  for (const auto& p : discovered) open_tap(p);
}

void TopicTaps::open_tap(const Publication& p) {
  std::string key =
      fmt::format("{}|{}|{}{}", p.topic, p.type_name, p.exclusive ? 'x' : 's', p.keyed ? 'k' : 'n');
  for (const auto& partition : p.partitions) key += "|" + partition;
  if (taps_.count(key) != 0) return;
  auto tap = std::make_unique<Tap>();
  tap->owner = this;
  tap->topic = p.topic;
  tap->type_name = p.type_name;
  const dds_entity_t topic = create_raw_topic(participant_, p.topic, p.type_name, p.keyed);
  if (topic < 0) {
    // Most likely two publishers disagree on the type of one topic.
    errors_[p.topic] =
        fmt::format("cannot tap {} as type {}: {}", p.topic, p.type_name, dds_strretcode(topic));
    spdlog::warn("dds: {}", errors_[p.topic]);
    return;
  }
  tap->topic_entity = Entity(topic);
  // Best effort matches every writer and costs a reliable one no acknowledgements: a monitor
  // must never slow a sensor down. Volatile: old samples would fake a rate. Ownership and
  // partitions must be the publisher's for the two to match at all.
  Qos qos(dds_create_qos());
  dds_qset_reliability(qos.get(), DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_durability(qos.get(), DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos.get(), DDS_HISTORY_KEEP_LAST, 16);
  dds_qset_ownership(qos.get(), p.exclusive ? DDS_OWNERSHIP_EXCLUSIVE : DDS_OWNERSHIP_SHARED);
  const dds_data_representation_id_t representations[] = {DDS_DATA_REPRESENTATION_XCDR1,
                                                          DDS_DATA_REPRESENTATION_XCDR2};
  dds_qset_data_representation(qos.get(), 2, representations);
  if (!p.partitions.empty()) {
    std::vector<const char*> names;
    for (const auto& n : p.partitions) names.push_back(n.c_str());
    dds_qset_partition(qos.get(), static_cast<std::uint32_t>(names.size()), names.data());
  }
  dds_listener_t* listener = dds_create_listener(tap.get());
  dds_lset_data_available(listener, &TopicTaps::on_data);
  const dds_entity_t reader = dds_create_reader(participant_, topic, qos.get(), listener);
  dds_delete_listener(listener);
  if (reader < 0) {
    errors_[p.topic] = fmt::format("cannot subscribe to {} ({}): {}", p.topic, p.type_name,
                                   dds_strretcode(reader));
    spdlog::warn("dds: {}", errors_[p.topic]);
    return;
  }
  tap->reader = Entity(reader);
  errors_.erase(p.topic);
  spdlog::info("dds: monitoring {} ({}{})", p.topic, p.type_name,
               p.exclusive ? ", exclusive ownership" : "");
  taps_.emplace(std::move(key), std::move(tap));
}

void TopicTaps::on_data(dds_entity_t reader, void* arg) {
  auto* tap = static_cast<Tap*>(arg);
  constexpr int kBatch = 64;
  ddsi_serdata* samples[kBatch];
  dds_sample_info_t infos[kBatch];
  int n = 0;
  while ((n = dds_takecdr(reader, samples, kBatch, infos, DDS_ANY_STATE)) > 0) {
    const TimePoint now = MonoClock::now();
    int valid = 0;
    for (int i = 0; i < n; ++i) {
      if (infos[i].valid_data) ++valid;
      ddsi_serdata_unref(samples[i]);
    }
    if (valid == 0) continue;
    std::lock_guard lock(tap->owner->mutex_);
    auto& arrivals = tap->owner->arrivals_[tap->topic];
    // Bounded: a loop that stops draining must not let a fast topic eat the memory.
    if (arrivals.size() < 1'000'000) arrivals.insert(arrivals.end(), valid, now);
  }
}

std::map<std::string, std::vector<TimePoint>> TopicTaps::drain() {
  std::map<std::string, std::vector<TimePoint>> out;
  std::lock_guard lock(mutex_);
  for (auto& [topic, arrivals] : arrivals_) {
    if (!arrivals.empty()) out[topic].swap(arrivals);
  }
  return out;
}

std::size_t TopicTaps::publishers(const std::string& dds_topic) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [handle, topic] : alive_publications_) n += topic == dds_topic ? 1 : 0;
  return n;
}

nlohmann::json TopicTaps::describe(const std::string& dds_topic) const {
  nlohmann::json j = {{"publishers", publishers(dds_topic)}};
  nlohmann::json types = nlohmann::json::array();
  for (const auto& [key, tap] : taps_) {
    if (tap->topic == dds_topic) types.push_back(tap->type_name);
  }
  j["types"] = types;
  if (auto it = errors_.find(dds_topic); it != errors_.end()) j["error"] = it->second;
  return j;
}

}  // namespace vigil::dds
