#include "resources/host_sampler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vigil::resources {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir()
      : path_(fs::temp_directory_path() /
              ("vigil-host-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative) << text;
  }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(HostSampler, ReadsThisHost) {
  HostSampler sampler;
  const HostSample first = sampler.sample("/", MonoClock::now());
  EXPECT_GT(first.mem_total_bytes, 0u);
  EXPECT_GT(first.mem_available_bytes, 0u);
  EXPECT_LE(first.mem_available_bytes, first.mem_total_bytes);
  EXPECT_GE(first.cpus, 1);
  EXPECT_EQ(first.cpus, ::sysconf(_SC_NPROCESSORS_ONLN));
  EXPECT_GT(first.disk_total_bytes, 0u);
  EXPECT_LE(first.disk_available_bytes, first.disk_total_bytes);
  EXPECT_GE(first.load1, 0.0);
  EXPECT_EQ(first.cpu_percent, 0.0);  // no interval yet
  const HostSample second = sampler.sample("/", MonoClock::now());
  EXPECT_GE(second.cpu_percent, 0.0);
  EXPECT_LE(second.cpu_percent, 100.0);
}

TEST(HostSampler, MissingDiskPathLeavesDiskFiguresAtZero) {
  HostSampler sampler;
  const HostSample s = sampler.sample("/nonexistent/vigil/state", MonoClock::now());
  EXPECT_EQ(s.disk_total_bytes, 0u);
  EXPECT_GT(s.mem_total_bytes, 0u);
}

// A stand-in /proc with known numbers, to check the arithmetic exactly.
TEST(HostSampler, ComputesFiguresFromProcFiles) {
  TempDir proc;
  proc.write("loadavg", "0.52 1.25 2.00 3/412 99\n");
  proc.write("meminfo",
             "MemTotal:        8000000 kB\nMemFree:         1000000 kB\n"
             "MemAvailable:    6000000 kB\n");
  proc.write("vmstat", "nr_free_pages 1\noom_kill 3\n");
  // user nice system idle iowait irq softirq steal guest guest_nice
  proc.write("stat",
             "cpu  100 0 100 700 100 0 0 0 50 0\ncpu0 50 0 50 350 50 0 0 0 25 0\n"
             "cpu1 50 0 50 350 50 0 0 0 25 0\nintr 1\n");
  HostSampler sampler(proc.path().string(), proc.path().string());
  const HostSample first = sampler.sample("/", MonoClock::now());
  EXPECT_DOUBLE_EQ(first.load1, 0.52);
  EXPECT_DOUBLE_EQ(first.load5, 1.25);
  EXPECT_DOUBLE_EQ(first.load15, 2.00);
  EXPECT_EQ(first.mem_total_bytes, 8000000ull * 1024);
  EXPECT_EQ(first.mem_available_bytes, 6000000ull * 1024);
  EXPECT_EQ(first.oom_kills, 3u);
  EXPECT_EQ(first.cpus, 2);
  EXPECT_TRUE(first.temperatures.empty());

  // +300 busy (user 200, system 100), +100 idle, +100 iowait: 300 of 500 ticks busy; guest
  // time is part of user already and must not count twice.
  proc.write("stat", "cpu  300 0 200 800 200 0 0 0 150 0\ncpu0 1\ncpu1 1\n");
  const HostSample second = sampler.sample("/", MonoClock::now());
  EXPECT_DOUBLE_EQ(second.cpu_percent, 60.0);
}

// This machine (a VM) has no /sys/class/hwmon at all, so the sensors are a stand-in tree with
// the kernel's hwmon sysfs layout: hwmonN/name, tempM_input in millidegrees, optional
// tempM_label.
TEST(HostSampler, ReadsHwmonTemperatures) {
  TempDir sys;
  sys.write("class/hwmon/hwmon0/name", "coretemp\n");
  sys.write("class/hwmon/hwmon0/temp1_input", "45000\n");
  sys.write("class/hwmon/hwmon0/temp1_label", "Package id 0\n");
  sys.write("class/hwmon/hwmon0/temp2_input", "47500\n");
  sys.write("class/hwmon/hwmon0/temp2_crit", "100000\n");
  sys.write("class/hwmon/hwmon10/name", "nvme\n");
  sys.write("class/hwmon/hwmon10/temp1_input", "-5250\n");
  sys.write("class/hwmon/hwmon2/temp1_input", "garbage\n");  // no name, unreadable value
  sys.write("class/hwmon/hwmon2/temp3_input", "30000\n");
  HostSampler sampler("/proc", sys.path().string());
  const HostSample s = sampler.sample("/", MonoClock::now());
  ASSERT_EQ(s.temperatures.size(), 4u);
  EXPECT_EQ(s.temperatures[0].sensor, "coretemp/Package id 0");
  EXPECT_DOUBLE_EQ(s.temperatures[0].celsius, 45.0);
  EXPECT_EQ(s.temperatures[1].sensor, "coretemp/temp2");
  EXPECT_DOUBLE_EQ(s.temperatures[1].celsius, 47.5);
  EXPECT_EQ(s.temperatures[2].sensor, "hwmon2/temp3");  // numeric order: hwmon2 < hwmon10
  EXPECT_DOUBLE_EQ(s.temperatures[2].celsius, 30.0);
  EXPECT_EQ(s.temperatures[3].sensor, "nvme/temp1");
  EXPECT_DOUBLE_EQ(s.temperatures[3].celsius, -5.25);
}

}  // namespace
}  // namespace vigil::resources
