#pragma once
// Resource limits of components: POSIX rlimits (always available, per process) and cgroup v2
// limits (memory.max, cpu.max, pids.max: per component tree, only where vigild has a writable
// cgroup v2 subtree with those controllers).
//
// Both are applied by the spawned child between clone and exec, with the two *_in_child
// functions below, which only make system calls: the child shares vigild's memory (vfork), so
// it must not allocate, lock or log.
#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace vigil::resources {

// ---------------------------------------------------------------------------------------------
// rlimits

struct RlimitSetting {
  int resource;  // RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_CORE, RLIMIT_NPROC
  rlim_t soft;
  rlim_t hard;
};

// One key of a component's `limits:` map to a setting with soft = hard:
//   address_space: 1GiB | unlimited       RLIMIT_AS (a size, see parse_size)
//   open_files: 1024                      RLIMIT_NOFILE (a count; the kernel has no unlimited)
//   core: 0 | unlimited | 512MiB          RLIMIT_CORE
//   processes: 64 | unlimited             RLIMIT_NPROC: counts every process of the component's
//                                         user, not of the component, and root ignores it;
//                                         cgroup pids.max is the per-component limit.
// An unknown key or a bad value is an error naming both, for the config loader to report with
// its position in the file.
Result<RlimitSetting> parse_rlimit(std::string_view key, std::string_view value);

// The config key of a resource ("open_files" for RLIMIT_NOFILE), for messages.
std::string_view rlimit_key(int resource);

// Calls setrlimit for each setting, in order. Returns 0, or the errno of the first failure
// (EPERM: raising a hard limit needs CAP_SYS_RESOURCE; EINVAL: soft > hard, or open_files
// above fs.nr_open) with its index in *failed_index when given. Only setrlimit: safe in a
// vfork child.
int apply_rlimits_in_child(const RlimitSetting* settings, std::size_t n,
                           std::size_t* failed_index = nullptr) noexcept;

// ---------------------------------------------------------------------------------------------
// cgroup v2

struct CgroupLimits {
  std::optional<std::uint64_t> memory_max;  // bytes → memory.max
  std::optional<double> cpu_max_cores;      // 0.5 → cpu.max "50000 100000"
  std::optional<int> pids_max;              // → pids.max
};

// Which controllers limits need.
struct CgroupControllers {
  bool cpu = false;
  bool memory = false;
  bool pids = false;

  static CgroupControllers all() { return {true, true, true}; }
  static CgroupControllers needed_by(const CgroupLimits& limits);
  CgroupControllers operator|(const CgroupControllers& o) const {
    return {cpu || o.cpu, memory || o.memory, pids || o.pids};
  }
  bool operator==(const CgroupControllers&) const = default;
  bool empty() const { return !cpu && !memory && !pids; }
};

// One component's cgroup, <base>/components/<name>. Removed on destruction when empty (a
// cgroup that still holds processes cannot be removed and is left for the next start).
// Keep one per component across restarts; to change its limits, prepare() again and assign
// the result over it (the directory is kept). Two live handles on one directory would have
// the first destroyed remove it under the second.
class ComponentCgroup {
 public:
  ComponentCgroup() = default;
  ComponentCgroup(ComponentCgroup&& other) noexcept;
  ComponentCgroup& operator=(ComponentCgroup&& other) noexcept;
  ComponentCgroup(const ComponentCgroup&) = delete;
  ComponentCgroup& operator=(const ComponentCgroup&) = delete;
  ~ComponentCgroup();

  const std::string& path() const { return path_; }
  // cgroup.procs, open O_WRONLY|O_CLOEXEC: pass to enter_cgroup_in_child() in the spawned
  // child. The fd is closed by exec in the child and stays open here.
  int procs_fd() const { return procs_fd_.get(); }
  // The kernel's count of OOM kills in this cgroup (memory.events oom_kill); 0 if unreadable.
  std::uint64_t oom_kills() const;
  // Processes in the cgroup now (cgroup.procs); empty if unreadable.
  std::vector<pid_t> pids() const;

 private:
  friend class CgroupManager;
  ComponentCgroup(std::string path, UniqueFd procs_fd, bool fake);
  void remove();

  std::string path_;
  UniqueFd procs_fd_;
  bool fake_ = false;
};

// Moves the calling process into the cgroup whose cgroup.procs `procs_fd` is (a no-op for
// -1). Returns 0 or errno. One write(2): safe in a vfork child.
int enter_cgroup_in_child(int procs_fd) noexcept;

// Where vigild may create per-component cgroups, and creating them.
//
// Layout, as under systemd delegation (Delegate=yes): cgroup v2 allows processes only in leaf
// cgroups once controllers are enabled for children ("no internal processes"), so vigild moves
// itself out of its own cgroup <base> into the leaf <base>/vigild, enables the controllers in
// <base>/cgroup.subtree_control and <base>/components/cgroup.subtree_control, and puts each
// component in <base>/components/<name>. This happens on the first prepare(), not in detect(),
// so a vigild without cgroup limits in its config never moves itself.
class CgroupManager {
 public:
  // Finds <base>: vigild's own cgroup ("0::PATH" in /proc/self/cgroup) under the cgroup2
  // mount of /proc/self/mountinfo, or `cgroup_root_override` when given. It is available when
  // <base> is writable and lists the `needed` controllers in cgroup.controllers.
  //
  // An override that is not on a cgroup2 filesystem (a test's temporary directory) is treated
  // as a stand-in: the interface files the kernel would create (memory.max, cgroup.procs, ...)
  // are created by the manager, and removed with the component's directory. On cgroupfs they
  // are never created, only written.
  static CgroupManager detect(std::string cgroup_root_override = "",
                              CgroupControllers needed = CgroupControllers::all());

  bool available() const { return available_; }
  // Why not, as a sentence for the log; empty when available.
  const std::string& unavailable_reason() const { return reason_; }
  const std::string& base() const { return base_; }

  // Creates (or reuses, after a vigild restart) <base>/components/<component> and writes the
  // limits; a controller enabled but without a limit gets "max", so a reused cgroup does not
  // keep an old limit.
  Result<ComponentCgroup> prepare(const std::string& component, const CgroupLimits& limits);

 private:
  Result<void> delegate();
  Result<void> enable(const CgroupControllers& wanted);
  Result<void> write_file(const std::string& path, std::string_view text,
                          int* error_number = nullptr) const;

  std::string base_;
  bool available_ = false;
  bool fake_ = false;  // base is not cgroupfs: see detect()
  std::string reason_;
  CgroupControllers present_;  // in <base>/cgroup.controllers
  CgroupControllers enabled_;  // written to the subtree_control files so far
  bool delegated_ = false;
};

}  // namespace vigil::resources
