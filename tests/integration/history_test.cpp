// The metric history with a real vigild: a component whose RSS grows is charted in
// state_dir/metrics.db, and the points survive a clean restart and a kill -9 of vigild, with
// new points appended by the next vigild. Ticks are awaited by polling the database through a
// read-only connection, as an operator's sqlite3 would read it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

std::int64_t wall_clock_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The start (unix seconds) of the newest 1 s bucket committed to the file, read through a
// read-only connection; 0 while there is none (or no file yet).
std::int64_t newest_on_disk(const std::string& db) {
  sqlite3* c = nullptr;
  std::int64_t newest = 0;
  if (sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(c, 2000);
    sqlite3_stmt* s = nullptr;
    const char* sql =
        "SELECT max(coalesce((SELECT max(t_s) FROM recent WHERE resolution_s = 1), 0),"
        " coalesce((SELECT max(chunk_s) FROM chunks WHERE resolution_s = 1), 0))";
    if (sqlite3_prepare_v2(c, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      newest = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(c);
  return newest;
}

// Waits until a 1 s bucket that starts after `after_s` is in the file.
void await_bucket_after(Vigild& v, std::int64_t after_s) {
  const std::string db = v.state_dir() + "/metrics.db";
  EXPECT_TRUE(v.poll_until([&] { return newest_on_disk(db) > after_s; }, 30s))
      << "no bucket after " << after_s << " in " << db;
}

// The 1 s points of one series through the control socket: [[t_ms, avg, min, max], ...].
json history(Vigild& v, const std::string& component, const std::string& series) {
  auto reply = v.request(
      {{"cmd", "history"}, {"component", component}, {"series", series}, {"max_points", 100000}});
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  return reply.value("points", json::array());
}

// Polls until the series has at least `count` points.
json await_points(Vigild& v, const std::string& component, const std::string& series,
                  std::size_t count) {
  json points;
  EXPECT_TRUE(v.poll_until(
      [&] {
        points = history(v, component, series);
        return points.size() >= count;
      },
      30s))
      << component << "/" << series << ": " << points.dump();
  return points;
}

// Every point of `before` is in `after`, unchanged in time.
void expect_kept(const json& before, const json& after) {
  std::set<std::int64_t> times;
  for (const auto& p : after) times.insert(p[0].get<std::int64_t>());
  for (const auto& p : before) {
    EXPECT_TRUE(times.count(p[0].get<std::int64_t>()) == 1) << "lost the point at " << p[0];
  }
}

TEST(History, SeriesSurviveRestartAndKill9AndNewPointsAreAppended) {
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: mapper
      command: [@BIN@/robot_sim, --grow-rss, "10", --grow-to, "80", --heartbeat, 100ms]
      ready: notify
      watchdog: {timeout: 3s}
)");
  v.start();
  v.wait_for("mapper", "ready");
  const std::int64_t started_s = wall_clock_s();
  // Awaited in the file itself: a few 1 s buckets committed.
  await_bucket_after(v, started_s + 3);
  const auto first = await_points(v, "mapper", "rss_bytes", 4);
  EXPECT_GT(first.back()[1].get<double>(), first.front()[1].get<double>())
      << "RSS grows by 10 MiB/s: " << first.dump();
  await_points(v, "mapper", "cpu_percent", 2);
  await_points(v, "host", "memory_available_percent", 2);
  const auto beats = await_points(v, "mapper", "heartbeat_interval_ms", 2);
  EXPECT_GT(beats.back()[1].get<double>(), 50.0);
  EXPECT_LT(beats.back()[1].get<double>(), 500.0) << "heartbeats every 100 ms";

  auto reply = v.request(
      {{"cmd", "history"}, {"component", "mapper"}, {"series", "rss_bytes"}, {"max_points", 100}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(reply["component"], "mapper");
  EXPECT_EQ(reply["series"], "rss_bytes");
  EXPECT_EQ(reply["resolution_ms"], 1000);
  ASSERT_GE(reply["points"].size(), 4u) << reply.dump();
  const auto& p = reply["points"].back();
  ASSERT_EQ(p.size(), 4u) << "[t_ms, avg, min, max]";
  EXPECT_LE(p[2].get<double>(), p[1].get<double>());
  EXPECT_GE(p[3].get<double>(), p[1].get<double>());
  const auto available = reply["available"].get<std::vector<std::string>>();
  for (const char* s : {"cpu_percent", "rss_bytes", "threads", "fds", "heartbeat_interval_ms"}) {
    EXPECT_NE(std::find(available.begin(), available.end(), s), available.end()) << s;
  }
  EXPECT_FALSE(v.request({{"cmd", "history"}}).value("ok", true)) << "component is required";

  // A clean restart: everything stored so far is still there, and the next vigild appends.
  const auto before_stop = history(v, "mapper", "rss_bytes");
  EXPECT_EQ(v.stop(), 0);
  const std::int64_t stopped_s = wall_clock_s();
  v.start();
  await_bucket_after(v, stopped_s + 1);
  const auto after_restart = await_points(v, "mapper", "rss_bytes", before_stop.size() + 2);
  expect_kept(before_stop, after_restart);
  EXPECT_GT(after_restart.back()[0].get<std::int64_t>(), stopped_s * 1000) << "appended";

  // kill -9: only the buckets being filled are lost; the next vigild (adopting mapper) goes on.
  const auto before_kill = history(v, "mapper", "rss_bytes");
  v.kill9();
  const std::int64_t killed_s = wall_clock_s();
  v.start();
  await_bucket_after(v, killed_s + 1);
  const auto after_kill = await_points(v, "mapper", "rss_bytes", before_kill.size() + 2);
  expect_kept(before_kill, after_kill);
  EXPECT_GT(after_kill.back()[0].get<std::int64_t>(), killed_s * 1000) << "appended";
  EXPECT_EQ(after_kill.front()[0], first.front()[0]) << "the oldest point is still the first";
}

TEST(History, UnusableHistoryFileLeavesVigildSupervising) {
  Vigild v(R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      watchdog: {timeout: 2s}
)");
  std::filesystem::create_directories(v.state_dir());
  {
    std::ofstream garbage(v.state_dir() + "/metrics.db", std::ios::binary);
    garbage << std::string(8192, '\x5a');
  }
  v.start();
  v.wait_for("lidar", "ready");
  auto reply = v.request({{"cmd", "history"}, {"component", "lidar"}, {"series", "phi"}});
  EXPECT_FALSE(reply.value("ok", true));
  EXPECT_NE(reply.value("error", "").find("not a database"), std::string::npos) << reply.dump();
  EXPECT_NE(v.vigild_output().find("without metric history"), std::string::npos);
  EXPECT_EQ(v.component("lidar")["state"], "running");
}

}  // namespace
}  // namespace vigil::testing
