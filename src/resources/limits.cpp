#include "resources/limits.hpp"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

#include "common/units.hpp"

namespace vigil::resources {
namespace {

std::optional<std::string> read_text(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) return out;
    out.append(chunk, static_cast<std::size_t>(n));
  }
}

std::optional<rlim_t> parse_count(std::string_view text) {
  rlim_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape_mount_path(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '7') {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 +
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find(separator, start);
    const std::size_t stop = end == std::string_view::npos ? text.size() : end;
    if (stop > start) out.push_back(text.substr(start, stop - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

struct Mount {
  std::string root;  // the directory of the filesystem that is mounted here
  std::string mount_point;
  std::string type;
  std::string super_options;
};

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  const auto text = read_text("/proc/self/mountinfo");
  if (!text) return out;
  for (const std::string_view line : split(*text, '\n')) {
    const std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    const auto left = split(line.substr(0, dash), ' ');
    const auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    if (right[0] != "cgroup2" && right[0] != "cgroup") continue;
    out.push_back(Mount{unescape_mount_path(left[3]), unescape_mount_path(left[4]),
                        std::string(right[0]), std::string(right[2])});
  }
  return out;
}

// This process's cgroup v2 path, "/system.slice/vigild.service", from its "0::" line.
std::optional<std::string> own_cgroup_path() {
  const auto text = read_text("/proc/self/cgroup");
  if (!text) return std::nullopt;
  for (const std::string_view line : split(*text, '\n')) {
    if (line.starts_with("0::")) return std::string(line.substr(3));
  }
  return std::nullopt;
}

// Where a cgroup path is in the filesystem, given the cgroup2 mounts.
std::optional<std::string> cgroup_directory(const std::string& cgroup_path,
                                            const std::vector<Mount>& mounts) {
  for (const Mount& m : mounts) {
    if (m.type != "cgroup2") continue;
    std::string relative;
    if (m.root == "/") {
      relative = cgroup_path;
    } else if (cgroup_path.starts_with(m.root) &&
               (cgroup_path.size() == m.root.size() || cgroup_path[m.root.size()] == '/')) {
      relative = cgroup_path.substr(m.root.size());
    } else {
      continue;
    }
    if (relative == "/") relative.clear();
    return m.mount_point + relative;
  }
  return std::nullopt;
}

CgroupControllers parse_controllers(std::string_view text) {
  CgroupControllers out;
  for (std::string_view word : split(text, ' ')) {
    while (!word.empty() && word.back() == '\n') word.remove_suffix(1);
    if (word == "cpu") out.cpu = true;
    if (word == "memory") out.memory = true;
    if (word == "pids") out.pids = true;
  }
  return out;
}

std::vector<std::string_view> names_of(const CgroupControllers& c) {
  std::vector<std::string_view> out;
  if (c.cpu) out.push_back("cpu");
  if (c.memory) out.push_back("memory");
  if (c.pids) out.push_back("pids");
  return out;
}

std::string limit_files_of(const CgroupControllers& c) {
  std::vector<std::string_view> files;
  if (c.memory) files.push_back("memory.max");
  if (c.cpu) files.push_back("cpu.max");
  if (c.pids) files.push_back("pids.max");
  return fmt::format("{}", fmt::join(files, "/"));
}

// Whether a cgroup v1 hierarchy holds any of the controllers: a controller is in at most one
// hierarchy, so then it cannot appear in the v2 one.
bool held_by_cgroup_v1(const CgroupControllers& missing, const std::vector<Mount>& mounts) {
  for (const Mount& m : mounts) {
    if (m.type != "cgroup") continue;
    for (const std::string_view option : split(m.super_options, ',')) {  // "rw,memory"
      if ((option == "cpu" && missing.cpu) || (option == "memory" && missing.memory) ||
          (option == "pids" && missing.pids)) {
        return true;
      }
    }
  }
  return false;
}

constexpr const char* kInterfaceFiles[] = {
    "memory.max", "cpu.max", "pids.max", "cgroup.procs", "memory.events", "cgroup.subtree_control"};

}  // namespace

// ---------------------------------------------------------------------------------------------
// rlimits

Result<RlimitSetting> parse_rlimit(std::string_view key, std::string_view value) {
  const bool unlimited = value == "unlimited";
  const auto make = [](int resource, rlim_t v) { return RlimitSetting{resource, v, v}; };
  if (key == "address_space" || key == "core") {
    const int resource = key == "core" ? RLIMIT_CORE : RLIMIT_AS;
    if (unlimited) return make(resource, RLIM_INFINITY);
    const auto bytes = parse_size(value);
    if (!bytes) {
      return make_error(
          fmt::format("limits.{}: '{}' is not a size (e.g. 1GiB) or unlimited", key, value));
    }
    return make(resource, static_cast<rlim_t>(*bytes));
  }
  if (key == "open_files" || key == "processes") {
    const int resource = key == "open_files" ? RLIMIT_NOFILE : RLIMIT_NPROC;
    if (unlimited && resource == RLIMIT_NPROC) return make(resource, RLIM_INFINITY);
    const auto count = parse_count(value);
    if (!count || *count == 0) {
      return make_error(fmt::format("limits.{}: '{}' is not a positive count{}", key, value,
                                    resource == RLIMIT_NPROC ? " or unlimited" : ""));
    }
    return make(resource, *count);
  }
  return make_error(fmt::format(
      "limits: unknown key '{}' (known: address_space, open_files, core, processes)", key));
}

std::string_view rlimit_key(int resource) {
  switch (resource) {
    case RLIMIT_AS:
      return "address_space";
    case RLIMIT_NOFILE:
      return "open_files";
    case RLIMIT_CORE:
      return "core";
    case RLIMIT_NPROC:
      return "processes";
    default:
      return "rlimit";
  }
}

int apply_rlimits_in_child(const RlimitSetting* settings, std::size_t n,
                           std::size_t* failed_index) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const rlimit value{settings[i].soft, settings[i].hard};
    if (::setrlimit(static_cast<__rlimit_resource>(settings[i].resource), &value) != 0) {
      if (failed_index != nullptr) *failed_index = i;
      return errno;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// cgroup v2

CgroupControllers CgroupControllers::needed_by(const CgroupLimits& limits) {
  return {limits.cpu_max_cores.has_value(), limits.memory_max.has_value(),
          limits.pids_max.has_value()};
}

int enter_cgroup_in_child(int procs_fd) noexcept {
  if (procs_fd < 0) return 0;
  for (;;) {
    // "0" is the writing process itself: the child, not vigild, although they share memory.
    const ssize_t n = ::write(procs_fd, "0", 1);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? errno : EIO;
  }
}

ComponentCgroup::ComponentCgroup(std::string path, UniqueFd procs_fd, bool fake)
    : path_(std::move(path)), procs_fd_(std::move(procs_fd)), fake_(fake) {}

ComponentCgroup::ComponentCgroup(ComponentCgroup&& other) noexcept
    : path_(std::exchange(other.path_, {})),
      procs_fd_(std::move(other.procs_fd_)),
      fake_(other.fake_) {}

ComponentCgroup& ComponentCgroup::operator=(ComponentCgroup&& other) noexcept {
  if (this != &other) {
    // Re-preparing a component (new limits on reload) hands over the same directory, which
    // must survive the old handle.
    if (path_ == other.path_) path_.clear();
    remove();
    path_ = std::exchange(other.path_, {});
    procs_fd_ = std::move(other.procs_fd_);
    fake_ = other.fake_;
  }
  return *this;
}

ComponentCgroup::~ComponentCgroup() {
  remove();
}

void ComponentCgroup::remove() {
  procs_fd_.reset();
  if (path_.empty()) return;
  if (fake_) {
    for (const char* name : kInterfaceFiles) ::unlink((path_ + "/" + name).c_str());
  }
  // EBUSY: processes are still inside (they outlived their component); the directory is
  // reused by the next prepare() of this component.
  ::rmdir(path_.c_str());
  path_.clear();
}

std::uint64_t ComponentCgroup::oom_kills() const {
  const auto text = read_text(path_ + "/memory.events");
  if (!text) return 0;
  for (const std::string_view line : split(*text, '\n')) {
    if (line.starts_with("oom_kill ")) return parse_count(line.substr(9)).value_or(0);
  }
  return 0;
}

std::vector<pid_t> ComponentCgroup::pids() const {
  std::vector<pid_t> out;
  const auto text = read_text(path_ + "/cgroup.procs");
  if (!text) return out;
  for (const std::string_view line : split(*text, '\n')) {
    pid_t pid = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec == std::errc() && ptr == line.data() + line.size() && pid > 0) out.push_back(pid);
  }
  return out;
}

CgroupManager CgroupManager::detect(std::string cgroup_root_override, CgroupControllers needed) {
  CgroupManager manager;
  const auto mounts = cgroup_mounts();
  const auto unavailable = [&](const std::string& why) {
    manager.available_ = false;
    manager.reason_ = fmt::format(
        "cgroup v2 limits unavailable: {}; {} not enforced, rlimits "
        "still apply",
        why, limit_files_of(needed.empty() ? CgroupControllers::all() : needed));
    return manager;
  };

  if (!cgroup_root_override.empty()) {
    while (cgroup_root_override.size() > 1 && cgroup_root_override.back() == '/') {
      cgroup_root_override.pop_back();
    }
    manager.base_ = cgroup_root_override;
  } else {
    const auto own = own_cgroup_path();
    if (!own) return unavailable("/proc/self/cgroup has no cgroup v2 (0::) entry");
    const auto dir = cgroup_directory(*own, mounts);
    if (!dir)
      return unavailable(fmt::format("no cgroup2 mount shows this process's cgroup {}", *own));
    manager.base_ = *dir;
    // A vigild restarted in place finds itself in the leaf it moved into last time.
    struct stat st {};
    if (manager.base_.ends_with("/vigild")) {
      const std::string parent = manager.base_.substr(0, manager.base_.size() - 7);
      if (::stat((parent + "/components").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        manager.base_ = parent;
      }
    }
  }

  struct statfs fs {};
  if (::statfs(manager.base_.c_str(), &fs) != 0) {
    return unavailable(fmt::format("{}: {}", manager.base_, std::strerror(errno)));
  }
  manager.fake_ = fs.f_type != CGROUP2_SUPER_MAGIC;
  if (manager.fake_ && cgroup_root_override.empty()) {
    return unavailable(fmt::format("{} is not on a cgroup2 filesystem", manager.base_));
  }

  const std::string controllers_path = manager.base_ + "/cgroup.controllers";
  const auto controllers = read_text(controllers_path);
  if (!controllers) {
    return unavailable(fmt::format("{}: {}", controllers_path, std::strerror(errno)));
  }
  manager.present_ = parse_controllers(*controllers);
  const CgroupControllers missing{needed.cpu && !manager.present_.cpu,
                                  needed.memory && !manager.present_.memory,
                                  needed.pids && !manager.present_.pids};
  if (!missing.empty()) {
    const auto names = names_of(missing);
    return unavailable(
        fmt::format("{}/ lacks the {} controller{}{}", manager.base_, fmt::join(names, ", "),
                    names.size() > 1 ? "s" : "",
                    held_by_cgroup_v1(missing, mounts) ? " (cgroup v1 in use)" : ""));
  }
  for (const std::string& path : {manager.base_, manager.base_ + "/cgroup.subtree_control"}) {
    if (::access(path.c_str(), W_OK) != 0) {
      return unavailable(fmt::format("{} is not writable ({})", path, std::strerror(errno)));
    }
  }
  manager.available_ = true;
  return manager;
}

Result<void> CgroupManager::write_file(const std::string& path, std::string_view text,
                                       int* error_number) const {
  const int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (fake_ ? O_CREAT : 0);
  UniqueFd fd(::open(path.c_str(), flags, 0644));
  if (!fd.valid()) {
    if (error_number != nullptr) *error_number = errno;
    return make_error(fmt::format("cgroup: open {}: {}", path, std::strerror(errno)));
  }
  // One write per file: the kernel applies each write to a cgroup file as one command.
  const ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    const int error = n < 0 ? errno : EIO;
    if (error_number != nullptr) *error_number = error;
    return make_error(fmt::format("cgroup: write '{}' to {}: {}", text, path,
                                  n < 0 ? std::strerror(error) : "short write"));
  }
  return {};
}

Result<void> CgroupManager::delegate() {
  if (delegated_) return {};
  const std::string leaf = base_ + "/vigild";
  if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(fmt::format("cgroup: mkdir {}: {}", leaf, std::strerror(errno)));
  }
  const auto own = own_cgroup_path();
  const auto own_dir = own ? cgroup_directory(*own, cgroup_mounts()) : std::nullopt;
  if (fake_ || own_dir != leaf) {
    if (auto moved = write_file(leaf + "/cgroup.procs", "0"); !moved) return moved;
  }
  const std::string components = base_ + "/components";
  if (::mkdir(components.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(fmt::format("cgroup: mkdir {}: {}", components, std::strerror(errno)));
  }
  delegated_ = true;
  return {};
}

Result<void> CgroupManager::enable(const CgroupControllers& wanted) {
  const CgroupControllers target = enabled_ | wanted;
  if (target == enabled_) return {};
  std::string command;
  for (const std::string_view name : names_of(target)) {
    command += command.empty() ? "+" : " +";
    command += name;
  }
  for (const std::string& dir : {base_, base_ + "/components"}) {
    int error_number = 0;
    auto written = write_file(dir + "/cgroup.subtree_control", command, &error_number);
    if (!written) {
      if (error_number == EBUSY && dir == base_) {
        // The kernel refuses while <base> holds processes; vigild moved only itself.
        return make_error(written.error() + " (other processes are in " + base_ +
                          ": run vigild in a cgroup of its own, e.g. systemd Delegate=yes)");
      }
      return written;
    }
  }
  enabled_ = target;
  return {};
}

Result<ComponentCgroup> CgroupManager::prepare(const std::string& component,
                                               const CgroupLimits& limits) {
  if (!available_) return make_error(reason_);
  if (component.empty() || component == "." || component == ".." ||
      component.find('/') != std::string::npos) {
    return make_error(fmt::format("cgroup: '{}' cannot name a cgroup directory", component));
  }
  const CgroupControllers wanted = CgroupControllers::needed_by(limits);
  const CgroupControllers missing{wanted.cpu && !present_.cpu, wanted.memory && !present_.memory,
                                  wanted.pids && !present_.pids};
  if (!missing.empty()) {
    return make_error(fmt::format("cgroup {}: the {} controller is not available in {}", component,
                                  fmt::join(names_of(missing), ", "), base_));
  }
  if (auto ok = delegate(); !ok) return make_error(ok.error());
  if (auto ok = enable(wanted); !ok) return make_error(ok.error());

  const std::string dir = base_ + "/components/" + component;
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(fmt::format("cgroup: mkdir {}: {}", dir, std::strerror(errno)));
  }
  // From here on the directory is ours: removed again if a write fails.
  ComponentCgroup cgroup(dir, UniqueFd(), fake_);

  if (enabled_.memory) {
    const std::string value =
        limits.memory_max ? std::to_string(*limits.memory_max) : std::string("max");
    if (auto ok = write_file(dir + "/memory.max", value); !ok) return make_error(ok.error());
  }
  if (enabled_.cpu) {
    std::string value = "max 100000";
    if (limits.cpu_max_cores) {
      if (!(*limits.cpu_max_cores > 0)) {
        return make_error(fmt::format("cgroup {}: cpu limit {} is not a positive number of cores",
                                      component, *limits.cpu_max_cores));
      }
      // Period 100 ms (the kernel's default); quota at least 1 ms, the kernel's minimum.
      const auto quota = std::max<long long>(1000, std::llround(*limits.cpu_max_cores * 100000.0));
      value = fmt::format("{} 100000", quota);
    }
    if (auto ok = write_file(dir + "/cpu.max", value); !ok) return make_error(ok.error());
  }
  if (limits.pids_max && *limits.pids_max < 0) {
    return make_error(
        fmt::format("cgroup {}: pids limit {} is negative", component, *limits.pids_max));
  }
  if (enabled_.pids) {
    const std::string value =
        limits.pids_max ? std::to_string(*limits.pids_max) : std::string("max");
    if (auto ok = write_file(dir + "/pids.max", value); !ok) return make_error(ok.error());
  }

  const std::string procs = dir + "/cgroup.procs";
  UniqueFd procs_fd(::open(procs.c_str(), O_WRONLY | O_CLOEXEC | (fake_ ? O_CREAT : 0), 0644));
  if (!procs_fd.valid()) {
    return make_error(fmt::format("cgroup: open {}: {}", procs, std::strerror(errno)));
  }
  cgroup.procs_fd_ = std::move(procs_fd);
  return cgroup;
}

}  // namespace vigil::resources
