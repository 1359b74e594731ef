#pragma once
// Durable state that survives a crash and a restart.
//
//   vigil::Checkpoint<std::uint64_t> progress("/var/lib/robot/arm/progress");
//   auto restored = progress.load();             // newest valid generation, or nothing
//   std::uint64_t n = restored ? *restored.value : 0;
//   progress.save(n + 1);
//
// Files: PATH.a and PATH.b hold alternating generations, so the newest and the previous one
// are always on disk. save() writes a temporary file (PATH.a.tmp) in the same directory,
// fsyncs it, renames it over the older slot and fsyncs the directory: a crash (kill -9, power
// loss) at any moment leaves both slots either untouched or complete. Each file has a 32-byte
// header (magic "VGCK", format version, generation, payload length, CRC-32 of the payload,
// CRC-32 of the header) before the payload; load() checks all of it and falls back to the
// previous generation when the newest is torn or corrupt (a disk error, a bad copy).
//
// Thread safety: one Checkpoint object may be used from several threads (one mutex). Two
// objects (or processes) saving to the same PATH at the same time are not supported.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "vigil/status.hpp"

namespace vigil {

// CRC-32 (IEEE 802.3, as zlib's crc32()).
std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc = 0);

struct CheckpointLoad {
  // Status: ENOENT when neither file exists (a first start), EBADMSG when files exist but none
  // is valid (detail says why for each), EIO-family errno for a read error, EINVAL when the
  // user's deserializer rejected the newest valid payload.
  Status status;
  std::uint64_t generation = 0;  // of the loaded data
  // The other slot exists but is unusable (torn or corrupt; detail says why): when that was
  // the newest save, this is the fallback to the previous generation.
  bool fell_back = false;
  std::string detail;  // human-readable: which files were rejected and why
};

// The byte-level store under Checkpoint<T>.
class CheckpointStore {
 public:
  explicit CheckpointStore(std::string path);
  // Writes `payload` as the next generation (see above). Errors: the errno of the failing
  // open/write/fsync/rename; EINVAL for an empty path. On failure the previous generations
  // are intact.
  Status save(std::string_view payload);
  // The newest valid payload, or nullopt with `info.status` saying why.
  std::optional<std::string> load(CheckpointLoad& info);
  const std::string& path() const { return path_; }
  std::string slot_path(int slot) const;  // PATH.a (0) or PATH.b (1)

 private:
  std::optional<std::string> load_locked(CheckpointLoad& info);

  std::string path_;
  std::mutex mutex_;
  bool scanned_ = false;  // next_slot_/next_generation_ known
  int next_slot_ = 0;     // slot not holding the newest valid generation
  std::uint64_t next_generation_ = 1;
};

template <typename T>
struct CheckpointResult : CheckpointLoad {
  std::optional<T> value;
  explicit operator bool() const { return value.has_value(); }
};

template <typename T>
class Checkpoint {
 public:
  using Serialize = std::function<std::string(const T&)>;
  // Returns false when the bytes are not a valid T.
  using Deserialize = std::function<bool(std::string_view bytes, T& out)>;

  // For std::string and trivially copyable T (stored as their bytes: same build, same host).
  explicit Checkpoint(std::string path) : store_(std::move(path)) {
    static_assert(std::is_same_v<T, std::string> || std::is_trivially_copyable_v<T>,
                  "give Checkpoint serialize/deserialize functions for this type");
    serialize_ = [](const T& v) {
      if constexpr (std::is_same_v<T, std::string>) {
        return v;
      } else {
        return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
      }
    };
    deserialize_ = [](std::string_view bytes, T& out) {
      if constexpr (std::is_same_v<T, std::string>) {
        out.assign(bytes.data(), bytes.size());
        return true;
      } else {
        if (bytes.size() != sizeof(T)) return false;
        std::memcpy(static_cast<void*>(&out), bytes.data(), sizeof(T));
        return true;
      }
    };
  }
  Checkpoint(std::string path, Serialize serialize, Deserialize deserialize)
      : store_(std::move(path)),
        serialize_(std::move(serialize)),
        deserialize_(std::move(deserialize)) {}

  Status save(const T& value) { return store_.save(serialize_(value)); }

  CheckpointResult<T> load() {
    CheckpointResult<T> result;
    auto bytes = store_.load(result);
    if (!bytes) return result;
    T value{};
    if (!deserialize_(*bytes, value)) {
      result.status = Status::from_errno(EINVAL);
      result.detail += "the deserializer rejected generation " + std::to_string(result.generation);
      return result;
    }
    result.value = std::move(value);
    return result;
  }
  const std::string& path() const { return store_.path(); }

 private:
  CheckpointStore store_;
  Serialize serialize_;
  Deserialize deserialize_;
};

}  // namespace vigil
