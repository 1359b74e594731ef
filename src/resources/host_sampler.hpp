#pragma once
// Host-wide figures: load, CPU busy share, memory, the disk holding the state directory,
// temperatures and the kernel's OOM-kill counter. A figure the host cannot provide is 0 (or an
// empty list), never an error: the same code runs on a laptop, a VM and a robot computer.
#include <cstdint>
#include <string>
#include <vector>

#include "common/scheduler.hpp"

namespace vigil::resources {

struct Temperature {
  std::string sensor;  // "coretemp/Package id 0": hwmon name, then label (or tempN)
  double celsius = 0;
};

struct HostSample {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  // Busy share of all cores together, 0..100, over the interval since the previous sample;
  // 0 on the first. iowait counts as idle.
  double cpu_percent = 0;
  int cpus = 0;  // online CPUs
  std::uint64_t mem_total_bytes = 0;
  std::uint64_t mem_available_bytes = 0;
  std::uint64_t disk_total_bytes = 0;      // of the filesystem holding the path given to sample()
  std::uint64_t disk_available_bytes = 0;  // to unprivileged users
  std::vector<Temperature> temperatures;   // empty when the host exposes no hwmon sensors
  std::uint64_t oom_kills = 0;             // since boot, /proc/vmstat oom_kill
};

class HostSampler {
 public:
  // The roots are injectable so that tests can describe sensors this machine does not have.
  explicit HostSampler(std::string proc_root = "/proc", std::string sys_root = "/sys");

  HostSample sample(const std::string& disk_path, TimePoint now);

 private:
  void read_cpu(HostSample& out);
  void read_temperatures(HostSample& out);

  std::string proc_root_;
  std::string sys_root_;
  std::string buffer_;
  std::uint64_t previous_busy_ = 0;
  std::uint64_t previous_total_ = 0;
  bool have_previous_ = false;
};

}  // namespace vigil::resources
