#include "resources/host_sampler.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "common/unique_fd.hpp"

namespace vigil::resources {
namespace {

bool read_file(const std::string& path, std::string& out) {
  out.clear();
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return false;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // some hwmon sensors answer EIO/ENODATA while powered down
    }
    if (n == 0) return true;
    out.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// The number after `key` at the start of a line ("MemTotal:     16316412 kB"), or 0.
std::uint64_t keyed_number(std::string_view text, std::string_view key) {
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string_view::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      std::size_t p = at + key.size();
      while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
      std::uint64_t value = 0;
      std::from_chars(text.data() + p, text.data() + text.size(), value);
      return value;
    }
    at += key.size();
  }
  return 0;
}

// "hwmon12" → 12, "temp3_input" with prefix "temp" and suffix "_input" → 3; -1 otherwise.
long numbered(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix)) {
    return -1;
  }
  const std::string_view digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  long value = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc() && ptr == digits.data() + digits.size() ? value : -1;
}

// Entries of a directory whose names are numbered as above, in numeric order.
std::vector<std::pair<long, std::string>> numbered_entries(const std::string& dir,
                                                           std::string_view prefix,
                                                           std::string_view suffix) {
  std::vector<std::pair<long, std::string>> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* entry = ::readdir(d)) {
    const long n = numbered(entry->d_name, prefix, suffix);
    if (n >= 0) out.emplace_back(n, entry->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

HostSampler::HostSampler(std::string proc_root, std::string sys_root)
    : proc_root_(std::move(proc_root)), sys_root_(std::move(sys_root)) {}

void HostSampler::read_cpu(HostSample& out) {
  if (!read_file(proc_root_ + "/stat", buffer_)) return;
  const std::string_view text(buffer_);
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is
  // already inside user and nice, so it is not added again.
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
  if (text.starts_with("cpu ")) {
    const char* p = text.data() + 4;
    const std::size_t line_end = text.find('\n');
    const char* end = text.data() + (line_end == std::string_view::npos ? text.size() : line_end);
    for (int field = 0; field < 8 && p < end; ++field) {
      while (p < end && *p == ' ') ++p;
      std::uint64_t value = 0;
      p = std::from_chars(p, end, value).ptr;
      total += value;
      if (field != 3 && field != 4) busy += value;  // idle, iowait
    }
  }
  for (std::size_t at = text.find("\ncpu"); at != std::string_view::npos;
       at = text.find("\ncpu", at + 1)) {
    if (at + 4 < text.size() && text[at + 4] >= '0' && text[at + 4] <= '9') ++out.cpus;
  }
  if (have_previous_ && total > previous_total_ && busy >= previous_busy_) {
    out.cpu_percent = 100.0 * static_cast<double>(busy - previous_busy_) /
                      static_cast<double>(total - previous_total_);
    out.cpu_percent = std::clamp(out.cpu_percent, 0.0, 100.0);
  }
  previous_busy_ = busy;
  previous_total_ = total;
  have_previous_ = total > 0;
}

void HostSampler::read_temperatures(HostSample& out) {
  const std::string class_dir = sys_root_ + "/class/hwmon";
  for (const auto& [index, hwmon] : numbered_entries(class_dir, "hwmon", "")) {
    const std::string dir = class_dir + "/" + hwmon;
    const std::string chip = read_file(dir + "/name", buffer_) && !trim(buffer_).empty()
                                 ? std::string(trim(buffer_))
                                 : hwmon;
    for (const auto& [number, input] : numbered_entries(dir, "temp", "_input")) {
      if (!read_file(dir + "/" + input, buffer_)) continue;
      const std::string_view value = trim(buffer_);
      long millidegrees = 0;
      const auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), millidegrees);
      if (ec != std::errc() || ptr != value.data() + value.size()) continue;
      const std::string label_path = dir + "/temp" + std::to_string(number) + "_label";
      const std::string label = read_file(label_path, buffer_) && !trim(buffer_).empty()
                                    ? std::string(trim(buffer_))
                                    : "temp" + std::to_string(number);
      out.temperatures.push_back(
          Temperature{chip + "/" + label, static_cast<double>(millidegrees) / 1000.0});
    }
  }
}

HostSample HostSampler::sample(const std::string& disk_path, TimePoint now) {
  // The CPU share is a ratio of /proc/stat's own tick counters, so it needs no clock; `now`
  // is taken for symmetry with ProcessTreeSampler and to leave room for rate figures.
  (void)now;
  HostSample out;
  if (read_file(proc_root_ + "/loadavg", buffer_)) {
    char* p = buffer_.data();
    out.load1 = std::strtod(p, &p);
    out.load5 = std::strtod(p, &p);
    out.load15 = std::strtod(p, &p);
  }
  read_cpu(out);
  if (read_file(proc_root_ + "/meminfo", buffer_)) {
    out.mem_total_bytes = keyed_number(buffer_, "MemTotal:") * 1024;
    out.mem_available_bytes = keyed_number(buffer_, "MemAvailable:") * 1024;
  }
  struct statvfs fs {};
  if (!disk_path.empty() && ::statvfs(disk_path.c_str(), &fs) == 0) {
    out.disk_total_bytes = static_cast<std::uint64_t>(fs.f_blocks) * fs.f_frsize;
    out.disk_available_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  read_temperatures(out);
  if (read_file(proc_root_ + "/vmstat", buffer_))
    out.oom_kills = keyed_number(buffer_, "oom_kill ");
  return out;
}

}  // namespace vigil::resources
