#pragma once
// What DdsHeartbeat and ModeListener share: owned entities, errors, the environment.
#include <dds/dds.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "vigil/status.hpp"

namespace vigil::dds_support {

// Owns one DDS entity; deleting it deletes its children (a participant its topics, ...).
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

// A DDS return code as an errno value (libvigil's Status).
inline int errno_of(dds_return_t rc) {
  switch (rc) {
    case DDS_RETCODE_OK:
      return 0;
    case DDS_RETCODE_BAD_PARAMETER:
    case DDS_RETCODE_INCONSISTENT_POLICY:
    case DDS_RETCODE_PRECONDITION_NOT_MET:
    case DDS_RETCODE_ILLEGAL_OPERATION:
      return EINVAL;
    case DDS_RETCODE_OUT_OF_RESOURCES:
      return ENOMEM;
    case DDS_RETCODE_TIMEOUT:
      return ETIMEDOUT;
    case DDS_RETCODE_ALREADY_DELETED:
      return EBADF;
    default:
      return EIO;
  }
}

// The domain as ROS 2 chooses it: ROS_DOMAIN_ID when a valid number, else 0.
inline std::uint32_t domain_from_environment() {
  const char* text = std::getenv("ROS_DOMAIN_ID");
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (errno != 0 || *end != '\0' || text[0] == '-' || value >= DDS_DOMAIN_DEFAULT) return 0;
  return static_cast<std::uint32_t>(value);
}

// The participant to use: the caller's, or a new one we own (stored in `owned`). Returns the
// entity (> 0) or a negative DDS return code; `what` names the failing step.
inline dds_entity_t participant_for(std::int32_t given, std::uint32_t domain, Entity& owned,
                                    std::string& what) {
  if (given != 0) {
    // dds_get_participant of a participant is itself; of anything else, another entity or an
    // error.
    if (given < 0 || dds_get_participant(given) != given) {
      what = "the given participant is not a DDS participant";
      return DDS_RETCODE_BAD_PARAMETER;
    }
    return given;
  }
  const dds_entity_t p = dds_create_participant(domain, nullptr, nullptr);
  if (p < 0) {
    what = "dds_create_participant(domain " + std::to_string(domain) + "): " + dds_strretcode(p);
    return p;
  }
  owned = Entity(p);
  return p;
}

}  // namespace vigil::dds_support
