// The example warehouse robot (examples/warehouse/) under a real vigild, on its own config
// (robot.yaml, with this test's paths and DDS domain): every node comes up, the lidar's /scan is
// measured near 10 Hz, the mode reaches the controller, and then each of the five failure modes
// is injected by signal, detected by the right detector and repaired.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "integration/harness.hpp"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "robot.yaml no longer has: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// examples/warehouse/robot.yaml as the harness needs it: programs from this build, the state
// directory the harness chooses, and a DDS domain of this test's own.
std::string warehouse_config(int domain) {
  std::ifstream in(VIGIL_SOURCE_DIR "/examples/warehouse/robot.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  yaml = replace_once(yaml, "state_dir: ../../.vigil/warehouse\n", "");
  yaml = replace_once(yaml, "dds: {domain: 0}", fmt::format("dds: {{domain: {}}}", domain));
  yaml = replace_once(yaml, "ROS_DOMAIN_ID: \"0\"", fmt::format("ROS_DOMAIN_ID: \"{}\"", domain));
  for (auto at = yaml.find("../../build/bin/"); at != std::string::npos;
       at = yaml.find("../../build/bin/", at)) {
    yaml.replace(at, std::string("../../build/bin/").size(), "@BIN@/");
  }
  return yaml;
}

std::int64_t mono_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Warehouse : public ::testing::Test {
 protected:
  // The newest event id seen: later waits only consider what happens after an injection.
  std::int64_t last_id() const {
    return v->events().empty() ? 0 : v->events().back().value("id", std::int64_t{0});
  }
  pid_t pid_of(const std::string& name) { return v->component(name).value("pid", 0); }

  // Sends `signal` to the component; returns the monotonic time it was sent.
  std::int64_t inject(const std::string& name, int signal) {
    const pid_t pid = pid_of(name);
    EXPECT_GT(pid, 0) << name << " has no pid";
    const std::int64_t at = mono_us();
    EXPECT_EQ(::kill(pid, signal), 0) << name;
    return at;
  }
  double ms_since(const json& event, std::int64_t injected_us) {
    return static_cast<double>(event.value("mono_us", std::int64_t{0}) - injected_us) / 1000.0;
  }
  // Each of `names` spawned and ready again after event `after_id`.
  void expect_recovered(const std::vector<std::string>& names, std::int64_t after_id) {
    for (const auto& name : names) {
      auto spawned = v->wait_for(name, "spawned", 20s, after_id);
      v->wait_for(name, "ready", 20s, spawned["id"]);
    }
  }
  void record(const char* what, double ms) {
    RecordProperty(what, fmt::format("{:.0f}", ms));
    std::printf("%s: %.0f ms\n", what, ms);
  }

  std::optional<Vigild> v;
};

json topic(Vigild& v, const std::string& component) {
  auto c = v.component(component);
  if (!c.contains("topics") || c["topics"].empty()) return json();
  return c["topics"][0];
}

TEST_F(Warehouse, EveryNodeRunsAndEachOfTheFiveFailuresIsDetectedAndRepaired) {
  use_loopback_dds();
  v.emplace(warehouse_config(private_domain()));
  v->start();
  for (const char* name :
       {"lidar", "camera", "odometry", "localization", "planner", "controller", "battery"}) {
    v->wait_for(name, "ready", 20s);
  }

  // The lidar publishes at 10 Hz: vigild's topic monitor measures it (a 1 s window).
  json scan;
  EXPECT_TRUE(v->poll_until(
      [&] {
        scan = topic(*v, "lidar");
        return scan.is_object() && scan.value("rate_hz", 0.0) > 9.0 &&
               scan.value("rate_hz", 0.0) < 11.0;
      },
      20s))
      << scan.dump();
  EXPECT_EQ(scan.value("level", ""), "OK") << scan.dump();
  EXPECT_GE(scan.value("publishers", 0), 1) << scan.dump();
  // The lidar's heartbeat arrives over DDS (vigild counts those apart from notify datagrams).
  EXPECT_TRUE(
      v->poll_until([&] { return v->status()["daemon"]["dds"].value("heartbeats", 0) > 0; }, 10s))
      << v->status()["daemon"].dump();
  EXPECT_TRUE(v->poll_until(
      [&] {
        const double rate = topic(*v, "camera").value("rate_hz", 0.0);
        return rate > 4.0 && rate < 6.0;
      },
      20s))
      << topic(*v, "camera").dump();
  // vigild's system mode (nominal, no max_speed) reached the controller over DDS.
  EXPECT_TRUE(v->poll_until(
      [&] {
        return v->component("controller").value("status_text", "") == "mode=nominal max_speed=1";
      },
      10s))
      << v->component("controller").dump();

  {  // 1. Node crash: the controller aborts; it alone is restarted (it is last in navigation).
    SCOPED_TRACE("crash");
    const auto before = last_id();
    const auto injected = inject("controller", SIGUSR1);
    auto exited = v->wait_for(
        [](const json& e) {
          return e.value("component", "") == "controller" && e.value("kind", "") == "exited" &&
                 e.contains("failure");
        },
        10s, before);
    EXPECT_EQ(exited["detail"].value("signal", ""), "SIGABRT") << exited.dump();
    record("crash_detection_ms", ms_since(exited, injected));
    expect_recovered({"controller"}, exited["id"]);
  }
  {  // 2. Communication failure: odometry runs on without heartbeats; rest_for_one restarts
     // all of navigation.
    SCOPED_TRACE("heartbeat loss");
    const auto before = last_id();
    const auto injected = inject("odometry", SIGUSR1);
    auto hang = v->wait_for("odometry", "hang_detected", 15s, before);
    EXPECT_EQ(hang.value("failure", ""), "hang") << hang.dump();
    EXPECT_GE(hang["detail"].value("since_heartbeat_ms", 0.0), 1000.0) << "silent for the timeout";
    // Heartbeats every 500 ms, timeout 1 s: within 1 s of the injection (plus scheduling).
    EXPECT_LE(ms_since(hang, injected), 1000.0 + 500.0) << hang.dump();
    record("heartbeat_loss_detection_ms", ms_since(hang, injected));
    expect_recovered({"odometry", "localization", "planner", "controller"}, hang["id"]);
  }
  {  // 3. Sensor dropout: the lidar stops publishing and still beats. Localization falls back
     // to the camera (its STATUS says the scan is stale); the topic monitor restarts the lidar.
    SCOPED_TRACE("sensor dropout");
    const auto before = last_id();
    const auto injected = inject("lidar", SIGUSR1);
    EXPECT_TRUE(v->poll_until(
        [&] {
          return v->component("localization")
                     .value("status_text", "")
                     .rfind("stale: lidar scan", 0) == 0;
        },
        5s))
        << v->component("localization").dump();
    auto stale = v->wait_for("lidar", "topic_stale", 10s, before);
    EXPECT_EQ(stale.value("failure", ""), "topic") << stale.dump();
    EXPECT_NE(stale.value("reason", "").find("no message for"), std::string::npos) << stale.dump();
    // stale_after 500 ms, judged at its exact deadline.
    EXPECT_LE(ms_since(stale, injected), 500.0 + 500.0) << stale.dump();
    record("dropout_detection_ms", ms_since(stale, injected));
    expect_recovered({"lidar"}, stale["id"]);
    EXPECT_TRUE(v->events_of("lidar", "hang_detected").empty()) << "the heartbeat went on";
    // Scans again: localization's stale report is cleared.
    EXPECT_TRUE(v->poll_until(
        [&] { return v->component("localization").value("status_text", "").empty(); }, 10s))
        << v->component("localization").dump();
  }
  {  // 4. Navigation stuck: the planner's watched loop stops while its heartbeat goes on.
    SCOPED_TRACE("navigation stuck");
    const auto before = last_id();
    const auto injected = inject("planner", SIGUSR1);
    auto hang = v->wait_for("planner", "hang_detected", 15s, before);
    EXPECT_NE(hang.value("reason", "").find("watched loop 'plan'"), std::string::npos)
        << hang.value("reason", "");
    EXPECT_LT(hang["detail"].value("since_heartbeat_ms", 1e9), 1000.0) << "the process beat on";
    EXPECT_GE(hang["detail"]["loops"]["plan"].value("age_ms", 0.0), 2000.0) << hang.dump();
    // The loop's deadline is 2 s and it turned every 500 ms before it stuck.
    EXPECT_LE(ms_since(hang, injected), 2000.0 + 1000.0) << hang.dump();
    record("stuck_loop_detection_ms", ms_since(hang, injected));
    expect_recovered({"planner", "controller"}, hang["id"]);
  }
  {  // 5. Resource exhaustion: localization leaks 20 MiB/s; warned at 80 MiB, restarted at 160.
    SCOPED_TRACE("memory leak");
    const auto before = last_id();
    const auto injected = inject("localization", SIGUSR1);
    auto warning = v->wait_for("localization", "warning", 20s, before);
    EXPECT_EQ(warning["detail"].value("source", ""), "rss") << warning.dump();
    auto exceeded = v->wait_for("localization", "resource_exceeded", 20s, warning["id"]);
    EXPECT_EQ(exceeded.value("failure", ""), "resource") << exceeded.dump();
    record("leak_warning_ms", ms_since(warning, injected));
    record("leak_detection_ms", ms_since(exceeded, injected));
    expect_recovered({"localization", "planner", "controller"}, exceeded["id"]);
  }
  // Nothing escalated beyond its group: every failure was repaired where it happened.
  for (const auto& e : v->events()) {
    EXPECT_NE(e.value("kind", ""), "escalated") << e.dump();
    EXPECT_NE(e.value("kind", ""), "given_up") << e.dump();
  }
  EXPECT_EQ(v->stop(), 0) << v->vigild_output();
}

}  // namespace
}  // namespace vigil::testing

namespace vigil::testing {
namespace {

// Degradation on the real robot: a lidar dropout puts the robot in `degraded` and the controller
// slows to max_speed 0.3 (which it reads from the mode over DDS); the lidar is restarted and,
// after the mode's dwell, the robot is nominal again. Losing both sensors is a safe stop that
// holds the planner stopped.
TEST_F(Warehouse, ALidarDropoutDegradesTheRobotAndBothSensorsLostStopIt) {
  use_loopback_dds();
  v.emplace(warehouse_config(private_domain()));
  v->start();
  for (const char* name : {"lidar", "camera", "planner", "controller"}) {
    v->wait_for(name, "ready", 20s);
  }
  auto rate_of = [&](const std::string& name) {
    const json t = topic(*v, name);
    return t.is_object() ? t.value("rate_hz", 0.0) : 0.0;
  };
  auto controller_says = [&](const std::string& text) {
    return v->poll_until(
        [&] { return v->component("controller").value("status_text", "") == text; }, 15s);
  };
  ASSERT_TRUE(controller_says("mode=nominal max_speed=1")) << v->component("controller").dump();
  // Wait until the lidar is judged (after its grace) and its topic is measured.
  ASSERT_TRUE(v->poll_until([&] { return rate_of("lidar") > 9.0; }, 20s));

  const std::int64_t injected_after = last_id();
  const std::int64_t dropped = inject("lidar", SIGUSR1);
  // The lidar is not ok from its first warning (its rate falls below 8 Hz) or its dropout
  // (no message for 500 ms), whichever comes first: degraded then.
  auto degraded = v->wait_for("system", "mode_changed", 10s, injected_after);
  EXPECT_EQ(degraded.value("state", ""), "degraded") << degraded.dump();
  record("dropout_to_degraded_ms", ms_since(degraded, dropped));
  EXPECT_TRUE(controller_says("mode=degraded max_speed=0.3")) << v->component("controller").dump();
  record("dropout_to_controller_slowed_ms", static_cast<double>(mono_us() - dropped) / 1000.0);
  // The lidar is restarted (a new process publishes again): nominal after the dwell.
  auto nominal = v->wait_for("system", "mode_changed", 15s, degraded["id"]);
  EXPECT_EQ(nominal.value("state", ""), "nominal") << nominal.dump();
  EXPECT_GE(nominal.value("mono_us", std::int64_t{0}) - degraded.value("mono_us", std::int64_t{0}),
            2'000'000);  // the default dwell
  EXPECT_TRUE(controller_says("mode=nominal max_speed=1")) << v->component("controller").dump();

  // Both sensors silent at once: safe_stop, max_speed 0, the planner held stopped.
  ASSERT_TRUE(v->poll_until([&] { return rate_of("lidar") > 9.0; }, 20s));
  const std::int64_t before = last_id();
  inject("lidar", SIGUSR1);
  inject("camera", SIGUSR1);
  auto safe = v->wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "safe_stop";
      },
      15s, before);
  v->wait_for("planner", "stopped", 10s, safe["id"]);
  EXPECT_TRUE(controller_says("mode=safe_stop max_speed=0")) << v->component("controller").dump();
  // Both are restarted by their monitors; the robot comes back and the planner with it.
  auto back = v->wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "nominal";
      },
      30s, safe["id"]);
  v->wait_for("planner", "ready", 20s, safe["id"]);
  EXPECT_TRUE(v->events_of("system", "given_up").empty());
}

// The lidar's recovery ladder (robot.yaml), climbed by crashing the lidar again and again:
// three restarts, the sensors group, the spare lidar, a forced degraded mode with one more try,
// and a safe stop; each step says why the one before did not do. An operator start brings the
// robot back to nominal.
TEST_F(Warehouse, TheLidarsRecoveryLadderClimbsEachStep) {
  use_loopback_dds();
  v.emplace(warehouse_config(private_domain()));
  v->start();
  for (const char* name : {"lidar", "camera", "controller"}) v->wait_for(name, "ready", 20s);
  EXPECT_EQ(v->component("lidar_backup").value("state", ""), "stopped") << "a cold standby";
  auto controller_says = [&](const std::string& text) {
    return v->poll_until(
        [&] { return v->component("controller").value("status_text", "") == text; }, 15s);
  };
  ASSERT_TRUE(controller_says("mode=nominal max_speed=1")) << v->component("controller").dump();
  auto step_after = [&](std::int64_t after) {
    return v->wait_for("lidar", "recovery_step", 10s, after);
  };
  // Crashes the lidar (or its spare) once it is running; returns the id before the crash.
  auto crash = [&](const std::string& name) {
    const std::int64_t before = last_id();
    inject(name, SIGKILL);
    return before;
  };

  // Step 1: restart x3.
  auto before = crash("lidar");
  auto step = step_after(before);
  EXPECT_EQ(step["detail"].value("action", ""), "restart");
  EXPECT_EQ(step["detail"].value("step", 0), 1);
  for (int restart = 2; restart <= 3; ++restart) {
    v->wait_for("lidar", "ready", 20s, before);
    before = crash("lidar");
    auto scheduled = v->wait_for("lidar", "restart_scheduled", 10s, before);
    EXPECT_EQ(scheduled["detail"].value("use", 0), restart) << scheduled.dump();
  }
  // Step 2: the sensors group: the camera restarts with the lidar.
  v->wait_for("lidar", "ready", 20s, before);
  before = crash("lidar");
  step = step_after(before);
  EXPECT_EQ(step["detail"].value("action", ""), "restart_group");
  EXPECT_NE(step.value("reason", "").find("step 1 (restart x3) did not keep it up"),
            std::string::npos)
      << step.dump();
  expect_recovered({"camera", "lidar"}, before);
  // Step 3: the spare lidar serves; the robot stays nominal.
  before = crash("lidar");
  step = step_after(before);
  EXPECT_EQ(step["detail"].value("action", ""), "standby");
  v->wait_for("lidar_backup", "standby_activated", 10s, before);
  v->wait_for("lidar_backup", "ready", 20s, before);
  EXPECT_EQ(v->component("lidar").value("state", ""), "failed");
  EXPECT_EQ(v->component("lidar").value("replaced_by", ""), "lidar_backup");
  EXPECT_EQ(v->component("lidar_backup").value("serving_for", ""), "lidar");
  // While the spare serves, the robot is nominal (the group restart may have degraded it).
  ASSERT_TRUE(
      v->poll_until([&] { return v->status()["mode"].value("name", "") == "nominal"; }, 15s))
      << v->status()["mode"].dump();
  // Step 4: the spare fails too: degraded is forced, the lidar tried once more.
  before = crash("lidar_backup");
  step = step_after(before);
  EXPECT_EQ(step["detail"].value("action", ""), "mode");
  EXPECT_NE(step.value("reason", "").find("standby lidar_backup failed"), std::string::npos);
  auto degraded = v->wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "degraded";
      },
      10s, before);
  EXPECT_NE(degraded.value("reason", "").find("lidar"), std::string::npos) << degraded.dump();
  EXPECT_TRUE(controller_says("mode=degraded max_speed=0.3"));
  v->wait_for("lidar", "ready", 20s, before);
  // Step 5: a safe stop: lidar given up, the robot stopped, the planner held.
  before = crash("lidar");
  step = step_after(before);
  EXPECT_EQ(step["detail"].value("action", ""), "safe_stop");
  auto given_up = v->wait_for("lidar", "given_up", 10s, before);
  EXPECT_TRUE(given_up["detail"].value("safe_stop", false));
  v->wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "safe_stop";
      },
      10s, before);
  v->wait_for("planner", "stopped", 10s, before);
  EXPECT_TRUE(controller_says("mode=safe_stop max_speed=0"));
  EXPECT_EQ(v->component("lidar").value("state", ""), "given_up");

  // The operator starts the lidar: the ladder lets go of its modes; nominal after the dwell.
  before = last_id();
  ASSERT_TRUE(v->request({{"cmd", "start"}, {"name", "lidar"}}).value("ok", false));
  v->wait_for("lidar", "ready", 20s, before);
  v->wait_for(
      [](const json& e) {
        return e.value("kind", "") == "mode_changed" && e.value("state", "") == "nominal";
      },
      20s, before);
  v->wait_for("planner", "ready", 20s, before);
  EXPECT_TRUE(controller_says("mode=nominal max_speed=1"));
}

// The CI soak: `vigil chaos run` on the warehouse robot, a fault every 5 s for 90 s (crashes,
// hangs, heartbeat loss), and its report: every fault detected and recovered, no false alarm,
// no event missing from the log. The one-hour run is the same command (examples/warehouse/
// chaos.yaml) with --duration 1h.
TEST_F(Warehouse, ASoakOfInjectedFaultsIsAllDetectedAndRecoveredWithoutFalseAlarms) {
  use_loopback_dds();
  v.emplace(warehouse_config(private_domain()));
  v->start();
  for (const char* name :
       {"lidar", "camera", "odometry", "localization", "planner", "controller", "battery"}) {
    v->wait_for(name, "ready", 30s);
  }
  const std::string report_dir = v->dir() + "/soak";
  auto run = run_command({bin("vigil"), "-c", v->config_path(), "chaos", "run",
                          VIGIL_SOURCE_DIR "/examples/warehouse/chaos.yaml", "--duration", "90s",
                          "--seed", "1", "--report", report_dir});
  std::printf("%s\n", run.output.c_str());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(report_dir + "/report.json");
  ASSERT_TRUE(in.good()) << run.output;
  const json report = json::parse(in);
  EXPECT_TRUE(std::ifstream(report_dir + "/report.html").good()) << "the page with the plots";
  const json& all = report["all"];
  EXPECT_GE(all["injected"].get<int>(), 12) << report.dump(2);
  EXPECT_EQ(all["detected"], all["injected"]) << report["missed"].dump(2);
  EXPECT_EQ(all["recovered"], all["detected"]) << report.dump(2);
  EXPECT_EQ(report["false_alarms"], 0) << report["false_alarm_events"].dump(2);
  EXPECT_EQ(report["lost_events"], 0);
  EXPECT_LT(all["recovery_ms"]["p99"].get<double>(), 30'000.0);
  record("soak_detection_p99_ms", all["detection_ms"]["p99"].get<double>());
  record("soak_recovery_p99_ms", all["recovery_ms"]["p99"].get<double>());
  EXPECT_TRUE(v->events_of("system", "given_up").empty());
}

}  // namespace
}  // namespace vigil::testing
