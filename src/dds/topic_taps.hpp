#pragma once
// Taps on DDS topics of any type, for topic monitors: vigild learns each topic's type name and
// QoS from the built-in DCPSPublication topic, subscribes with a raw-CDR reader (see
// raw_cdr_type.hpp) whose QoS matches every publisher, and records the arrival time of each
// message. The event loop drains the arrivals; it never sees the messages.
//
// Threads: discovery and arrivals happen on Cyclone's listener threads, which only fill
// queues under a mutex and call `wake` (which must hand over to the loop); every public
// method is called on the loop.
#include <dds/dds.h>

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/scheduler.hpp"
#include "dds/dds_bridge.hpp"

namespace vigil::dds {

class TopicTaps {
 public:
  using Wake = std::function<void()>;
  // `participant` must outlive the taps.
  static Result<std::unique_ptr<TopicTaps>> create(dds_entity_t participant, Wake wake);
  ~TopicTaps();
  TopicTaps(const TopicTaps&) = delete;
  TopicTaps& operator=(const TopicTaps&) = delete;

  // The DDS topics to tap; taps of topics no longer listed are removed.
  void set_topics(const std::set<std::string>& dds_topics);
  // Subscribes to publications discovered since the last call (after `wake`).
  void subscribe_discovered();
  // Arrival times recorded since the last drain, per topic, oldest first.
  std::map<std::string, std::vector<TimePoint>> drain();
  // Per topic: type name, publishers alive, readers, errors.
  nlohmann::json describe(const std::string& dds_topic) const;
  std::size_t publishers(const std::string& dds_topic) const;

 private:
  struct Publication {
    std::string topic;
    std::string type_name;
    bool keyed = false;
    bool exclusive = false;
    std::vector<std::string> partitions;
  };
  struct Tap;  // one reader: a topic, type name, ownership and partitions

  TopicTaps() = default;
  static void on_publications(dds_entity_t reader, void* self);
  static void on_data(dds_entity_t reader, void* tap);
  void read_publications(dds_entity_t reader, std::uint32_t sample_states);
  void open_tap(const Publication& p);

  dds_entity_t participant_ = 0;  // not owned
  Entity publications_reader_;
  Wake wake_;

  mutable std::mutex mutex_;  // guards the members below
  std::set<std::string> topics_;
  std::vector<Publication> discovered_;
  std::map<dds_instance_handle_t, std::string> alive_publications_;  // -> topic
  std::map<std::string, std::vector<TimePoint>> arrivals_;

  // Loop only.
  std::map<std::string, std::unique_ptr<Tap>> taps_;  // by topic|type|ownership|partitions
  std::map<std::string, std::string> errors_;         // by topic
};

}  // namespace vigil::dds
