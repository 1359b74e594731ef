// The C API of vigil::file::ModeListener (vigil.h): negative errno values, no exception
// crosses into C.
#include <cerrno>
#include <cstring>
#include <iterator>
#include <new>
#include <system_error>

#include "vigil/mode_file.hpp"
#include "vigil/vigil.h"

struct vigil_file_mode {
  vigil::file::SystemMode mode;
};

struct vigil_file_mode_listener {
  vigil::file::ModeListener listener;
};

namespace {

vigil_file_mode_t* snapshot(const vigil::file::SystemMode& mode) {
  return new (std::nothrow) vigil_file_mode{mode};
}

}  // namespace

extern "C" {

int vigil_file_mode_listener_start(const char* path, vigil_file_mode_fn on_change, void* context,
                                   vigil_file_mode_listener_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  if (path != nullptr && *path == '\0') return -EINVAL;
  try {
    vigil::file::ModeListenerOptions options;
    if (path != nullptr) options.path = path;
    if (on_change != nullptr) {
      options.on_change = [on_change, context](const vigil::file::SystemMode& mode) {
        const vigil_file_mode view{mode};
        on_change(&view, context);
      };
    }
    auto* handle = new vigil_file_mode_listener{vigil::file::ModeListener(std::move(options))};
    const vigil::Status status = handle->listener.status();
    // Not under vigild (no path at all) is not an error: an inactive handle.
    if (!status && !(path == nullptr && status.error() == ENOENT)) {
      delete handle;
      return -status.error();
    }
    *out = handle;
    return 0;
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  } catch (const std::system_error& e) {
    return e.code().value() > 0 ? -e.code().value() : -EIO;
  } catch (...) {
    return -EIO;
  }
}

void vigil_file_mode_listener_stop(vigil_file_mode_listener_t* listener) {
  delete listener;
}

int vigil_file_mode_listener_active(const vigil_file_mode_listener_t* listener) {
  return listener != nullptr && listener->listener.active() ? 1 : 0;
}

int vigil_file_mode_listener_last_read(const vigil_file_mode_listener_t* listener) {
  if (listener == nullptr) return -EINVAL;
  const vigil::Status s = listener->listener.last_read();
  return s.ok() ? 0 : -s.error();
}

size_t vigil_file_mode_listener_status(const vigil_file_mode_listener_t* listener, char* buffer,
                                       size_t capacity) {
  if (listener == nullptr) {
    if (buffer != nullptr && capacity > 0) buffer[0] = '\0';
    return 0;
  }
  try {
    const std::string text = listener->listener.status_detail();
    if (buffer != nullptr && capacity > 0) {
      const size_t n = text.size() < capacity - 1 ? text.size() : capacity - 1;
      std::memcpy(buffer, text.data(), n);
      buffer[n] = '\0';
    }
    return text.size();
  } catch (...) {
    if (buffer != nullptr && capacity > 0) buffer[0] = '\0';
    return 0;
  }
}

int vigil_file_mode_listener_current(const vigil_file_mode_listener_t* listener,
                                     vigil_file_mode_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  if (listener == nullptr) return -EINVAL;
  try {
    const auto mode = listener->listener.current();
    if (!mode) return -ENODATA;
    *out = snapshot(*mode);
    return *out != nullptr ? 0 : -ENOMEM;
  } catch (...) {
    return -ENOMEM;
  }
}

int vigil_file_mode_listener_wait(const vigil_file_mode_listener_t* listener, uint64_t timeout_usec,
                                  vigil_file_mode_t** out) {
  if (out == nullptr) return -EINVAL;
  *out = nullptr;
  if (listener == nullptr) return -EINVAL;
  if (!listener->listener.active()) return -ENODATA;
  try {
    // Rounded up so that a small timeout still waits; capped so the conversion cannot overflow.
    const uint64_t max_ms = 1000ULL * 3600 * 24 * 365;
    const uint64_t ms = timeout_usec / 1000 + (timeout_usec % 1000 != 0 ? 1 : 0);
    const auto mode = listener->listener.wait_for(
        std::chrono::milliseconds(static_cast<long long>(ms < max_ms ? ms : max_ms)));
    if (!mode) return -ETIMEDOUT;
    *out = snapshot(*mode);
    return *out != nullptr ? 0 : -ENOMEM;
  } catch (...) {
    return -ENOMEM;
  }
}

const char* vigil_file_mode_name(const vigil_file_mode_t* mode) {
  return mode != nullptr ? mode->mode.name.c_str() : nullptr;
}
const char* vigil_file_mode_reason(const vigil_file_mode_t* mode) {
  return mode != nullptr ? mode->mode.reason.c_str() : nullptr;
}
int vigil_file_mode_since(const vigil_file_mode_t* mode, int64_t* since_usec) {
  if (mode == nullptr || since_usec == nullptr) return -EINVAL;
  *since_usec =
      std::chrono::duration_cast<std::chrono::microseconds>(mode->mode.stamp.time_since_epoch())
          .count();
  return 0;
}
size_t vigil_file_mode_value_count(const vigil_file_mode_t* mode) {
  return mode != nullptr ? mode->mode.values.size() : 0;
}
const char* vigil_file_mode_value_key_at(const vigil_file_mode_t* mode, size_t index) {
  if (mode == nullptr || index >= mode->mode.values.size()) return nullptr;
  return std::next(mode->mode.values.begin(), static_cast<long>(index))->first.c_str();
}
const char* vigil_file_mode_value_at(const vigil_file_mode_t* mode, size_t index) {
  if (mode == nullptr || index >= mode->mode.values.size()) return nullptr;
  return std::next(mode->mode.values.begin(), static_cast<long>(index))->second.c_str();
}
const char* vigil_file_mode_value(const vigil_file_mode_t* mode, const char* key) {
  if (mode == nullptr || key == nullptr) return nullptr;
  try {
    const auto it = mode->mode.values.find(key);
    return it != mode->mode.values.end() ? it->second.c_str() : nullptr;
  } catch (...) {
    return nullptr;
  }
}
int vigil_file_mode_value_double(const vigil_file_mode_t* mode, const char* key, double* out) {
  if (mode == nullptr || key == nullptr || out == nullptr) return -EINVAL;
  const char* text = vigil_file_mode_value(mode, key);
  if (text == nullptr) return -ENOENT;
  double value = 0;
  if (!vigil::detail::parse_mode_value(text, value)) return -EINVAL;
  *out = value;
  return 0;
}
void vigil_file_mode_free(vigil_file_mode_t* mode) {
  delete mode;
}

}  // extern "C"
