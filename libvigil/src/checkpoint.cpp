#include "vigil/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace vigil {
namespace {

constexpr char kMagic[4] = {'V', 'G', 'C', 'K'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 32;
// A payload larger than this is taken as a corrupt length, not an allocation to attempt.
constexpr std::uint64_t kMaxPayload = 1ull << 30;

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// Little-endian on disk whatever the host, so a checkpoint header reads the same everywhere.
void put_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release_and_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno(errno);
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct SlotRead {
  bool exists = false;
  bool valid = false;
  std::uint64_t generation = 0;
  std::string payload;
  std::string problem;  // why it is not valid
  int read_error = 0;
};

SlotRead read_slot(const std::string& path) {
  SlotRead r;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno != ENOENT) {
      r.exists = true;
      r.read_error = errno;
      r.problem = std::string("cannot open: ") + std::strerror(errno);
    }
    return r;
  }
  r.exists = true;
  std::string bytes;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.read_error = errno;
      r.problem = std::string("read error: ") + std::strerror(errno);
      return r;
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kMaxPayload + kHeaderSize) {
      r.problem = "larger than any checkpoint";
      return r;
    }
  }
  if (bytes.size() < kHeaderSize) {
    r.problem = "truncated header (" + std::to_string(bytes.size()) + " bytes)";
    return r;
  }
  const char* h = bytes.data();
  if (std::memcmp(h, kMagic, 4) != 0) {
    r.problem = "not a checkpoint (bad magic)";
    return r;
  }
  if (get_u32(h + 28) != crc32(h, 28)) {
    r.problem = "header checksum mismatch";
    return r;
  }
  if (get_u32(h + 4) != kFormatVersion) {
    r.problem = "unknown format version " + std::to_string(get_u32(h + 4));
    return r;
  }
  const std::uint64_t generation = get_u64(h + 8);
  const std::uint64_t length = get_u64(h + 16);
  if (length != bytes.size() - kHeaderSize) {
    r.problem = "payload is " + std::to_string(bytes.size() - kHeaderSize) +
                " bytes, header says " + std::to_string(length) + " (torn write)";
    return r;
  }
  if (get_u32(h + 24) != crc32(h + kHeaderSize, length)) {
    r.problem = "payload checksum mismatch";
    return r;
  }
  r.valid = true;
  r.generation = generation;
  r.payload = bytes.substr(kHeaderSize);
  return r;
}

}  // namespace

std::uint32_t crc32(const void* data, std::size_t size, std::uint32_t crc) {
  const auto& table = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

CheckpointStore::CheckpointStore(std::string path) : path_(std::move(path)) {}

std::string CheckpointStore::slot_path(int slot) const {
  return path_ + (slot == 0 ? ".a" : ".b");
}

std::optional<std::string> CheckpointStore::load(CheckpointLoad& info) {
  std::lock_guard lock(mutex_);
  return load_locked(info);
}

std::optional<std::string> CheckpointStore::load_locked(CheckpointLoad& info) {
  info = CheckpointLoad{};
  if (path_.empty()) {
    info.status = Status::from_errno(EINVAL);
    info.detail = "empty checkpoint path";
    return std::nullopt;
  }
  SlotRead slots[2] = {read_slot(slot_path(0)), read_slot(slot_path(1))};
  // The newest valid slot wins; the other is the fallback.
  int newest = -1;
  for (int i = 0; i < 2; ++i)
    if (slots[i].valid && (newest < 0 || slots[i].generation > slots[newest].generation))
      newest = i;
  std::string detail;
  for (int i = 0; i < 2; ++i) {
    if (slots[i].exists && !slots[i].valid) {
      if (!detail.empty()) detail += "; ";
      detail += slot_path(i) + ": " + slots[i].problem;
    }
  }
  info.detail = detail;

  // Next save goes to the slot not holding the newest valid generation.
  std::uint64_t highest = 0;
  for (const auto& s : slots)
    if (s.valid) highest = std::max(highest, s.generation);
  next_generation_ = highest + 1;
  next_slot_ = newest < 0 ? 0 : 1 - newest;
  scanned_ = true;

  if (newest < 0) {
    if (!slots[0].exists && !slots[1].exists) {
      info.status = Status::from_errno(ENOENT);
      info.detail = "no checkpoint at " + path_ + " (.a/.b)";
    } else if (slots[0].read_error || slots[1].read_error) {
      info.status =
          Status::from_errno(slots[0].read_error ? slots[0].read_error : slots[1].read_error);
    } else {
      info.status = Status::from_errno(EBADMSG);
    }
    return std::nullopt;
  }
  // Fell back: the other slot exists but is unusable (torn, corrupt, unreadable). A valid
  // older generation in the other slot is the normal state, not a fallback.
  const int other = 1 - newest;
  info.fell_back = slots[other].exists && !slots[other].valid;
  info.generation = slots[newest].generation;
  return std::move(slots[newest].payload);
}

Status CheckpointStore::save(std::string_view payload) {
  std::lock_guard lock(mutex_);
  if (path_.empty()) return Status::from_errno(EINVAL);
  if (payload.size() > kMaxPayload) return Status::from_errno(EFBIG);
  if (!scanned_) {
    CheckpointLoad ignored;
    (void)load_locked(ignored);
  }
  const std::string target = slot_path(next_slot_);
  const std::string temporary = target + ".tmp";

  char header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 4);
  put_u32(header + 4, kFormatVersion);
  put_u64(header + 8, next_generation_);
  put_u64(header + 16, payload.size());
  put_u32(header + 24, crc32(payload.data(), payload.size()));
  put_u32(header + 28, crc32(header, 28));

  {
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Status::from_errno(errno);
    if (auto s = write_all(fd.get(), header, kHeaderSize); !s) return s;
    if (auto s = write_all(fd.get(), payload.data(), payload.size()); !s) return s;
    if (::fsync(fd.get()) != 0) return Status::from_errno(errno);
    if (fd.release_and_close() != 0) return Status::from_errno(errno);
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return Status::from_errno(error);
  }
  // The new generation is in place (even if the directory sync below fails).
  next_slot_ = 1 - next_slot_;
  ++next_generation_;
  // The rename is durable only once the directory entry is on disk.
  Fd directory(::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() < 0) return Status::from_errno(errno);
  if (::fsync(directory.get()) != 0 && errno != EINVAL) return Status::from_errno(errno);
  return {};
}

}  // namespace vigil
