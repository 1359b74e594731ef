// vigild must be the most reliable process on the robot: killed with kill -9 at random moments
// while its components start, heartbeat, crash and restart, it is started again each time.
// Afterwards no component runs twice, none runs unsupervised, the event log is intact and
// every event vigild acknowledged (delivered on its event stream, which sends only committed
// events) is still there.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "diagnostics/event_log.hpp"
#include "integration/harness.hpp"
#include "process/spawn.hpp"

namespace vigil::testing {
namespace {

// The live processes started for this vigild's components (their NOTIFY_SOCKET is this state
// directory's), by component.
std::map<std::string, std::vector<pid_t>> component_processes(const std::string& state_dir) {
  std::map<std::string, std::vector<pid_t>> out;
  const std::string socket = "NOTIFY_SOCKET=" + state_dir + "/notify.sock";
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* d = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(d->d_name));
    if (pid <= 0 || !process_alive(pid)) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
    std::stringstream text;
    text << in.rdbuf();
    std::string component;
    bool ours = false;
    std::string entry;
    for (std::istringstream env(text.str()); std::getline(env, entry, '\0');) {
      if (entry == socket) ours = true;
      if (entry.rfind("VIGIL_COMPONENT=", 0) == 0) component = entry.substr(16);
    }
    if (ours && !component.empty()) out[component].push_back(pid);
  }
  ::closedir(proc);
  return out;
}

std::map<std::string, pid_t> supervised(Vigild& v) {
  std::map<std::string, pid_t> out;
  for (const char* name : {"steady", "crasher", "late", "sleeper"}) {
    out[name] = v.component(name).value("pid", 0);
  }
  return out;
}

std::string integrity_check(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string result;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr);
  while (sqlite3_step(s) == SQLITE_ROW) {
    result += reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return result;
}

TEST(Survival, Kill9AtRandomMomentsNeverDuplicatesOrAbandonsAComponent) {
  Vigild v(R"(
root:
  intensity: {restarts: 100000, within: 1m}
  children:
    - name: steady
      command: [@BIN@/robot_sim, --print-every, 20ms]
      ready: notify
      watchdog: {timeout: 2s}
    - name: crasher          # crashes 150 ms after every start: always being restarted
      command: [@BIN@/robot_sim, --crash-after, 150ms]
      ready: notify
      backoff: {initial: 10ms, max: 40ms}
      limits: {core: 0}
    - name: late             # ready 300 ms after its start
      command: [@BIN@/robot_sim, --ready-delay, 300ms]
      ready: notify
      after: [steady]
    - name: sleeper
      command: [/bin/sleep, "3600"]
)");
  std::mt19937 rng(20261129);
  std::uniform_int_distribution<int> moment_ms(0, 400);
  constexpr int kKills = 50;
  for (int i = 0; i < kKills; ++i) {
    v.start();
    // The random moment: whatever vigild delivers meanwhile has been committed.
    v.follow_for(std::chrono::milliseconds(moment_ms(rng)));
    v.kill9();
  }
  const std::vector<json> acknowledged = v.events();
  ASSERT_GT(acknowledged.size(), 100u) << "the soak did too little to prove anything";

  v.start();
  // Every component supervised again: the steady ones adopted or started, the crasher cycling.
  ASSERT_TRUE(v.poll_until(
      [&] {
        for (const char* name : {"steady", "late", "sleeper"}) {
          if (v.component(name).value("state", "") != "running") return false;
        }
        return true;
      },
      20s))
      << v.status().dump();
  // No component runs twice, and every live process of ours is a component's main process.
  // (A sample can catch the crasher between its exit and its restart: it is taken again.)
  int consistent = 0;
  for (int attempt = 0; attempt < 50 && consistent < 5; ++attempt) {
    const auto before = supervised(v);
    const auto live = component_processes(v.state_dir());
    const auto after = supervised(v);
    bool ok = before == after;
    for (const auto& [component, pids] : live) {
      EXPECT_LE(pids.size(), 1u) << component << " runs " << pids.size() << " times";
      if (pids.size() == 1 && ok && before.at(component) != pids[0]) ok = false;
    }
    for (const char* name : {"steady", "late", "sleeper"}) {
      ASSERT_TRUE(live.count(name)) << name << " is not running at all";
      EXPECT_EQ(live.at(name).front(), before.at(name)) << name << " runs unsupervised";
    }
    consistent += ok ? 1 : 0;
  }
  EXPECT_EQ(consistent, 5) << "the crasher's process and vigild's idea of it never agreed";

  EXPECT_EQ(integrity_check(v.state_dir() + "/events.db"), "ok");
  auto log = diagnostics::EventLog::open(v.state_dir() + "/events.db", {}, /*read_only=*/true);
  ASSERT_TRUE(log.ok()) << log.error();
  std::set<std::int64_t> stored;
  for (const auto& e : (*log)->query({.limit = 1'000'000})) stored.insert(e.id);
  int lost = 0;
  for (const auto& e : acknowledged) {
    if (!stored.count(e["id"].get<std::int64_t>())) ++lost;
  }
  EXPECT_EQ(lost, 0) << "of " << acknowledged.size() << " acknowledged events";
  RecordProperty("acknowledged_events", static_cast<int>(acknowledged.size()));
  std::printf("%d kill -9s; %zu acknowledged events, all kept; %zu adoptions\n", kKills,
              acknowledged.size(),
              static_cast<std::size_t>(
                  std::count_if(acknowledged.begin(), acknowledged.end(),
                                [](const json& e) { return e.value("kind", "") == "adopted"; })));
}

const char* kSteady = R"(
root:
  children:
    - name: steady
      command: [@BIN@/robot_sim]
      ready: notify
      watchdog: {timeout: 2s}
)";

int sql(const std::string& db_path, const std::string& statement) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(db_path.c_str(), &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

// vigild records a process in the same commit as its `spawned` event; killed between the fork
// and that commit, it leaves a process no record names. The next vigild finds it by its
// environment and adopts it instead of starting a second one.
TEST(Survival, AProcessTheLastVigildDidNotRecordIsAdoptedNotDuplicated) {
  Vigild v(kSteady);
  v.start();
  const pid_t pid = v.wait_for("steady", "ready")["detail"]["pid"].get<pid_t>();
  v.kill9();
  // As if the kill had come before the commit.
  ASSERT_EQ(sql(v.state_dir() + "/events.db", "DELETE FROM processes"), SQLITE_OK);
  const std::int64_t before = v.events().back()["id"].get<std::int64_t>();
  v.start();
  const json adopted = v.wait_for("steady", "adopted", 10s, before);
  EXPECT_EQ(adopted["detail"]["pid"], pid);
  EXPECT_TRUE(v.poll_until([&] { return v.component("steady")["heartbeats"] >= 2; }, 10s));
  for (const auto& e : v.events_of("steady", "spawned")) {
    EXPECT_LT(e["id"].get<std::int64_t>(), before) << "a second steady was started";
  }
  EXPECT_EQ(component_processes(v.state_dir())["steady"], std::vector<pid_t>{pid});
}

// Two processes of one component outlived their vigild (here: a stray one started by hand with
// the component's environment): the recorded one is adopted, the other killed.
TEST(Survival, ASecondProcessOfAComponentIsStoppedNotAdopted) {
  Vigild v(kSteady);
  v.start();
  const pid_t pid = v.wait_for("steady", "ready")["detail"]["pid"].get<pid_t>();
  v.kill9();
  process::SpawnRequest stray;
  stray.argv = {bin("robot_sim")};
  stray.env = {"NOTIFY_SOCKET=" + v.state_dir() + "/notify.sock", "VIGIL_COMPONENT=steady"};
  auto spawned = process::spawn(stray);
  ASSERT_TRUE(spawned.process.has_value()) << spawned.error.message;
  const pid_t stray_pid = spawned.process->pid;
  ASSERT_TRUE(
      v.poll_until([&] { return component_processes(v.state_dir())["steady"].size() == 2; }, 5s));

  const std::int64_t before = v.events().back()["id"].get<std::int64_t>();
  v.start();
  EXPECT_EQ(v.wait_for("steady", "adopted", 10s, before)["detail"]["pid"], pid);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PIDFD, static_cast<id_t>(spawned.process->pidfd.get()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_KILLED);
  EXPECT_EQ(info.si_status, SIGKILL);
  EXPECT_EQ(component_processes(v.state_dir())["steady"], std::vector<pid_t>{pid});
  EXPECT_NE(pid, stray_pid);
}

// While vigild is down nobody reads a component's output: it must neither die (SIGPIPE) nor
// block on a chatty burst. Its output FIFO holds 1 MiB (the default pipe would block at 64 KiB),
// and the next vigild drains it into the log, losing nothing.
TEST(Survival, AChattyComponentDoesNotBlockWhileVigildIsDownAndItsOutputIsKept) {
  Vigild v(R"(
root:
  children:
    - name: chatty
      command: [/bin/sh, -c, "while [ ! -e @DIR@/go ]; do sleep 0.05; done; head -c 409600 /dev/zero | tr -c y x | fold -w 99; echo; echo all-written; touch @DIR@/wrote; exec sleep 3600"]
)");
  v.start();
  const pid_t pid = v.wait_for("chatty", "spawned")["detail"]["pid"].get<pid_t>();
  v.kill9();
  std::ofstream(v.dir() + "/go") << "go\n";
  // 400 KiB written with nobody reading: the writer must get through it.
  EXPECT_TRUE(v.poll_until([&] { return std::filesystem::exists(v.dir() + "/wrote"); }, 10s))
      << "the component blocked on its output while vigild was down";
  EXPECT_TRUE(process_alive(pid));

  const std::int64_t before = v.events().back()["id"].get<std::int64_t>();
  v.start();
  EXPECT_EQ(v.wait_for("chatty", "adopted", 10s, before)["detail"]["pid"], pid);
  const std::string log = v.state_dir() + "/logs/chatty.log";
  auto contents = [&] {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_TRUE(
      v.poll_until([&] { return contents().find("all-written") != std::string::npos; }, 10s));
  const std::string text = contents();
  EXPECT_GE(std::count(text.begin(), text.end(), 'x'), 409600) << "output was lost";
}

}  // namespace
}  // namespace vigil::testing
