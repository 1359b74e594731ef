#pragma once
// Reads ROS 2 bond messages (bond/msg/Status, what Nav2's lifecycle nodes and their lifecycle
// manager publish on /bond every heartbeat period) so that a component's bond can be its
// watchdog signal. One best-effort reader per distinct topic, so that every writer matches
// whatever reliability it offers. Each sample is handed over with the process id of its
// writer (the writer's participant's __Pid property, as DdsBridge resolves heartbeats): the
// caller attributes that process to a component; the bond id alone proves nothing.
//
// The callback runs on a Cyclone listener thread: it must only copy and post to the loop.
#include <dds/dds.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dds/dds_bridge.hpp"
#include "dds/writer_pids.hpp"

namespace vigil::dds {

struct BondStatus {
  std::string topic;        // the ROS 2 topic it came on, as configured (e.g. /bond)
  std::string id;           // the bond's id (Nav2: the node's name)
  std::string instance_id;  // which side of the bond wrote it
  bool active = false;      // false: the writer broke the bond
  pid_t writer_pid = 0;     // 0 when the writer's process could not be resolved
};

class BondWatch {
 public:
  using OnStatus = std::function<void(const BondStatus&)>;

  // `participant`: vigild's (DdsBridge::participant()), which must outlive this object.
  // `topics`: ROS 2 topic names (/bond is DDS topic rt/bond).
  static Result<std::unique_ptr<BondWatch>> create(dds_entity_t participant,
                                                   const std::set<std::string>& topics,
                                                   OnStatus on_status);
  BondWatch(const BondWatch&) = delete;
  BondWatch& operator=(const BondWatch&) = delete;
  ~BondWatch();

 private:
  struct TopicReader {
    BondWatch* watch = nullptr;
    std::string topic;
    Entity reader;
  };

  explicit BondWatch(OnStatus on_status) : on_status_(std::move(on_status)) {}
  static void on_data(dds_entity_t reader, void* topic_reader);
  void take(TopicReader& r);

  OnStatus on_status_;
  WriterPids writer_pids_;
  // Last: deleted first (in ~BondWatch), which waits for running listeners to return.
  std::vector<std::unique_ptr<TopicReader>> readers_;
};

}  // namespace vigil::dds
