// The C API: thin wrappers that turn Status into negative errno values and never let an
// exception cross into C.
#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "vigil/checkpoint.hpp"
#include "vigil/heartbeat.hpp"
#include "vigil/notify.hpp"
#include "vigil/vigil.h"

struct vigil_heartbeat {
  vigil::Heartbeat heartbeat;
};

struct vigil_checkpoint {
  explicit vigil_checkpoint(std::string path) : store(std::move(path)) {}
  vigil::CheckpointStore store;
};

namespace {

int to_c(const vigil::Status& s) {
  return s.ok() ? 0 : -s.error();
}

// Runs `f`, mapping exceptions (allocation, thread creation) to negative errno values.
template <typename F>
int guarded(F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::system_error& e) {
    return e.code().value() > 0 ? -e.code().value() : -EIO;
  } catch (...) {
    return -EIO;
  }
}

}  // namespace

extern "C" {

int vigil_notify(const char* message) {
  if (message == nullptr) return -EINVAL;
  return guarded([&] { return to_c(vigil::notify(message)); });
}
int vigil_notify_ready(void) {
  return guarded([] { return to_c(vigil::notify_ready()); });
}
int vigil_notify_status(const char* text) {
  if (text == nullptr) return -EINVAL;
  return guarded([&] { return to_c(vigil::notify_status(text)); });
}
int vigil_notify_stopping(void) {
  return guarded([] { return to_c(vigil::notify_stopping()); });
}
int vigil_notify_watchdog(void) {
  return guarded([] { return to_c(vigil::notify_watchdog()); });
}
int vigil_extend_timeout(uint64_t usec) {
  if (usec > 1'000'000'000'000ull) return -EINVAL;
  return guarded([&] {
    return to_c(vigil::extend_timeout(std::chrono::microseconds(static_cast<std::int64_t>(usec))));
  });
}

int vigil_watchdog_interval(uint64_t* usec) {
  if (usec == nullptr) return -EINVAL;
  return guarded([&] {
    const auto interval = vigil::watchdog_interval();
    *usec = interval ? static_cast<uint64_t>(interval->count()) : 0;
    return interval ? 1 : 0;
  });
}

int vigil_loop_name_valid(const char* name) {
  return name != nullptr && vigil::is_valid_loop_name(name) ? 1 : 0;
}

int vigil_loop_declare(const char* name, uint64_t deadline_usec) {
  if (!vigil_loop_name_valid(name) || deadline_usec == 0 || deadline_usec > 1'000'000'000'000ull)
    return -EINVAL;
  return guarded([&] {
    return to_c(vigil::notify(std::string("VIGIL_LOOP=") + name +
                              "\nVIGIL_LOOP_USEC=" + std::to_string(deadline_usec)));
  });
}
int vigil_loop_beat(const char* name) {
  if (!vigil_loop_name_valid(name)) return -EINVAL;
  return guarded(
      [&] { return to_c(vigil::notify(std::string("WATCHDOG=1\nVIGIL_LOOP=") + name)); });
}
int vigil_loop_retire(const char* name) {
  if (!vigil_loop_name_valid(name)) return -EINVAL;
  return guarded([&] {
    return to_c(vigil::notify(std::string("VIGIL_LOOP=") + name + "\nVIGIL_LOOP_USEC=0"));
  });
}

int vigil_heartbeat_start(uint64_t period_usec, vigil_health_fn healthy, void* context,
                          vigil_heartbeat_t** out) {
  if (out == nullptr || period_usec == 0 || period_usec > 1'000'000'000'000ull) return -EINVAL;
  *out = nullptr;
  return guarded([&] {
    vigil::Heartbeat::HealthPredicate predicate;
    if (healthy != nullptr) predicate = [healthy, context] { return healthy(context) != 0; };
    *out = new vigil_heartbeat{vigil::Heartbeat(
        std::chrono::microseconds(static_cast<std::int64_t>(period_usec)), std::move(predicate))};
    return 0;
  });
}

int vigil_heartbeat_start_from_environment(vigil_health_fn healthy, void* context,
                                           vigil_heartbeat_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  uint64_t interval = 0;
  const int rc = vigil_watchdog_interval(&interval);
  if (rc <= 0) return rc;
  return vigil_heartbeat_start(interval / 2 > 0 ? interval / 2 : 1, healthy, context, out);
}

void vigil_heartbeat_stop(vigil_heartbeat_t* heartbeat) {
  delete heartbeat;
}

uint64_t vigil_heartbeat_beats(const vigil_heartbeat_t* heartbeat) {
  return heartbeat != nullptr ? heartbeat->heartbeat.beats_sent() : 0;
}

int vigil_checkpoint_open(const char* path, vigil_checkpoint_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  if (path == nullptr || *path == '\0') return -EINVAL;
  return guarded([&] {
    *out = new vigil_checkpoint(path);
    return 0;
  });
}

void vigil_checkpoint_close(vigil_checkpoint_t* checkpoint) {
  delete checkpoint;
}

int vigil_checkpoint_save(vigil_checkpoint_t* checkpoint, const void* data, size_t size) {
  if (checkpoint == nullptr || (data == nullptr && size > 0)) return -EINVAL;
  return guarded([&] {
    return to_c(checkpoint->store.save(
        std::string_view(size > 0 ? static_cast<const char*>(data) : "", size)));
  });
}

int vigil_checkpoint_load(vigil_checkpoint_t* checkpoint, void* buffer, size_t capacity,
                          size_t* size, uint64_t* generation) {
  if (checkpoint == nullptr || size == nullptr || (buffer == nullptr && capacity > 0))
    return -EINVAL;
  return guarded([&] {
    vigil::CheckpointLoad info;
    auto payload = checkpoint->store.load(info);
    if (!payload) return to_c(info.status);
    *size = payload->size();
    if (payload->size() > capacity) return -EMSGSIZE;
    if (!payload->empty()) std::memcpy(buffer, payload->data(), payload->size());
    if (generation != nullptr) *generation = info.generation;
    return 0;
  });
}

}  // extern "C"
