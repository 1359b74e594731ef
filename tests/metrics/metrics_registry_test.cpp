// The registry: counters from a sequence of health events, gauges from a status reply, and
// the whole exposition checked by the real promtool.
#include "metrics/metrics_registry.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

extern char** environ;

namespace vigil::metrics {
namespace {

namespace fs = std::filesystem;
using health::EventKind;
using health::FailureKind;
using nlohmann::json;

constexpr std::int64_t kSecond = 1'000'000;  // µs

health::Event event(const std::string& component, EventKind kind, std::int64_t wall_us,
                    FailureKind failure = FailureKind::none, json detail = json::object(),
                    std::string state = "") {
  health::Event e;
  e.component = component;
  e.kind = kind;
  e.wall_us = wall_us;
  e.mono_us = wall_us;
  e.failure = failure;
  e.detail = std::move(detail);
  e.state = std::move(state);
  e.reason = "test";
  return e;
}

// The value of the sample written exactly as `series` (name and labels as rendered).
std::optional<double> sample(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      const std::string value = line.substr(series.size() + 1);
      if (value == "+Inf") return std::numeric_limits<double>::infinity();
      return std::stod(value);
    }
  }
  return std::nullopt;
}

// One failure and the supervisor's restart of the failed component, as the supervisor emits
// them: the failure event, then restart_scheduled naming the components it restarts.
void fail_and_restart(MetricsRegistry& r, const std::string& component, FailureKind kind,
                      std::int64_t at_us, EventKind event_kind = EventKind::exited) {
  r.on_event(event(component, event_kind, at_us, kind));
  r.on_event(event(component, EventKind::restart_scheduled, at_us, FailureKind::none,
                   {{"delay_ms", 0}, {"attempt", 1}, {"restarting", {component}}}, "backoff"));
}

TEST(MetricsRegistry, CountsFailuresByComponentAndKindAndHangs) {
  MetricsRegistry r;
  fail_and_restart(r, "lidar", FailureKind::signal, 1 * kSecond);
  fail_and_restart(r, "lidar", FailureKind::signal, 2 * kSecond);
  fail_and_restart(r, "lidar", FailureKind::exit_code, 3 * kSecond);
  fail_and_restart(r, "planner", FailureKind::hang, 4 * kSecond, EventKind::hang_detected);
  // The exit that follows a hang carries no failure of its own: it is not counted twice.
  r.on_event(event("planner", EventKind::exited, 4 * kSecond + 100));
  const std::string text = r.render(json::object());

  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="lidar",kind="signal"})"), 2);
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="lidar",kind="exit_code"})"),
            1);
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="lidar",kind="hang"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="planner",kind="hang"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_hangs_total{component="planner"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_hangs_total{component="lidar"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_component_restarts_total{component="lidar"})"), 3);
  EXPECT_EQ(sample(text, R"(vigil_events_total{kind="exited"})"), 4);
  EXPECT_EQ(sample(text, R"(vigil_events_total{kind="hang_detected"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_events_total{kind="restart_scheduled"})"), 4);
  EXPECT_EQ(sample(text, R"(vigil_events_total{kind="given_up"})"), 0);
}

TEST(MetricsRegistry, GroupRestartCountsEveryComponentItRestarts) {
  MetricsRegistry r;
  r.on_event(event("camera", EventKind::exited, kSecond, FailureKind::crash));
  // one_for_all: the group restarts all three; then each member gets its own
  // restart_scheduled (no list): those are not counted again.
  r.on_event(event("camera", EventKind::restart_scheduled, kSecond, FailureKind::none,
                   {{"attempt", 1}, {"restarting", {"camera", "lidar", "fusion"}}}));
  for (const char* c : {"camera", "lidar", "fusion"}) {
    r.on_event(event(c, EventKind::restart_scheduled, kSecond, FailureKind::none, {{"delay_ms", 0}},
                     "backoff"));
  }
  // An operator restart is not a supervisor restart.
  r.on_event(event("lidar", EventKind::operator_command, 2 * kSecond));
  r.on_event(event("lidar", EventKind::restart_scheduled, 2 * kSecond, FailureKind::none,
                   {{"delay_ms", 0}}, "backoff"));
  const std::string text = r.render(json::object());
  EXPECT_EQ(sample(text, R"(vigil_component_restarts_total{component="camera"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_restarts_total{component="lidar"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_restarts_total{component="fusion"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="fusion",kind="crash"})"), 0);
}

TEST(MetricsRegistry, RecoveryTimeGoesIntoTheRightBucket) {
  MetricsRegistry r;
  // 300 ms from a crash to ready again: above 0.25, within 0.5.
  fail_and_restart(r, "lidar", FailureKind::signal, 10 * kSecond);
  r.on_event(event("lidar", EventKind::spawned, 10 * kSecond + 1000));
  r.on_event(event("lidar", EventKind::ready, 10 * kSecond + 300'000));
  std::string text = r.render(json::object());
  const std::string bucket = R"(vigil_component_recovery_seconds_bucket{component="lidar",le=")";
  EXPECT_EQ(sample(text, bucket + R"(0.25"})"), 0);
  EXPECT_EQ(sample(text, bucket + R"(0.5"})"), 1);
  EXPECT_EQ(sample(text, bucket + R"(60"})"), 1);
  EXPECT_EQ(sample(text, bucket + R"(+Inf"})"), 1);
  EXPECT_DOUBLE_EQ(*sample(text, R"(vigil_component_recovery_seconds_sum{component="lidar"})"),
                   0.3);

  // A crash loop: the outage is timed from its first failure, not from the last one.
  fail_and_restart(r, "lidar", FailureKind::exit_code, 20 * kSecond);
  fail_and_restart(r, "lidar", FailureKind::not_ready, 21 * kSecond, EventKind::start_timeout);
  r.on_event(event("lidar", EventKind::ready, 22 * kSecond));  // 2 s after the first
  // A ready that ends no outage observes nothing.
  r.on_event(event("lidar", EventKind::ready, 40 * kSecond));
  text = r.render(json::object());
  EXPECT_EQ(sample(text, bucket + R"(1"})"), 1);
  EXPECT_EQ(sample(text, bucket + R"(2.5"})"), 2);
  EXPECT_EQ(sample(text, R"(vigil_component_recovery_seconds_count{component="lidar"})"), 2);
  EXPECT_DOUBLE_EQ(*sample(text, R"(vigil_component_recovery_seconds_sum{component="lidar"})"),
                   2.3);

  // Beyond the last bucket.
  fail_and_restart(r, "lidar", FailureKind::hang, 100 * kSecond, EventKind::hang_detected);
  r.on_event(event("lidar", EventKind::ready, 200 * kSecond));
  text = r.render(json::object());
  EXPECT_EQ(sample(text, bucket + R"(60"})"), 2);
  EXPECT_EQ(sample(text, bucket + R"(+Inf"})"), 3);
}

TEST(MetricsRegistry, OperatorStopEndsAnOutageWithoutARecovery) {
  MetricsRegistry r;
  r.on_event(event("arm", EventKind::exited, kSecond, FailureKind::crash));
  auto stopped =
      event("arm", EventKind::stopped, 2 * kSecond, FailureKind::none, json::object(), "stopped");
  stopped.reason = "stopped by operator";
  r.on_event(stopped);
  r.on_event(event("arm", EventKind::ready, 500 * kSecond));  // started again much later
  EXPECT_EQ(sample(r.render(json::object()),
                   R"(vigil_component_recovery_seconds_count{component="arm"})"),
            0);
}

// The status tree of a robot: groups, several components in them, one failed.
json component_node(const std::string& name, const std::string& state, int pid,
                    double cpu_seconds) {
  json node = {{"type", "component"},
               {"name", name},
               {"state", state},
               {"level", state == "running"  ? "OK"
                         : state == "failed" ? "ERROR"
                                             : "WARN"},
               {"reason", "test"},
               {"pid", pid},
               {"since_us", 1'700'000'000'000'000},
               {"for_ms", 1234},
               {"restarts", 0},
               {"wanted", true},
               {"heartbeats", 10},
               {"exec_failures", 0},
               {"restart", "permanent"}};
  if (state == "running") {
    node["resources"] = {{"processes", 2},
                         {"threads", 5},
                         {"rss_bytes", 52428800},
                         {"cpu_percent", 12.5},
                         {"cpu_seconds", cpu_seconds},
                         {"fds", 9},
                         {"read_bytes", 0},
                         {"write_bytes", 4096},
                         {"pids", {pid, pid + 1}}};
  }
  return node;
}

json robot_status() {
  json lidar = component_node("lidar", "running", 1200, 3.25);
  lidar["watchdog_timeout_ms"] = 500;
  lidar["liveness"] = {{"detector", "phi"},
                       {"heartbeats", 100},
                       {"since_heartbeat_ms", 42.5},
                       {"phi", 0.37},
                       {"phi_threshold", 8}};
  lidar["phi"] = 0.37;
  json camera = component_node("camera \"front\"", "running", 1300, 1);
  json planner = component_node("planner", "failed", 0, 0);
  planner["last_failure"] = {{"kind", "signal"}, {"reason", "killed"}, {"wall_us", 1}};
  planner["recovery"] = {{"step", 2}, {"of", 3}, {"action", "restart_group"}};
  json sensors = {{"type", "group"},
                  {"name", "sensors"},
                  {"strategy", "one_for_one"},
                  {"intensity", {{"restarts", 5}, {"within_ms", 60000}, {"recent", 1}}},
                  {"restarts", 0},
                  {"children", {lidar, camera}}};
  json tree = {{"type", "group"},
               {"name", "root"},
               {"strategy", "one_for_all"},
               {"intensity", {{"restarts", 3}, {"within_ms", 5000}, {"recent", 0}}},
               {"restarts", 0},
               {"children", {sensors, planner}}};
  json host = {{"type", "host"},
               {"name", "host"},
               {"level", "WARN"},
               {"warnings", {{"temperature", "temperature 86.0C >= warn 85.0C"}}},
               {"cpu_percent", 37.5},
               {"load", {0.5, 0.75, 1.25}},
               {"cpus", 8},
               {"mem_total_bytes", 16'000'000'000},
               {"mem_available_bytes", 9'000'000'000},
               {"disk_total_bytes", 500'000'000'000},
               {"disk_available_bytes", 200'000'000'000},
               {"temperatures", {{"coretemp/Package id 0", 86.0}, {"nvme/Composite", 41.85}}},
               {"oom_kills", 0},
               {"monitors", {{"cpu", "ok"}, {"temperature", "warn"}}}};
  json daemon = {{"pid", ::getpid()},
                 {"config", "/etc/vigil/robot.yaml"},
                 {"state_dir", "/var/lib/vigil"},
                 {"started_us", 1'700'000'000'000'000},
                 {"shutting_down", false},
                 {"notify_received", 12345},
                 {"notify_dropped", 2},
                 {"notify_late", 1},
                 {"event_log_write_errors", 0}};
  json mode = {{"name", "degraded"},
               {"reason", "lidar != ok holds"},
               {"values", {{"max_speed", "0.3"}}},
               {"modes", {"nominal", "degraded", "safe_stop"}}};
  json approvals = json::array({{{"id", "1"}, {"component", "planner"}}});
  return {{"ok", true},       {"tree", tree}, {"host", host},
          {"daemon", daemon}, {"mode", mode}, {"approvals", approvals}};
}

TEST(MetricsRegistry, GaugesFromTheStatusReply) {
  MetricsRegistry r("1.2.3");
  const std::string text = r.render(robot_status());
  EXPECT_EQ(sample(text, R"(vigil_component_up{component="lidar"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_up{component="planner"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_component_up{component="camera \"front\""})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_state{component="planner",state="failed"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_state{component="planner",state="running"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_component_state{component="lidar",state="running"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_level{component="planner"})"), 2);
  EXPECT_EQ(sample(text, R"(vigil_component_heartbeat_age_seconds{component="lidar"})"), 0.0425);
  EXPECT_EQ(sample(text, R"(vigil_component_phi{component="lidar"})"), 0.37);
  EXPECT_EQ(sample(text, R"(vigil_component_watchdog_timeout_seconds{component="lidar"})"), 0.5);
  EXPECT_EQ(sample(text, R"(vigil_component_heartbeat_age_seconds{component="planner"})"),
            std::nullopt);
  EXPECT_EQ(sample(text, R"(vigil_component_resident_memory_bytes{component="lidar"})"), 52428800);
  EXPECT_EQ(sample(text, R"(vigil_component_threads{component="lidar"})"), 5);
  EXPECT_EQ(sample(text, R"(vigil_component_open_fds{component="lidar"})"), 9);
  EXPECT_EQ(sample(text, R"(vigil_component_cpu_seconds_total{component="lidar"})"), 3.25);
  EXPECT_EQ(sample(text, R"(vigil_host_cpu_usage_ratio)"), 0.375);
  EXPECT_EQ(sample(text, R"(vigil_host_load15)"), 1.25);
  EXPECT_EQ(sample(text, R"(vigil_host_memory_available_bytes)"), 9e9);
  EXPECT_EQ(sample(text, R"(vigil_host_temperature_celsius{sensor="coretemp/Package id 0"})"), 86);
  EXPECT_EQ(sample(text, R"(vigil_host_monitor_level{monitor="temperature"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_host_level)"), 1);
  EXPECT_EQ(sample(text, R"(vigil_notify_datagrams_received_total)"), 12345);
  EXPECT_EQ(sample(text, R"(vigil_notify_datagrams_dropped_total)"), 2);
  EXPECT_EQ(sample(text, R"(vigil_event_log_write_errors_total)"), 0);
  EXPECT_EQ(sample(text, R"(vigil_build_info{version="1.2.3"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_recovery_step{component="planner"})"), 2);
  EXPECT_EQ(sample(text, R"(vigil_component_recovery_step{component="lidar"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_system_mode{mode="degraded"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_system_mode{mode="nominal"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_approvals_pending)"), 1);
  // Counters start at 0 for every component of the tree.
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="planner",kind="oom"})"), 0);
  EXPECT_EQ(sample(text, R"(vigil_component_restarts_total{component="camera \"front\""})"), 0);
  // vigild's own figures, from /proc/self.
  EXPECT_GT(sample(text, "process_resident_memory_bytes").value_or(0), 0);
  EXPECT_GT(sample(text, "process_open_fds").value_or(0), 0);
  const double start = sample(text, "process_start_time_seconds").value_or(0);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 24 * 3600) << "this test process started within a day";
}

TEST(MetricsRegistry, CpuCounterNeverGoesDownWhenTheComponentRestarts) {
  MetricsRegistry r;
  auto cpu_after = [&](const std::string& state, int pid, double seconds) {
    json status = robot_status();
    status["tree"]["children"][1] = component_node("planner", state, pid, seconds);
    return sample(r.render(status), R"(vigil_component_cpu_seconds_total{component="planner"})");
  };
  EXPECT_EQ(cpu_after("running", 500, 5), 5);
  EXPECT_EQ(cpu_after("running", 500, 7), 7);
  EXPECT_EQ(cpu_after("running", 600, 1), 8);  // restarted: the new process starts from 0
  EXPECT_EQ(cpu_after("backoff", 0, 0), 8);    // down: no sample, the count stays
  EXPECT_EQ(cpu_after("running", 700, 0.5), 8.5);
  EXPECT_EQ(cpu_after("running", 700, 0.25), 8.75);  // same pid number, figure went back:
                                                     // a reused pid, a new process
}

TEST(MetricsRegistry, CountersOutliveTheComponentsDisappearanceFromTheTree) {
  MetricsRegistry r;
  fail_and_restart(r, "planner", FailureKind::crash, kSecond);
  json status = robot_status();
  status["tree"]["children"].erase(1);  // a reload removed the planner
  const std::string text = r.render(status);
  EXPECT_EQ(sample(text, R"(vigil_component_failures_total{component="planner",kind="crash"})"), 1);
  EXPECT_EQ(sample(text, R"(vigil_component_up{component="planner"})"), std::nullopt);
}

TEST(MetricsRegistry, CountsHttpRequestsByRouteAndCode) {
  MetricsRegistry r;
  EXPECT_EQ(r.render(json::object()).find("vigil_http_requests_total"), std::string::npos);
  r.count_http_request("/metrics", 200);
  r.count_http_request("/metrics", 200);
  r.count_http_request("/api/components/:name", 404);
  const std::string text = r.render(json::object());
  EXPECT_EQ(sample(text, R"(vigil_http_requests_total{route="/metrics",code="200"})"), 2);
  EXPECT_EQ(sample(text, R"(vigil_http_requests_total{route="/api/components/:name",code="404"})"),
            1);
}

TEST(MetricsRegistry, MalformedStatusGivesFewerSamplesNotAnError) {
  MetricsRegistry r;
  for (const json& odd : {json(nullptr), json::array(), json{{"tree", 3}},
                          json{{"tree", {{"type", "group"}, {"children", {1, "x", nullptr}}}}},
                          json{{"host", {{"load", "high"}, {"temperatures", {1, 2}}}}},
                          json{{"tree", {{"type", "component"}, {"name", "a"}, {"pid", "x"}}}}}) {
    const std::string text = r.render(odd);
    EXPECT_NE(text.find("# TYPE vigil_events_total counter"), std::string::npos) << odd.dump();
    EXPECT_EQ(text.find("vigil_metrics_render_errors_total"), std::string::npos) << odd.dump();
  }
}

// promtool reads the exposition on stdin; it prints what it finds wrong (errors and lint
// problems alike) and exits non-zero.
struct Promtool {
  int exit_code = -1;
  std::string output;
};

Promtool promtool_check(const std::string& exposition) {
  const fs::path dir =
      fs::temp_directory_path() /
      ("vigil-promtool-" + std::to_string(::getpid()) + "-" +
       std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir);
  const std::string input = dir / "metrics.txt";
  const std::string output = dir / "output.txt";
  std::ofstream(input) << exposition;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const char* argv[] = {VIGIL_PROMTOOL, "check", "metrics", nullptr};
  pid_t pid = 0;
  Promtool result;
  if (::posix_spawn(&pid, VIGIL_PROMTOOL, &actions, nullptr, const_cast<char**>(argv), environ) ==
      0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  std::ifstream in(output);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove_all(dir);
  return result;
}

TEST(MetricsRegistry, PromtoolAcceptsTheExpositionOfARealisticRobot) {
  ASSERT_TRUE(fs::exists(VIGIL_PROMTOOL))
      << VIGIL_PROMTOOL << " is missing: apt-get install prometheus";
  MetricsRegistry r;
  r.on_event(event("", EventKind::daemon_started, kSecond));
  for (const char* c : {"lidar", "camera \"front\"", "planner"}) {
    r.on_event(event(c, EventKind::spawned, kSecond));
    r.on_event(event(c, EventKind::ready, kSecond + 50'000));
  }
  fail_and_restart(r, "lidar", FailureKind::hang, 2 * kSecond, EventKind::hang_detected);
  r.on_event(event("lidar", EventKind::ready, 3 * kSecond));
  r.on_event(event("planner", EventKind::exited, 4 * kSecond, FailureKind::signal));
  r.on_event(event("root", EventKind::given_up, 4 * kSecond));
  r.count_http_request("/metrics", 200);
  r.count_http_request("/api/status", 500);
  const std::string text = r.render(robot_status());

  // Sanity check of the checker: it does reject a broken exposition.
  const auto broken = promtool_check("# TYPE x counter\nx 1\n");
  EXPECT_NE(broken.exit_code, 0) << "promtool accepted a counter without _total";

  const auto checked = promtool_check(text);
  EXPECT_EQ(checked.exit_code, 0) << checked.output << "\n--- exposition:\n" << text;
  EXPECT_EQ(checked.output, "") << "\n--- exposition:\n" << text;
}

}  // namespace
}  // namespace vigil::metrics
