// vigild with a full state directory: a real tmpfs of a few MiB mounted as its state_dir
// (root only), filled up while a component crashes and restarts. Supervision must go on, the
// failure must be said loudly, and once there is room again every event is in the log.
#include "config/state_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

// A tmpfs of `size` at `path`, detached on destruction.
class SmallDisk {
 public:
  SmallDisk(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    if (::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
      error_ = std::string("mount tmpfs: ") + std::strerror(errno) + " (this test needs root)";
    }
  }
  // Read-only from now on (nothing may be open for writing on it).
  bool make_read_only() {
    return ::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(path_.c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }

  // Writes a file until the disk is full; returns the bytes written.
  std::size_t fill(const std::string& name) {
    const int fd = ::open((path_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    std::string block(64 * 1024, 'x');
    std::size_t written = 0;
    for (;;) {
      const ssize_t n = ::write(fd, block.data(), block.size());
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return written;
  }

 private:
  std::string path_;
  std::string error_;
};

// A component that exits every 0.2 s and is restarted at once: a steady stream of events.
constexpr const char* kCrasher = R"(
root:
  intensity: {restarts: 1000, within: 1m}
  children:
    - name: crasher
      command: [/bin/sh, -c, "sleep 0.2; exit 3"]
      backoff: {initial: 50ms, max: 50ms, jitter: 0}
)";

bool is_event_log_event(const json& e, const std::string& kind) {
  return e.value("kind", "") == kind && e["detail"].value("source", "") == "event_log";
}

TEST(StateDir, AFullDiskDoesNotStopSupervisionIsSaidLoudlyAndLosesNoEvent) {
  Vigild v(kCrasher);
  SmallDisk disk(v.state_dir(), "4m");
  ASSERT_EQ(disk.error(), "");
  v.start();
  auto first = v.wait_for("crasher", "exited");

  ASSERT_GT(disk.fill("filler"), 0u);
  // Said on the event stream (id 0: it has no place in the log yet), in the status, and
  // in vigild's own output.
  auto failing = v.wait_for([](const json& e) { return is_event_log_event(e, "warning"); }, 15s,
                            /*after_id=*/-1);
  EXPECT_NE(failing.value("reason", "").find("not writable"), std::string::npos) << failing.dump();
  EXPECT_NE(failing["detail"].value("error", "").find("full"), std::string::npos) << failing.dump();
  auto status = v.status()["daemon"]["event_log"];
  EXPECT_EQ(status["writable"], false) << status.dump();
  auto cli = run_command({bin("vigil"), "--socket", v.state_dir() + "/control.sock", "status"});
  EXPECT_NE(cli.output.find("event log NOT WRITABLE: database or disk is full"), std::string::npos)
      << cli.output;

  // Supervision goes on: the crasher is restarted again and again meanwhile.
  std::set<int> pids_while_full;
  const auto failing_at = std::find(v.events().begin(), v.events().end(), failing);
  const auto index = static_cast<std::size_t>(failing_at - v.events().begin());
  ASSERT_TRUE(v.poll_until(
      [&] {
        v.follow_for(100ms);
        pids_while_full.clear();
        for (std::size_t i = index; i < v.events().size(); ++i) {
          const auto& e = v.events()[i];
          if (e["component"] == "crasher" && e["kind"] == "spawned") {
            pids_while_full.insert(e["detail"].value("pid", 0));
          }
        }
        return pids_while_full.size() >= 5;
      },
      20s));
  EXPECT_GT(v.status()["daemon"]["event_log"].value("held_events", 0), 5);
  EXPECT_NE(v.vigild_output().find("not writable"), std::string::npos);

  // Room again: the held events are written, in order, and that is said too.
  std::filesystem::remove(v.state_dir() + "/filler");
  auto cleared = v.wait_for([](const json& e) { return is_event_log_event(e, "warning_cleared"); },
                            15s, /*after_id=*/first["id"]);
  EXPECT_GT(cleared["detail"].value("written_late", 0), 5) << cleared.dump();
  EXPECT_EQ(cleared["detail"].value("dropped_events", -1), 0) << cleared.dump();
  EXPECT_EQ(v.status()["daemon"]["event_log"]["writable"], true);

  auto logged = v.request({{"cmd", "events"}, {"limit", 100000}})["events"];
  std::set<int> pids_logged;
  bool warning_logged = false;
  std::int64_t previous_id = 0;
  for (const auto& e : logged) {
    if (e["component"] == "crasher" && e["kind"] == "spawned") {
      pids_logged.insert(e["detail"].value("pid", 0));
    }
    if (is_event_log_event(e, "warning")) warning_logged = true;
    EXPECT_GT(e["id"].get<std::int64_t>(), previous_id) << "ids in order";
    previous_id = e["id"].get<std::int64_t>();
  }
  for (int pid : pids_while_full) {
    EXPECT_TRUE(pids_logged.count(pid)) << "the spawn of pid " << pid << " is not in the log";
  }
  EXPECT_TRUE(warning_logged) << "the warning itself is kept";
}

TEST(StateDir, AReadOnlyStateDirAtStartIsReplacedByOneUnderRunAndSaidLoudly) {
  Vigild v(R"(
state_dir: @DIR@/ro/state
root:
  children:
    - name: worker
      command: [/bin/sleep, "3600"]
)");
  SmallDisk disk(v.dir() + "/ro", "1m");
  ASSERT_EQ(disk.error(), "");
  std::filesystem::create_directories(v.dir() + "/ro/state");
  ASSERT_TRUE(disk.make_read_only()) << std::strerror(errno);
  const std::string configured = v.dir() + "/ro/state";
  const std::string fallback = config::fallback_state_dir(configured);
  std::filesystem::remove_all(fallback);
  v.set_socket_path(fallback + "/control.sock");
  v.start();

  // The robot runs.
  v.wait_for("worker", "spawned");
  auto warning = v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "warning" && e["detail"].value("source", "") == "state_dir";
      },
      10s);
  EXPECT_EQ(warning["detail"]["configured"], configured) << warning.dump();
  EXPECT_EQ(warning["detail"]["running_from"], fallback) << warning.dump();
  EXPECT_NE(warning["detail"].value("error", "").find("Read-only file system"), std::string::npos)
      << warning.dump();
  auto daemon = v.status()["daemon"];
  EXPECT_EQ(daemon["state_dir"], fallback);
  EXPECT_EQ(daemon["state_dir_fallback"]["configured"], configured);
  EXPECT_NE(v.vigild_output().find("cannot be written"), std::string::npos);

  // The command line finds it from the config alone, and says it too.
  auto cli = run_command({bin("vigil"), "--config", v.config_path(), "status"});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("worker"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("state dir NOT WRITABLE"), std::string::npos) << cli.output;
  EXPECT_EQ(v.stop(), 0);
  std::filesystem::remove_all(fallback);
}

// The same path on demand: `vigil chaos state-dir-full` makes the log's writes fail for a while.
TEST(StateDir, AChaosFullStateDirIsRiddenOutWithoutLosingAnEvent) {
  Vigild v(kCrasher);
  v.start();
  auto first = v.wait_for("crasher", "exited");
  auto out = run_command({bin("vigil"), "--socket", v.state_dir() + "/control.sock", "chaos",
                          "state-dir-full", "--for", "2s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for(
      [](const json& e) {
        return e.value("kind", "") == "fault_injected" &&
               e["detail"].value("fault", "") == "state_dir_full";
      },
      10s, first["id"]);
  auto failing = v.wait_for([](const json& e) { return is_event_log_event(e, "warning"); }, 10s,
                            /*after_id=*/-1);
  EXPECT_NE(failing["detail"].value("error", "").find("injected by vigil chaos"), std::string::npos)
      << failing.dump();
  auto cleared = v.wait_for([](const json& e) { return is_event_log_event(e, "warning_cleared"); },
                            10s, /*after_id=*/injected["id"]);
  EXPECT_GT(cleared["detail"].value("written_late", 0), 3) << cleared.dump();

  // Every spawn seen on the stream while the log was failing is in the log now.
  std::set<int> streamed;
  bool during = false;
  for (const auto& e : v.events()) {
    if (e == failing) during = true;
    if (e == cleared) break;
    if (during && e["component"] == "crasher" && e["kind"] == "spawned") {
      streamed.insert(e["detail"].value("pid", 0));
    }
  }
  ASSERT_GE(streamed.size(), 3u);
  std::set<int> logged;
  bool fault_cleared_logged = false;
  const json events = v.request({{"cmd", "events"}, {"limit", 100000}})["events"];
  for (const auto& e : events) {
    if (e["component"] == "crasher" && e["kind"] == "spawned") {
      logged.insert(e["detail"].value("pid", 0));
    }
    if (e["kind"] == "fault_cleared") fault_cleared_logged = true;
  }
  for (int pid : streamed) EXPECT_TRUE(logged.count(pid)) << "spawn of " << pid << " lost";
  EXPECT_TRUE(fault_cleared_logged);
}

}  // namespace
}  // namespace vigil::testing
