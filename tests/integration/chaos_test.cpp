// `vigil chaos` against a real vigild and real processes: each fault is a `fault_injected`
// event, the detection that follows comes after it in the log, timed faults end with
// `fault_cleared`, and refusals say why without injecting anything.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "integration/harness.hpp"
#include "process/proc_stat.hpp"
#include "support/dds_env.hpp"

namespace vigil::testing {
namespace {

// Runs `vigil chaos ARGS...` against the test's vigild.
CommandResult chaos(Vigild& v, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("vigil"), "--socket", v.state_dir() + "/control.sock",
                                   "chaos"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// The kernel's view of a process: 'T' while it is stopped by SIGSTOP.
char process_state(pid_t pid) {
  auto st = process::read_proc_stat(pid);
  return st ? st->state : '?';
}

// A detection must be later than the injection it answers, in the log and on the clock.
void expect_after(const json& later, const json& earlier) {
  EXPECT_GT(later["id"].get<std::int64_t>(), earlier["id"].get<std::int64_t>());
  EXPECT_GE(later["mono_us"].get<std::int64_t>(), earlier["mono_us"].get<std::int64_t>());
}

constexpr const char* kHeartbeatingLidar = R"(
root:
  intensity: {restarts: 50, within: 1m}
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      watchdog: {timeout: 500ms, stack_budget: 2s}
      backoff: {initial: 10ms, jitter: 0}
)";

TEST(Chaos, KillIsInjectedThenDetectedAsAnExitBySignal) {
  Vigild v(kHeartbeatingLidar);
  v.start();
  auto ready = v.wait_for("lidar", "ready");
  const pid_t pid = v.component("lidar")["pid"];

  auto out = chaos(v, {"kill", "lidar"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output, "injected kill #1 into lidar (pid " + std::to_string(pid) + "): SIGKILL\n");

  auto injected = v.wait_for("lidar", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["reason"], "chaos: kill lidar with SIGKILL (pid " + std::to_string(pid) + ")");
  EXPECT_EQ(injected["state"], "running");
  EXPECT_EQ(injected["detail"]["id"], 1);
  EXPECT_EQ(injected["detail"]["fault"], "kill");
  EXPECT_EQ(injected["detail"]["pid"], pid);
  EXPECT_EQ(injected["detail"]["signal"], "SIGKILL");
  EXPECT_EQ(injected["detail"]["group"], false);
  auto exited = v.wait_for("lidar", "exited", 10s, injected["id"]);
  EXPECT_EQ(exited["detail"].value("signal", ""), "SIGKILL") << exited.dump();
  expect_after(exited, injected);
  // A kill is not timed: nothing to clear, and it is not listed as running.
  auto respawned = v.wait_for("lidar", "ready", 10s, exited["id"]);
  EXPECT_TRUE(v.events_of("lidar", "fault_cleared").empty());
  EXPECT_EQ(v.request({{"cmd", "chaos"}, {"fault", "list"}})["faults"], json::array());

  // Any signal by name, to the whole group.
  out = chaos(v, {"kill", "lidar", "--signal", "SIGUSR2", "--group"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto second = v.wait_for("lidar", "fault_injected", 10s, respawned["id"]);
  EXPECT_EQ(second["detail"]["id"], 2);
  EXPECT_EQ(second["detail"]["signal"], "SIGUSR2");
  EXPECT_EQ(second["detail"]["group"], true);
  auto crashed = v.wait_for("lidar", "exited", 10s, second["id"]);
  EXPECT_EQ(crashed["detail"].value("signal", ""), "SIGABRT")
      << "robot_sim crashes (abort) on SIGUSR2: " << crashed.dump();
}

TEST(Chaos, HangIsDetectedAndTheRestartedProcessIsNotContinued) {
  Vigild v(kHeartbeatingLidar);
  v.start();
  auto ready = v.wait_for("lidar", "ready");
  const pid_t pid = v.component("lidar")["pid"];

  auto reply =
      v.request({{"cmd", "chaos"}, {"fault", "hang"}, {"name", "lidar"}, {"duration_ms", 4000}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_EQ(reply["fault"], "hang");
  EXPECT_EQ(reply["name"], "lidar");
  EXPECT_EQ(reply["pid"], pid);
  EXPECT_GT(reply["until_us"].get<std::int64_t>(), 0);

  auto injected = v.wait_for("lidar", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["reason"],
            "chaos: hang lidar for 4.0s (SIGSTOP pid " + std::to_string(pid) + "'s group)");
  EXPECT_EQ(injected["detail"]["duration_ms"], 4000);
  EXPECT_EQ(injected["detail"]["until_us"], reply["until_us"]);
  auto hang = v.wait_for("lidar", "hang_detected", 10s, injected["id"]);
  EXPECT_EQ(hang["failure"], "hang");
  expect_after(hang, injected);
  // 500 ms watchdog: detected well within the 4 s hang, and after at least the timeout.
  const auto detection_ms =
      (hang["mono_us"].get<std::int64_t>() - injected["mono_us"].get<std::int64_t>()) / 1000;
  EXPECT_GE(detection_ms, 400);
  EXPECT_LT(detection_ms, 3000);

  auto respawned = v.wait_for("lidar", "spawned", 10s, hang["id"]);
  v.wait_for("lidar", "ready", 10s, respawned["id"]);
  const pid_t new_pid = respawned["detail"]["pid"];
  ASSERT_NE(new_pid, pid);

  auto cleared = v.wait_for("lidar", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["id"], injected["detail"]["id"]);
  EXPECT_EQ(cleared["detail"]["fault"], "hang");
  EXPECT_EQ(cleared["detail"]["undone"], false) << cleared.dump();
  EXPECT_EQ(cleared["detail"]["pid"], pid);
  EXPECT_NE(cleared["reason"].get<std::string>().find("nothing to continue"), std::string::npos)
      << cleared.dump();
  EXPECT_GE(cleared["detail"]["lasted_ms"].get<int>(), 3900);
  // The new process was never stopped and keeps beating under the same pid.
  EXPECT_NE(process_state(new_pid), 'T');
  const int beats = v.component("lidar")["heartbeats"];
  EXPECT_TRUE(v.poll_until([&] { return v.component("lidar")["heartbeats"] > beats + 5; }, 10s));
  EXPECT_EQ(v.component("lidar")["pid"], new_pid);
  EXPECT_EQ(v.request({{"cmd", "chaos"}, {"fault", "list"}})["faults"], json::array());
}

TEST(Chaos, HangOfTheSameProcessIsUndoneWithSigcont) {
  // No watchdog: nothing detects the hang, so the very process is there to continue.
  Vigild v(R"(
root:
  children:
    - name: mapper
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  auto ready = v.wait_for("mapper", "ready");
  const pid_t pid = v.component("mapper")["pid"];
  auto out = chaos(v, {"hang", "mapper", "--for", "1500ms"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_EQ(out.output,
            "injected hang #1 into mapper (pid " + std::to_string(pid) + ") for 1.5s\n");
  auto injected = v.wait_for("mapper", "fault_injected", 10s, ready["id"]);
  EXPECT_TRUE(v.poll_until([&] { return process_state(pid) == 'T'; }, 5s));

  // Listed while it runs, in `chaos list` and in the status.
  auto listed = v.request({{"cmd", "chaos"}, {"fault", "list"}});
  ASSERT_EQ(listed["faults"].size(), 1u) << listed.dump();
  EXPECT_EQ(listed["faults"][0]["id"], 1);
  EXPECT_EQ(listed["faults"][0]["fault"], "hang");
  EXPECT_EQ(listed["faults"][0]["name"], "mapper");
  EXPECT_LE(listed["faults"][0]["remaining_ms"].get<int>(), 1500);
  auto in_status = v.status()["chaos"];
  ASSERT_EQ(in_status.size(), 1u) << in_status.dump();
  EXPECT_EQ(in_status[0]["id"], 1);
  EXPECT_EQ(in_status[0]["until_us"], listed["faults"][0]["until_us"]);
  auto text = chaos(v, {"list"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.output.rfind("#1 hang mapper (pid " + std::to_string(pid) + "): ", 0), 0u)
      << text.output;

  auto cleared = v.wait_for("mapper", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true) << cleared.dump();
  EXPECT_EQ(cleared["detail"]["why"], "SIGCONT to pid " + std::to_string(pid) + "'s group");
  EXPECT_EQ(cleared["state"], "running");
  EXPECT_TRUE(v.poll_until([&] { return process_state(pid) != 'T'; }, 5s));
  EXPECT_EQ(v.component("mapper")["pid"], pid);
  EXPECT_TRUE(v.events_of("mapper", "exited").empty());
  EXPECT_EQ(chaos(v, {"list"}).output, "no faults running\n");
}

TEST(Chaos, HeartbeatLossIsDetectedAsAHangOfAProcessThatKeptBeating) {
  Vigild v(kHeartbeatingLidar);
  v.start();
  auto ready = v.wait_for("lidar", "ready");
  const pid_t pid = v.component("lidar")["pid"];
  auto out = chaos(v, {"heartbeat-loss", "lidar", "--for", "2s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("lidar", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["reason"],
            "chaos: drop lidar's heartbeats for 2.0s (pid " + std::to_string(pid) + ")");
  EXPECT_EQ(injected["detail"]["fault"], "heartbeat_loss");
  auto hang = v.wait_for("lidar", "hang_detected", 10s, injected["id"]);
  expect_after(hang, injected);
  EXPECT_EQ(hang["detail"]["pid"], pid) << hang.dump();
  EXPECT_NE(hang["reason"].get<std::string>().find("no watchdog heartbeat"), std::string::npos)
      << hang.dump();
  auto cleared = v.wait_for("lidar", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true);
  EXPECT_EQ(cleared["detail"]["why"], "heartbeats are accepted again");
  expect_after(cleared, hang);
  // Beats count again once the fault is over.
  ASSERT_TRUE(v.poll_until([&] { return v.component("lidar")["state"] == "running"; }, 10s));
  const int beats = v.component("lidar")["heartbeats"];
  EXPECT_TRUE(v.poll_until([&] { return v.component("lidar")["heartbeats"] > beats + 5; }, 10s));
}

TEST(Chaos, HeartbeatLossDropsDdsHeartbeatsToo) {
  use_loopback_dds();
  const int domain = private_domain();
  // A 10 s lease: the writer stays alive on the wire, only vigild drops what it receives.
  Vigild v(R"(
dds: {domain: )" +
           std::to_string(domain) +
           R"(}
root:
  intensity: {restarts: 50, within: 1m}
  children:
    - name: beater
      command: [@BIN@/dds_heartbeat, --name, beater, --lease, 10s, --period, 100ms]
      env: {ROS_DOMAIN_ID: ")" +
           std::to_string(domain) + R"("}
      watchdog: {timeout: 1s, stacks: false}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("beater", "ready");
  ASSERT_TRUE(v.poll_until([&] { return v.component("beater")["heartbeats"] > 5; }, 15s))
      << "no DDS heartbeats reached vigild";
  const pid_t pid = v.component("beater")["pid"];
  const auto received_before = v.status()["daemon"]["dds"].value("heartbeats", 0);

  auto out = chaos(v, {"heartbeat-loss", "beater", "--for", "3s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("beater", "fault_injected", 10s, ready["id"]);
  auto hang = v.wait_for("beater", "hang_detected", 10s, injected["id"]);
  expect_after(hang, injected);
  EXPECT_EQ(hang["detail"]["pid"], pid) << hang.dump();
  EXPECT_NE(hang["reason"].get<std::string>().find("no watchdog heartbeat"), std::string::npos)
      << hang.dump();
  // The beats kept arriving over DDS while they were dropped.
  EXPECT_GT(v.status()["daemon"]["dds"].value("heartbeats", 0), received_before + 5);
  auto cleared = v.wait_for("beater", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true);
}

TEST(Chaos, SlowWithALongDutyIsAHangAndWithAShortOneAWarning) {
  Vigild v(R"(
root:
  intensity: {restarts: 50, within: 1m}
  children:
    - name: planner
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      watchdog: {timeout: 500ms, stack_budget: 2s}
      backoff: {initial: 10ms, jitter: 0}
    - name: odometry
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      watchdog: {timeout: 4s, warn_after: 250ms}
)");
  v.start();
  v.wait_for("planner", "ready");
  auto ready = v.wait_for("odometry", "ready");
  const pid_t odometry = v.component("odometry")["pid"];

  // Stopped 900 ms of every second against a 500 ms watchdog: a hang in the first cycle.
  auto out = chaos(v, {"slow", "planner", "--for", "5s", "--duty", "90%", "--period", "1s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto slowed = v.wait_for("planner", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(slowed["detail"]["duty"], 0.9);
  EXPECT_EQ(slowed["detail"]["period_ms"], 1000);
  auto hang = v.wait_for("planner", "hang_detected", 10s, slowed["id"]);
  expect_after(hang, slowed);
  // The process was replaced: the duty cycle stops there rather than stop the new one.
  auto ended = v.wait_for("planner", "fault_cleared", 10s, slowed["id"]);
  EXPECT_EQ(ended["detail"]["undone"], false) << ended.dump();
  EXPECT_LT(ended["detail"]["lasted_ms"].get<int>(), 4500) << ended.dump();

  // Stopped 500 ms of every second: late beats (warning at 250 ms), far from the 4 s hang.
  out = chaos(v, {"slow", "odometry", "--for", "3s", "--duty", "0.5", "--period", "1s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto wobbling = v.wait_for("odometry", "fault_injected", 10s, ready["id"]);
  auto warning = v.wait_for("odometry", "warning", 10s, wobbling["id"]);
  EXPECT_EQ(warning["detail"]["source"], "watchdog");
  expect_after(warning, wobbling);
  auto cleared = v.wait_for("odometry", "fault_cleared", 10s, wobbling["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true) << cleared.dump();
  EXPECT_GE(cleared["detail"]["lasted_ms"].get<int>(), 2900);
  v.wait_for("odometry", "warning_cleared", 10s, warning["id"]);
  EXPECT_TRUE(v.poll_until([&] { return process_state(odometry) != 'T'; }, 5s))
      << "always ends continued";
  EXPECT_TRUE(v.events_of("odometry", "hang_detected").empty());
  EXPECT_EQ(v.component("odometry")["pid"], odometry);
}

TEST(Chaos, RefusalsSayWhyAndInjectNothing) {
  Vigild v(R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim]
      ready: notify
    - name: sensors
      children:
        - name: camera
          command: [@BIN@/robot_sim]
          ready: notify
)");
  v.start();
  v.wait_for("lidar", "ready");
  v.wait_for("camera", "ready");
  auto error_of = [&](const json& request) {
    auto reply = v.request(request);
    EXPECT_FALSE(reply.value("ok", true)) << reply.dump();
    return reply.value("error", std::string());
  };
  EXPECT_EQ(error_of({{"cmd", "chaos"}, {"fault", "kill"}, {"name", "ghost"}}),
            "no component named 'ghost'");
  EXPECT_EQ(error_of({{"cmd", "chaos"}, {"fault", "kill"}, {"name", "sensors"}}),
            "'sensors' is a group: chaos targets one component at a time");
  EXPECT_EQ(error_of({{"cmd", "chaos"}, {"fault", "hang"}, {"name", "lidar"}}),
            "fault 'hang' needs \"duration_ms\" (how long it lasts)");
  EXPECT_EQ(error_of({{"cmd", "chaos"}, {"fault", "freeze"}, {"name", "lidar"}}),
            "unknown fault 'freeze' (kill, hang, slow, heartbeat_loss, topic_dropout, partition, "
            "packet_loss, "
            "cpu_hog, memory_hog, state_dir_full or list)");

  // One timed fault per component at a time; another component is fine.
  auto first =
      v.request({{"cmd", "chaos"}, {"fault", "hang"}, {"name", "lidar"}, {"duration_ms", 60000}});
  ASSERT_TRUE(first.value("ok", false)) << first.dump();
  const std::string second = error_of(
      {{"cmd", "chaos"}, {"fault", "heartbeat_loss"}, {"name", "lidar"}, {"duration_ms", 1000}});
  const std::string expected_start =
      "'lidar' already has a fault running: hang #" + first["id"].dump() + ", ";
  const std::string expected_end = " left; one timed fault per component at a time";
  EXPECT_EQ(second.rfind(expected_start, 0), 0u) << second;
  ASSERT_GE(second.size(), expected_end.size());
  EXPECT_EQ(second.substr(second.size() - expected_end.size()), expected_end) << second;
  EXPECT_TRUE(
      v.request({{"cmd", "chaos"}, {"fault", "hang"}, {"name", "camera"}, {"duration_ms", 100}})
          .value("ok", false));

  // A stopped component has no process to inject into.
  ASSERT_TRUE(v.request({{"cmd", "stop"}, {"name", "camera"}}).value("ok", false));
  v.wait_for("camera", "stopped");
  EXPECT_EQ(error_of({{"cmd", "chaos"}, {"fault", "kill"}, {"name", "camera"}}),
            "'camera' has no process to inject a fault into (it is stopped)");

  // The CLI: refused by vigild 1, bad usage 64, vigild unreachable 69.
  auto refused = chaos(v, {"kill", "ghost"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.output, "vigil: no component named 'ghost'\n");
  auto bad_duration = chaos(v, {"hang", "lidar", "--for", "forever"});
  EXPECT_EQ(bad_duration.exit_code, 64);
  EXPECT_EQ(bad_duration.output,
            "vigil: --for 'forever' must be a duration from 1ms to 1d00h (e.g. 3s, 500ms)\n");
  auto bad_duty = chaos(v, {"slow", "lidar", "--for", "1s", "--duty", "100%"});
  EXPECT_EQ(bad_duty.exit_code, 64);
  EXPECT_EQ(bad_duty.output,
            "vigil: --duty '100%' must be a fraction of each period, e.g. 50% or 0.5 (more than "
            "0, less than 100%)\n");
  auto bad_loss = chaos(v, {"packet-loss", "lidar", "--for", "1s", "--loss", "lots"});
  EXPECT_EQ(bad_loss.exit_code, 64);
  EXPECT_EQ(bad_loss.output,
            "vigil: --loss 'lots' must be a percentage above 0 and at most 100 (e.g. 20%)\n");
  EXPECT_EQ(chaos(v, {"packet-loss", "lidar", "--for", "1s"}).exit_code, 64)
      << "--loss is required";
  auto bad_signal = chaos(v, {"kill", "lidar", "--signal", "SIGNOPE"});
  EXPECT_EQ(bad_signal.exit_code, 64);
  EXPECT_EQ(bad_signal.output, "vigil: --signal 'SIGNOPE' is not a signal name such as SIGTERM\n");
  EXPECT_EQ(chaos(v, {"hang", "lidar"}).exit_code, 64) << "--for is required";
  auto unreachable =
      run_command({bin("vigil"), "--socket", v.dir() + "/nowhere.sock", "chaos", "kill", "lidar"});
  EXPECT_EQ(unreachable.exit_code, 69) << unreachable.output;

  // Only the two accepted hangs were injected.
  v.follow_for(300ms);
  EXPECT_EQ(v.events_of("lidar", "fault_injected").size(), 1u);
  EXPECT_EQ(v.events_of("camera", "fault_injected").size(), 1u);
  EXPECT_TRUE(v.events_of("ghost", "fault_injected").empty());
}

TEST(Chaos, ShutdownContinuesAStoppedProcessBeforeStoppingIt) {
  Vigild v(R"(
root:
  children:
    - name: mapper
      command: [@BIN@/robot_sim]
      ready: notify
      stop: {timeout: 10s}
)");
  v.start();
  auto ready = v.wait_for("mapper", "ready");
  const pid_t pid = v.component("mapper")["pid"];
  ASSERT_EQ(chaos(v, {"hang", "mapper", "--for", "1m"}).exit_code, 0);
  auto injected = v.wait_for("mapper", "fault_injected", 10s, ready["id"]);
  ASSERT_TRUE(v.poll_until([&] { return process_state(pid) == 'T'; }, 5s));

  ASSERT_TRUE(v.request({{"cmd", "shutdown"}}).value("ok", false));
  auto cleared = v.wait_for("mapper", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true);
  EXPECT_EQ(cleared["detail"]["why"],
            "vigild is shutting down: SIGCONT to pid " + std::to_string(pid) + "'s group");
  // Continued, the process heard its SIGTERM: a clean stop well within the 10 s timeout.
  auto stopped = v.wait_for("mapper", "stopped", 10s, cleared["id"]);
  expect_after(stopped, cleared);
  EXPECT_TRUE(v.events_of("mapper", "stop_escalated").empty());
  EXPECT_EQ(v.stop(), 0);
}

// A memory hog is counted in the component's process tree: its rss monitor fails, the
// component is restarted, and the hog ends with the process it was about.
TEST(Chaos, AMemoryHogInAComponentsTreeTripsItsRssMonitorAndEndsWithTheRestart) {
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: mapper
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      resources:
        rss: {warn: 40MiB, fail: 80MiB, for: 400ms}
      backoff: {initial: 10ms, jitter: 0}
)");
  v.start();
  auto ready = v.wait_for("mapper", "ready");
  auto out = chaos(v, {"memory-hog", "mapper", "--for", "30s", "--size", "150MiB"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("mapper", "fault_injected", 10s, ready["id"]);
  const pid_t helper = injected["detail"]["helper_pid"].get<pid_t>();
  EXPECT_EQ(injected["detail"]["bytes"], 150ull << 20);
  auto exceeded = v.wait_for("mapper", "resource_exceeded", 15s, injected["id"]);
  EXPECT_EQ(exceeded["failure"], "resource");
  EXPECT_GE(exceeded["detail"]["sample"]["rss_bytes"].get<double>(), 80.0 * 1024 * 1024);
  // The helper is part of the tree the sample was taken of.
  const auto pids = exceeded["detail"]["sample"].value("pids", json::array());
  EXPECT_NE(std::find(pids.begin(), pids.end(), helper), pids.end()) << exceeded.dump();
  // The restart replaces the process: the hog ends there, well before its 30 s.
  auto cleared = v.wait_for("mapper", "fault_cleared", 10s, injected["id"]);
  EXPECT_EQ(cleared["detail"]["undone"], true);
  EXPECT_LT(cleared["detail"]["lasted_ms"].get<int>(), 20000);
  EXPECT_FALSE(process_alive(helper));
  auto back = v.wait_for("mapper", "ready", 10s, exceeded["id"]);
  v.follow_for(1s);
  EXPECT_TRUE(v.events_of("mapper", "resource_exceeded").size() == 1u)
      << "the new process is not charged with the old hog";
}

// A CPU hog for a component with a CPU warning: warned while it spins, cleared once it ends.
TEST(Chaos, ACpuHogWarnsForTheComponentUntilItEnds) {
  Vigild v(R"(
monitoring: {interval: 200ms}
root:
  children:
    - name: planner
      command: [@BIN@/robot_sim, --heartbeat, 100ms]
      ready: notify
      resources:
        cpu: {warn: 40%, for: 600ms}
)");
  v.start();
  auto ready = v.wait_for("planner", "ready");
  auto out = chaos(v, {"cpu-hog", "planner", "--for", "3s"});
  ASSERT_EQ(out.exit_code, 0) << out.output;
  auto injected = v.wait_for("planner", "fault_injected", 10s, ready["id"]);
  EXPECT_EQ(injected["detail"]["cpus"], 1);
  auto warning = v.wait_for("planner", "warning", 10s, injected["id"]);
  EXPECT_EQ(warning["detail"]["source"], "cpu") << warning.dump();
  auto cleared = v.wait_for("planner", "fault_cleared", 10s, injected["id"]);
  EXPECT_FALSE(process_alive(injected["detail"]["helper_pid"].get<pid_t>()));
  auto calm = v.wait_for("planner", "warning_cleared", 10s, cleared["id"]);
  EXPECT_EQ(calm["detail"]["source"], "cpu") << calm.dump();
  EXPECT_EQ(v.component("planner")["restarts"], 0);
}

}  // namespace
}  // namespace vigil::testing
