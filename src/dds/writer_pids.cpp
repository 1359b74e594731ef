#include "dds/writer_pids.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace vigil::dds {

Result<void> WriterPids::open(dds_entity_t participant, WriterPids& out) {
  const dds_entity_t reader =
      dds_create_reader(participant, DDS_BUILTIN_TOPIC_DCPSPARTICIPANT, nullptr, nullptr);
  if (reader < 0) {
    return make_error(fmt::format("dds: cannot read DCPSParticipant: {}", dds_strretcode(reader)));
  }
  out.participants_reader_ = reader;
  return {};
}

WriterPids::~WriterPids() {
  if (participants_reader_ > 0) dds_delete(participants_reader_);
}

pid_t WriterPids::pid_of(dds_entity_t reader, dds_instance_handle_t publication) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(publication); it != cache_.end()) return it->second;
  }
  pid_t pid = 0;
  dds_builtintopic_endpoint_t* endpoint = dds_get_matched_publication_data(reader, publication);
  if (endpoint != nullptr) {
    void* samples[1] = {};
    dds_sample_info_t infos[1];
    if (dds_read_instance(participants_reader_, samples, infos, 1, 1,
                          endpoint->participant_instance_handle) == 1) {
      const auto* p = static_cast<dds_builtintopic_participant_t*>(samples[0]);
      char* value = nullptr;
      if (infos[0].valid_data && dds_qget_prop(p->qos, "__Pid", &value)) {
        pid = static_cast<pid_t>(std::strtol(value, nullptr, 10));
        dds_free(value);
      }
      dds_return_loan(participants_reader_, samples, 1);
    }
    dds_builtintopic_free_endpoint(endpoint);
  }
  if (pid > 0) {
    std::lock_guard lock(mutex_);
    // Writers come and go with restarts; the cache stays small.
    if (cache_.size() >= 4096) cache_.clear();
    cache_[publication] = pid;
  }
  return pid;
}

}  // namespace vigil::dds
