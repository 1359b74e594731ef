#include "resources/limits.hpp"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vigil::resources {
namespace {

namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs fn in a forked child (limits must not change the test process) and returns its exit
// code, or -1 if it did not exit normally.
template <typename Fn>
int in_child(Fn fn) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Rlimits, ParsesTheConfigKeys) {
  auto as = parse_rlimit("address_space", "1GiB");
  ASSERT_TRUE(as.ok()) << as.error();
  EXPECT_EQ(as->resource, RLIMIT_AS);
  EXPECT_EQ(as->soft, rlim_t{1} << 30);
  EXPECT_EQ(as->hard, rlim_t{1} << 30);

  auto files = parse_rlimit("open_files", "1024");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->resource, RLIMIT_NOFILE);
  EXPECT_EQ(files->soft, 1024u);

  auto core_off = parse_rlimit("core", "0");
  ASSERT_TRUE(core_off.ok());
  EXPECT_EQ(core_off->resource, RLIMIT_CORE);
  EXPECT_EQ(core_off->hard, 0u);
  auto core_on = parse_rlimit("core", "unlimited");
  ASSERT_TRUE(core_on.ok());
  EXPECT_EQ(core_on->soft, RLIM_INFINITY);
  auto core_size = parse_rlimit("core", "512MiB");
  ASSERT_TRUE(core_size.ok());
  EXPECT_EQ(core_size->soft, 512u * 1024 * 1024);

  auto procs = parse_rlimit("processes", "64");
  ASSERT_TRUE(procs.ok());
  EXPECT_EQ(procs->resource, RLIMIT_NPROC);
  EXPECT_EQ(procs->soft, 64u);
}

TEST(Rlimits, RejectsWhatTheKernelCouldNotMean) {
  auto unknown = parse_rlimit("stack", "8MiB");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(), HasSubstr("unknown key 'stack'"));
  auto files = parse_rlimit("open_files", "unlimited");  // RLIMIT_NOFILE has no infinity
  ASSERT_FALSE(files.ok());
  EXPECT_THAT(files.error(), HasSubstr("limits.open_files: 'unlimited'"));
  EXPECT_FALSE(parse_rlimit("open_files", "0").ok());
  EXPECT_FALSE(parse_rlimit("open_files", "-1").ok());
  EXPECT_FALSE(parse_rlimit("processes", "many").ok());
  EXPECT_FALSE(parse_rlimit("address_space", "lots").ok());
  EXPECT_EQ(rlimit_key(RLIMIT_NOFILE), "open_files");
}

TEST(Rlimits, ChildCannotOpenMoreFilesThanItsLimit) {
  const int code = in_child([] {
    const RlimitSetting limits[] = {{RLIMIT_NOFILE, 16, 16}};
    if (apply_rlimits_in_child(limits, 1) != 0) return 10;
    for (int i = 0; i < 32; ++i) {
      if (::open("/dev/null", O_RDONLY) < 0) return errno == EMFILE ? 0 : 11;
    }
    return 12;  // opened all 32
  });
  EXPECT_EQ(code, 0);
}

TEST(Rlimits, ReportsTheFirstSettingTheKernelRefuses) {
  const int code = in_child([] {
    const RlimitSetting limits[] = {{RLIMIT_CORE, 0, 0}, {RLIMIT_NOFILE, 32, 16}};
    std::size_t failed = 99;
    const int error = apply_rlimits_in_child(limits, 2, &failed);
    return error == EINVAL && failed == 1 ? 0 : 1;  // soft above hard
  });
  EXPECT_EQ(code, 0);
}

// This machine runs the hybrid layout: cgroup v1 controllers, and a cgroup2 mount at
// /sys/fs/cgroup/unified with only hugetlb. On a host with a usable v2 hierarchy there is
// nothing unavailable to check.
TEST(CgroupManager, ExplainsWhyLimitsAreUnavailableOnThisHost) {
  const CgroupManager manager = CgroupManager::detect();
  if (manager.available()) {
    // A host with a delegated cgroup v2 tree: nothing to explain, and a base to use.
    EXPECT_EQ(manager.unavailable_reason(), "");
    EXPECT_FALSE(manager.base().empty());
    return;
  }
  EXPECT_THAT(manager.unavailable_reason(), StartsWith("cgroup v2 limits unavailable: "));
  EXPECT_THAT(manager.unavailable_reason(),
              EndsWith("memory.max/cpu.max/pids.max not enforced, rlimits still apply"));
  if (fs::exists("/sys/fs/cgroup/unified/cgroup.controllers") &&
      read("/sys/fs/cgroup/unified/cgroup.controllers").find("memory") == std::string::npos) {
    EXPECT_THAT(manager.unavailable_reason(), HasSubstr("lacks the cpu, memory, pids controllers"));
    EXPECT_THAT(manager.unavailable_reason(), HasSubstr("(cgroup v1 in use)"));
  }
  CgroupManager copy = manager;
  auto prepared = copy.prepare("lidar", CgroupLimits{.memory_max = 1 << 20});
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error(), manager.unavailable_reason());
}

// A stand-in for a delegated cgroup v2 directory: a plain temporary directory with the files
// the kernel would provide at <base>. Creating real cgroups needs a writable v2 hierarchy with
// the memory, cpu and pids controllers, which this host does not have. Because the directory
// is not cgroupfs, the manager creates the interface files the kernel would have created
// (see CgroupManager::detect), so what is checked is the layout and the values written.
class FakeCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("vigil-cgroup-" + std::to_string(::getpid()));
    fs::create_directories(base_);
    write("cgroup.controllers", "cpu memory pids\n");
    write("cgroup.subtree_control", "");
    write("cgroup.procs", "");
  }
  void TearDown() override { fs::remove_all(base_); }
  void write(const std::string& relative, const std::string& text) {
    std::ofstream(base_ / relative) << text;
  }

  fs::path base_;
};

TEST_F(FakeCgroupTree, PrepareCreatesTheComponentCgroupWithItsLimits) {
  CgroupManager manager = CgroupManager::detect(base_.string());
  ASSERT_TRUE(manager.available()) << manager.unavailable_reason();
  EXPECT_TRUE(manager.unavailable_reason().empty());

  const CgroupLimits limits{
      .memory_max = 200ull * 1024 * 1024, .cpu_max_cores = 0.5, .pids_max = 32};
  auto prepared = manager.prepare("lidar", limits);
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  ComponentCgroup& cgroup = prepared.value();
  const fs::path dir = base_ / "components" / "lidar";
  EXPECT_EQ(cgroup.path(), dir.string());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(read(dir / "memory.max"), "209715200");
  EXPECT_EQ(read(dir / "cpu.max"), "50000 100000");
  EXPECT_EQ(read(dir / "pids.max"), "32");
  // Delegation layout: vigild moved itself ("0") into a leaf, controllers enabled for the
  // children of <base> and of <base>/components.
  EXPECT_EQ(read(base_ / "vigild" / "cgroup.procs"), "0");
  EXPECT_EQ(read(base_ / "cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(read(base_ / "components" / "cgroup.subtree_control"), "+cpu +memory +pids");

  ASSERT_GE(cgroup.procs_fd(), 0);
  EXPECT_EQ(::fcntl(cgroup.procs_fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  const int fd = cgroup.procs_fd();
  EXPECT_EQ(in_child([fd] { return enter_cgroup_in_child(fd); }), 0);
  EXPECT_EQ(read(dir / "cgroup.procs"), "0");
  EXPECT_EQ(enter_cgroup_in_child(-1), 0);

  std::ofstream(dir / "cgroup.procs") << "4242\n4243\n";
  EXPECT_EQ(cgroup.pids(), (std::vector<pid_t>{4242, 4243}));
  std::ofstream(dir / "memory.events") << "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n";
  EXPECT_EQ(cgroup.oom_kills(), 2u);

  // A second component without a CPU limit: the enabled controller gets "max".
  auto camera = manager.prepare("camera", CgroupLimits{.memory_max = 1 << 20});
  ASSERT_TRUE(camera.ok()) << camera.error();
  EXPECT_EQ(read(base_ / "components" / "camera" / "cpu.max"), "max 100000");
  EXPECT_EQ(read(base_ / "components" / "camera" / "pids.max"), "max");

  // New limits on reload: prepared again and assigned over the live handle.
  auto again = manager.prepare("lidar", CgroupLimits{.memory_max = 100ull * 1024 * 1024});
  ASSERT_TRUE(again.ok()) << again.error();
  cgroup = std::move(again.value());
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(read(dir / "memory.max"), "104857600");
  EXPECT_EQ(read(dir / "cpu.max"), "max 100000");

  prepared = Result<ComponentCgroup>(ComponentCgroup());  // destroys the lidar cgroup
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(FakeCgroupTree, MissingControllersMakeItUnavailable) {
  write("cgroup.controllers", "memory\n");
  const CgroupManager all = CgroupManager::detect(base_.string());
  EXPECT_FALSE(all.available());
  EXPECT_THAT(all.unavailable_reason(), HasSubstr("lacks the cpu, pids controllers"));

  CgroupManager memory_only =
      CgroupManager::detect(base_.string(), CgroupControllers{.memory = true});
  ASSERT_TRUE(memory_only.available()) << memory_only.unavailable_reason();
  auto cpu = memory_only.prepare("planner", CgroupLimits{.cpu_max_cores = 1.0});
  ASSERT_FALSE(cpu.ok());
  EXPECT_THAT(cpu.error(), HasSubstr("the cpu controller is not available"));
  auto memory = memory_only.prepare("planner", CgroupLimits{.memory_max = 1 << 20});
  ASSERT_TRUE(memory.ok()) << memory.error();
  EXPECT_EQ(read(base_ / "cgroup.subtree_control"), "+memory");
}

TEST_F(FakeCgroupTree, RejectsNamesThatAreNotOneDirectory) {
  CgroupManager manager = CgroupManager::detect(base_.string());
  for (const std::string name : {"", ".", "..", "a/b", "../../etc"}) {
    auto prepared = manager.prepare(name, CgroupLimits{});
    EXPECT_FALSE(prepared.ok()) << name;
  }
}

TEST_F(FakeCgroupTree, ErrorsNameThePathAndTheSystemError) {
  CgroupManager manager = CgroupManager::detect(base_.string());
  ASSERT_TRUE(manager.available());
  fs::create_directories(base_ / "components");
  fs::create_directories(base_ / "components" / "cgroup.subtree_control");  // not a file
  auto prepared = manager.prepare("lidar", CgroupLimits{.pids_max = 8});
  ASSERT_FALSE(prepared.ok());
  EXPECT_THAT(
      prepared.error(),
      HasSubstr((base_ / "components" / "cgroup.subtree_control").string() + ": Is a directory"));
}

TEST(CgroupManagerDetect, ReportsAMissingOverrideDirectory) {
  const CgroupManager manager = CgroupManager::detect("/nonexistent/vigil-cgroup");
  EXPECT_FALSE(manager.available());
  EXPECT_THAT(manager.unavailable_reason(),
              HasSubstr("/nonexistent/vigil-cgroup: No such file or directory"));
}

}  // namespace
}  // namespace vigil::resources
