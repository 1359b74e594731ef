// The C API of libvigil_dds: thin wrappers that turn Status into negative errno values and
// never let an exception cross into C.
#include <cerrno>
#include <cstdint>
#include <new>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "vigil/dds_heartbeat.hpp"
#include "vigil/mode_listener.hpp"
#include "vigil/vigil_dds.h"

struct vigil_dds_heartbeat {
  vigil::DdsHeartbeat heartbeat;
};

struct vigil_mode {
  vigil::SystemMode mode;
  // Flattened for index access; pointers into mode.values (a std::map never moves its nodes).
  std::vector<const std::pair<const std::string, std::string>*> by_index;

  explicit vigil_mode(vigil::SystemMode m) : mode(std::move(m)) {
    for (const auto& kv : mode.values) by_index.push_back(&kv);
  }
  vigil_mode(const vigil_mode&) = delete;  // by_index points into this very object
  vigil_mode& operator=(const vigil_mode&) = delete;
};

struct vigil_mode_listener {
  vigil_mode_fn on_change = nullptr;
  void* context = nullptr;
  std::optional<vigil::ModeListener> listener;  // set once started
};

namespace {

int to_c(const vigil::Status& s) {
  return s.ok() ? 0 : -s.error();
}

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

std::optional<std::uint32_t> c_domain(int64_t domain, bool& valid) {
  valid = domain >= -1 && domain < static_cast<int64_t>(UINT32_MAX);
  if (domain < 0) return std::nullopt;
  return static_cast<std::uint32_t>(domain);
}

constexpr std::uint64_t kMaxUsec = 1'000'000'000'000ull;  // 11.6 days: beyond is a mistake

}  // namespace

extern "C" {

void vigil_dds_heartbeat_options_init(vigil_dds_heartbeat_options_t* options) {
  if (options == nullptr) return;
  *options = vigil_dds_heartbeat_options_t{};
  options->domain = -1;
  options->own_thread = 1;
}

int vigil_dds_heartbeat_start(const vigil_dds_heartbeat_options_t* options,
                              vigil_dds_heartbeat_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  vigil_dds_heartbeat_options_t defaults;
  vigil_dds_heartbeat_options_init(&defaults);
  const vigil_dds_heartbeat_options_t& o = options != nullptr ? *options : defaults;
  bool domain_valid = false;
  const auto domain = c_domain(o.domain, domain_valid);
  if (!domain_valid || o.lease_usec > kMaxUsec || o.period_usec > kMaxUsec) return -EINVAL;
  return guarded([&] {
    vigil::DdsHeartbeatOptions cpp;
    cpp.domain = domain;
    if (o.component != nullptr) cpp.component = std::string(o.component);
    if (o.lease_usec > 0)
      cpp.lease = std::chrono::microseconds(static_cast<std::int64_t>(o.lease_usec));
    if (o.period_usec > 0)
      cpp.period = std::chrono::microseconds(static_cast<std::int64_t>(o.period_usec));
    cpp.own_thread = o.own_thread != 0;
    if (o.healthy != nullptr) {
      cpp.healthy = [fn = o.healthy, context = o.healthy_context] { return fn(context) != 0; };
    }
    cpp.participant = o.participant;
    auto handle = std::make_unique<vigil_dds_heartbeat>(
        vigil_dds_heartbeat{vigil::DdsHeartbeat(std::move(cpp))});
    if (const auto s = handle->heartbeat.status(); !s) return to_c(s);
    *out = handle.release();
    return 0;
  });
}

int vigil_dds_heartbeat_beat(vigil_dds_heartbeat_t* heartbeat) {
  if (heartbeat == nullptr) return -EINVAL;
  return guarded([&] { return to_c(heartbeat->heartbeat.beat()); });
}

void vigil_dds_heartbeat_stop(vigil_dds_heartbeat_t* heartbeat) {
  delete heartbeat;  // the destructor stops the thread and deletes the entities
}

uint64_t vigil_dds_heartbeat_beats(const vigil_dds_heartbeat_t* heartbeat) {
  return heartbeat != nullptr ? heartbeat->heartbeat.beats_sent() : 0;
}
uint64_t vigil_dds_heartbeat_lease_usec(const vigil_dds_heartbeat_t* heartbeat) {
  return heartbeat != nullptr ? static_cast<uint64_t>(heartbeat->heartbeat.lease().count()) : 0;
}
uint64_t vigil_dds_heartbeat_period_usec(const vigil_dds_heartbeat_t* heartbeat) {
  return heartbeat != nullptr ? static_cast<uint64_t>(heartbeat->heartbeat.period().count()) : 0;
}

int vigil_mode_listener_start(int64_t domain, int32_t participant, vigil_mode_fn on_change,
                              void* context, vigil_mode_listener_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  bool domain_valid = false;
  const auto resolved_domain = c_domain(domain, domain_valid);
  if (!domain_valid) return -EINVAL;
  return guarded([&] {
    auto handle = std::make_unique<vigil_mode_listener>();
    handle->on_change = on_change;
    handle->context = context;
    vigil::ModeListenerOptions options;
    options.domain = resolved_domain;
    options.participant = participant;
    if (on_change != nullptr) {
      options.on_change = [fn = on_change, context](const vigil::SystemMode& m) {
        const vigil_mode snapshot(m);
        fn(&snapshot, context);
      };
    }
    handle->listener.emplace(std::move(options));
    if (const auto s = handle->listener->status(); !s) return to_c(s);
    *out = handle.release();
    return 0;
  });
}

void vigil_mode_listener_stop(vigil_mode_listener_t* listener) {
  delete listener;
}

int vigil_mode_listener_current(const vigil_mode_listener_t* listener, vigil_mode_t** out) {
  if (out != nullptr) *out = nullptr;
  if (listener == nullptr || out == nullptr) return -EINVAL;
  return guarded([&] {
    auto mode = listener->listener->current();
    if (!mode) return -ENODATA;
    *out = new vigil_mode(std::move(*mode));
    return 0;
  });
}

int vigil_mode_listener_wait(const vigil_mode_listener_t* listener, uint64_t timeout_usec,
                             vigil_mode_t** out) {
  if (out != nullptr) *out = nullptr;
  if (listener == nullptr || out == nullptr || timeout_usec > kMaxUsec) return -EINVAL;
  return guarded([&] {
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::microseconds(static_cast<std::int64_t>(timeout_usec)) +
        std::chrono::microseconds(999));  // round up: never return before the time asked
    auto mode = listener->listener->wait_for(timeout);
    if (!mode) return -ETIMEDOUT;
    *out = new vigil_mode(std::move(*mode));
    return 0;
  });
}

const char* vigil_mode_name(const vigil_mode_t* mode) {
  return mode != nullptr ? mode->mode.name.c_str() : nullptr;
}
const char* vigil_mode_reason(const vigil_mode_t* mode) {
  return mode != nullptr ? mode->mode.reason.c_str() : nullptr;
}
int vigil_mode_stamp(const vigil_mode_t* mode, int32_t* sec, uint32_t* nanosec) {
  if (mode == nullptr) return -EINVAL;
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mode->mode.stamp.time_since_epoch());
  const auto whole = std::chrono::floor<std::chrono::seconds>(since_epoch);
  if (sec != nullptr) *sec = static_cast<int32_t>(whole.count());
  if (nanosec != nullptr) *nanosec = static_cast<uint32_t>((since_epoch - whole).count());
  return 0;
}
size_t vigil_mode_value_count(const vigil_mode_t* mode) {
  return mode != nullptr ? mode->by_index.size() : 0;
}
const char* vigil_mode_value_key_at(const vigil_mode_t* mode, size_t index) {
  if (mode == nullptr || index >= mode->by_index.size()) return nullptr;
  return mode->by_index[index]->first.c_str();
}
const char* vigil_mode_value_at(const vigil_mode_t* mode, size_t index) {
  if (mode == nullptr || index >= mode->by_index.size()) return nullptr;
  return mode->by_index[index]->second.c_str();
}
const char* vigil_mode_value(const vigil_mode_t* mode, const char* key) {
  if (mode == nullptr || key == nullptr) return nullptr;
  const auto it = mode->mode.values.find(key);
  return it != mode->mode.values.end() ? it->second.c_str() : nullptr;
}
int vigil_mode_value_double(const vigil_mode_t* mode, const char* key, double* out) {
  if (mode == nullptr || key == nullptr || out == nullptr) return -EINVAL;
  if (mode->mode.values.find(key) == mode->mode.values.end()) return -ENOENT;
  const auto value = mode->mode.value<double>(key);
  if (!value) return -EINVAL;
  *out = *value;
  return 0;
}
void vigil_mode_free(vigil_mode_t* mode) {
  delete mode;
}

}  // extern "C"
