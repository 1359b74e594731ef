#pragma once
// Which process wrote a sample: the writer's participant announces the __Pid property (Cyclone
// sets it from getpid() of the process that created the participant). vigild attributes DDS
// heartbeats and bond messages to components by it, as it attributes notify datagrams by the
// kernel-checked sender. Thread-safe: listener threads of several readers may ask at once.
#include <dds/dds.h>
#include <sys/types.h>

#include <map>
#include <mutex>

#include "common/result.hpp"

namespace vigil::dds {

class WriterPids {
 public:
  // Reads DCPSParticipant on `participant` (which must outlive this object).
  static Result<void> open(dds_entity_t participant, WriterPids& out);
  WriterPids() = default;
  WriterPids(const WriterPids&) = delete;
  WriterPids& operator=(const WriterPids&) = delete;
  ~WriterPids();

  // The process of the writer `publication` matched by `reader`; 0 when unknown. Cached per
  // publication.
  pid_t pid_of(dds_entity_t reader, dds_instance_handle_t publication);

 private:
  dds_entity_t participants_reader_ = 0;
  std::mutex mutex_;
  std::map<dds_instance_handle_t, pid_t> cache_;
};

}  // namespace vigil::dds
