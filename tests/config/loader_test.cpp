// Every kind of bad config gets one precise FILE:LINE:COL error, and a good one loads.
#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vigil::config {
namespace {

// A config whose components run /bin/true, written as the test gives it.
LoadResult load(const std::string& yaml) {
  return load_config_text(yaml, "robot.yaml");
}

struct BadConfig {
  const char* what;
  const char* yaml;
  const char* error;  // the complete first error line
};

class BadConfigs : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigs, ReportExactLocationAndMessage) {
  const auto& c = GetParam();
  auto r = load(c.yaml);
  EXPECT_FALSE(r.ok()) << c.what;
  ASSERT_FALSE(r.errors.empty()) << c.what;
  EXPECT_EQ(r.errors.front().format(), c.error) << c.what << "\nall errors:\n" << r.format_errors();
}

const BadConfig kBadConfigs[] = {
    {"yaml syntax", "root:\n  children: [\n",
     "robot.yaml:3:1: error: end of sequence flow not found"},
    {"not a mapping", "- a\n- b\n",
     "robot.yaml:1:1: error: the config must be a mapping with a 'root' group, not a list"},
    {"missing root", "state_dir: x\n",
     "robot.yaml:1:1: error: missing key 'root': the supervision tree's top group"},
    {"unknown top-level key",
     "root:\n  children:\n    - {name: a, command: [/bin/true]}\nstat_dir: x\n",
     "robot.yaml:4:1: error: unknown key 'stat_dir' in top level (did you mean 'state_dir'?)"},
    {"unknown component key", "root:\n  children:\n    - name: a\n      comand: [/bin/true]\n",
     "robot.yaml:4:7: error: unknown key 'comand' in component (did you mean 'command'?)"},
    {"unknown key without a close match",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      colour: red\n",
     "robot.yaml:5:7: error: unknown key 'colour' in component (expected one of: name, command, "
     "env, cwd, restart, backoff, ready, start_timeout, watchdog, grace, stop, after, output, "
     "resources, monitors, limits, user, recovery, standby_for)"},
    {"command as a string", "root:\n  children:\n    - name: a\n      command: /bin/true --x\n",
     "robot.yaml:4:16: error: command must be a list of arguments, e.g. [prog, --flag, value]; "
     "for a shell command write [sh, -c, \"...\"]"},
    {"missing command", "root:\n  children:\n    - name: a\n",
     "robot.yaml:3:7: error: component 'a' has no 'command' (or 'children' for a group)"},
    {"empty command", "root:\n  children:\n    - name: a\n      command: []\n",
     "robot.yaml:4:16: error: command must not be empty"},
    {"missing executable",
     "root:\n  children:\n    - name: a\n      command: [/nonexistent/lidar_sim]\n",
     "robot.yaml:4:17: error: program '/nonexistent/lidar_sim' does not exist"},
    {"program not in PATH",
     "root:\n  children:\n    - name: a\n      command: [no-such-program-vigil]\n",
     "robot.yaml:4:17: error: program 'no-such-program-vigil' not found in PATH"},
    {"directory as program", "root:\n  children:\n    - name: a\n      command: [/tmp]\n",
     "robot.yaml:4:17: error: program '/tmp' is a directory"},
    {"not executable", "root:\n  children:\n    - name: a\n      command: [/etc/passwd]\n",
     "robot.yaml:4:17: error: program '/etc/passwd' is not executable"},
    {"duration without unit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      start_timeout: 5\n",
     "robot.yaml:5:22: error: start_timeout: '5' is not a duration (write it with a unit: 250ms, "
     "5s, 2m)"},
    {"bad duration unit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {timeout: 3 "
     "fortnights}\n",
     "robot.yaml:5:27: error: watchdog.timeout: '3 fortnights' is not a duration (write it with "
     "a unit: 250ms, 5s, 2m)"},
    {"bad size unit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      output: {max_size: "
     "10 parsecs}\n",
     "robot.yaml:5:26: error: output.max_size: '10 parsecs' is not a size (write it with a unit: "
     "512KiB, 200MiB, 1GiB)"},
    {"wrong type: list for scalar",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      restart: [always]\n",
     "robot.yaml:5:16: error: restart must be a single value, not a list"},
    {"bad restart type",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      restart: permanant\n",
     "robot.yaml:5:16: error: restart must be permanent, transient or temporary, not 'permanant' "
     "(did you mean 'permanent'?)"},
    {"bad strategy",
     "root:\n  strategy: one_for_some\n  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:2:13: error: unknown strategy 'one_for_some' (did you mean 'one_for_one'?); "
     "expected one_for_one, one_for_all or rest_for_one"},
    {"duplicate names",
     "root:\n  children:\n    - {name: a, command: [/bin/true]}\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:4:14: error: duplicate name 'a' (first used at line 3)"},
    {"a reserved name", "root:\n  children:\n    - {name: host, command: [/bin/true]}\n",
     "robot.yaml:3:14: error: name 'host' is reserved (host, system and vigild are vigild's "
     "own)"},
    {"name clashes with a group",
     "root:\n  children:\n    - name: nav\n      children:\n        - {name: nav, command: "
     "[/bin/true]}\n",
     "robot.yaml:5:18: error: duplicate name 'nav' (first used at line 3)"},
    {"unknown after",
     "root:\n  children:\n    - {name: lidar, command: [/bin/true]}\n    - {name: nav, command: "
     "[/bin/true], after: [lidr]}\n",
     "robot.yaml:4:49: error: 'nav' waits for unknown component or group 'lidr' (did you mean "
     "'lidar'?)"},
    {"dependency cycle",
     "root:\n  children:\n    - {name: a, command: [/bin/true], after: [b]}\n    - {name: b, "
     "command: [/bin/true], after: [a]}\n",
     "robot.yaml:4:47: error: dependency cycle: a -> b -> a"},
    {"waits for its own group",
     "root:\n  children:\n    - name: nav\n      children:\n        - {name: planner, command: "
     "[/bin/true], after: [nav]}\n",
     "robot.yaml:5:57: error: dependency cycle: planner -> planner"},
    {"waits for itself", "root:\n  children:\n    - {name: a, command: [/bin/true], after: [a]}\n",
     "robot.yaml:3:47: error: 'a' cannot wait for itself"},
    {"bad ready",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      ready: notfy\n",
     "robot.yaml:5:14: error: ready must be none, notify, tcp:HOST:PORT or {exec: [...]}, not "
     "'notfy' (did you mean 'notify'?)"},
    {"bad tcp port",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      ready: "
     "tcp:127.0.0.1:99999\n",
     "robot.yaml:5:14: error: ready tcp port '99999' must be a number from 1 to 65535"},
    {"bad signal",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      stop: {signal: "
     "SIGTERMINATE}\n",
     "robot.yaml:5:22: error: stop.signal: 'SIGTERMINATE' is not a signal (e.g. SIGTERM, SIGINT)"},
    {"negative intensity",
     "root:\n  intensity: {restarts: -1, within: 10s}\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:2:25: error: intensity.restarts must be between 0 and 1000000, not -1"},
    {"backoff max below initial",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      backoff: {initial: 5s, "
     "max: 1s}\n",
     "robot.yaml:5:16: error: backoff.max (1.0s) is shorter than backoff.initial (5.0s)"},
    {"jitter out of range",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      backoff: {jitter: 2}\n",
     "robot.yaml:5:25: error: backoff.jitter must be between 0 and 1, not 2"},
    {"bad name", "root:\n  children:\n    - {name: \"lidar front\", command: [/bin/true]}\n",
     "robot.yaml:3:14: error: name 'lidar front' must be 1-64 letters, digits, '_', '-' or '.'"},
    {"group without children", "root:\n  children:\n    - name: nav\n      children: []\n",
     "robot.yaml:4:17: error: group 'nav' has no children"},
    {"child not a mapping", "root:\n  children:\n    - lidar\n",
     "robot.yaml:3:7: error: each child must be a mapping with a name, not a scalar"},
    {"env with a bad name",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      env: {\"A=B\": x}\n",
     "robot.yaml:5:13: error: env name 'A=B' must not be empty or contain '='"},
    {"bad final action",
     "final_action: explode\nroot:\n  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:15: error: final_action must be stop or retry, not 'explode'"},
    {"cwd not a directory",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      cwd: /nonexistent\n",
     "robot.yaml:5:12: error: cwd '/nonexistent' is not a directory"},
    {"unknown detector",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {detector: "
     "adaptive}\n",
     "robot.yaml:5:28: error: watchdog.detector must be fixed or phi, not 'adaptive'"},
    {"phi key without the phi detector",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {timeout: 1s, "
     "threshold: 8}\n",
     "robot.yaml:5:42: error: watchdog.threshold applies to the phi detector: add detector: phi"},
    {"warn threshold above threshold",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {detector: "
     "phi, threshold: 8, warn_threshold: 9}\n",
     "robot.yaml:5:63: error: watchdog.warn_threshold (9) must be below threshold (8)"},
    {"warn_after longer than the timeout",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {timeout: 1s, "
     "warn_after: 2s}\n",
     "robot.yaml:5:43: error: watchdog.warn_after (2.0s) must be shorter than timeout (1.0s)"},
    {"bad loop name",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {loops: {\"a "
     "b\": 1s}}\n",
     "robot.yaml:5:26: error: loop name 'a b' must have 1 to 64 letters, digits, '_', '-', '.' "
     "or '/'"},
    {"loop without a unit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {loops: "
     "{plan: 500}}\n",
     "robot.yaml:5:32: error: watchdog.loops.plan: '500' is not a duration (write it with a unit: "
     "250ms, 5s, 2m)"},
    {"rss threshold without a unit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      resources: {rss: {warn: "
     "150}}\n",
     "robot.yaml:5:31: error: resources.rss.warn: '150' is not a size (write it with a unit: "
     "512KiB, 200MiB, 1GiB)"},
    {"warn above fail",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      resources: {rss: {warn: "
     "2GiB, fail: 1GiB}}\n",
     "robot.yaml:5:31: error: resources.rss.warn must be below fail: warn comes first"},
    {"hook action without a hook",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      resources: {cpu: {fail: "
     "90%, action: hook}}\n",
     "robot.yaml:5:24: error: resources.cpu has action: hook but no hook: [argv]"},
    {"bad leak rate",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      resources: {leak: "
     "{rate: 1MiB}}\n",
     "robot.yaml:5:32: error: resources.leak.rate: '1MiB' is not a growth rate (write it as "
     "SIZE/s, SIZE/min or SIZE/h, e.g. 1MiB/min)"},
    {"unknown limit",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      limits: {files: 10}\n",
     "robot.yaml:5:16: error: unknown key 'files' in limits (expected one of: address_space, "
     "open_files, core, processes, memory, cpu, pids)"},
    {"unknown user",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      user: "
     "no-such-user-vigil\n",
     "robot.yaml:5:13: error: user 'no-such-user-vigil' does not exist on this machine"},
    {"host monitor that restarts",
     "monitoring: {host: {cpu: {warn: 90%, action: restart}}}\nroot:\n  children:\n    - name: a\n "
     "     command: [/bin/true]\n",
     "robot.yaml:1:20: error: monitoring.host monitors can warn or run a hook, not restart"},
    {"phi window too small",
     "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      watchdog: {detector: "
     "phi, window: 3}\n",
     "robot.yaml:5:41: error: watchdog.window must be between 10 and 100000, not 3"},
    {"http listen without a port",
     "http: {listen: 127.0.0.1}\nroot:\n  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:16: error: http.listen must be HOST:PORT (127.0.0.1:8080) or off, not "
     "'127.0.0.1'"},
    {"http listen port out of range",
     "http: {listen: \"127.0.0.1:70000\"}\nroot:\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:1:16: error: http.listen: '70000' is not a port (0 to 65535)"},
    {"http listen on a host name",
     "http: {listen: \"robot.local:8080\"}\nroot:\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:1:16: error: http.listen: 'robot.local' is not an IP address or localhost (a name "
     "would need DNS at boot)"},
    {"history tier finer than a second",
     "history: {tiers: [{resolution: 100ms, keep: 1h}]}\nroot:\n  children:\n    - {name: a, "
     "command: [/bin/true]}\n",
     "robot.yaml:1:32: error: history.tiers[0].resolution must be at least 1s"},
    {"history tiers not coarser",
     "history: {tiers: [{resolution: 1m, keep: 1h}, {resolution: 30s, keep: 1d}]}\nroot:\n  "
     "children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:60: error: history.tiers[1].resolution must be a multiple of the previous "
     "tier's, and coarser"},
    {"alertmanager not a URL",
     "alerts: {alertmanager: 127.0.0.1:9093}\nroot:\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:1:24: error: alerts.alertmanager must be an http:// or https:// URL with a host, "
     "not '127.0.0.1:9093'"},
    {"alert label not a label name",
     "alerts: {labels: {9robot: r2}}\nroot:\n  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:19: error: alerts.labels: '9robot' is not a label name "
     "([a-zA-Z_][a-zA-Z0-9_]*)"},
    {"alert retry max below initial",
     "alerts: {retry: {initial: 10s, max: 1s}}\nroot:\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:1:17: error: alerts.retry.max must not be shorter than alerts.retry.initial"},
    {"dds domain out of range",
     "dds: {domain: 300}\nroot:\n  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:15: error: dds.domain must be between 0 and 232, not 300"},
    {"hardware watchdog requiring an unknown component",
     "hardware_watchdog: {device: /dev/watchdog, require: [ab]}\nroot:\n  children:\n"
     "    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:53: error: hardware_watchdog.require: no component or group named 'ab' "
     "(did you mean 'a'?)"},
    {"hardware watchdog keepalives no shorter than its timeout",
     "hardware_watchdog: {device: /dev/watchdog, timeout: 10s, interval: 10s}\nroot:\n"
     "  children:\n    - {name: a, command: [/bin/true]}\n",
     "robot.yaml:1:68: error: hardware_watchdog.interval must be shorter than its timeout"},
    {"hardware watchdog without a device",
     "hardware_watchdog: {timeout: 10s}\nroot:\n  children:\n    - {name: a, command: "
     "[/bin/true]}\n",
     "robot.yaml:1:20: error: hardware_watchdog needs its device, e.g. device: /dev/watchdog"},
};

INSTANTIATE_TEST_SUITE_P(Config, BadConfigs, ::testing::ValuesIn(kBadConfigs),
                         [](const auto& info) {
                           std::string name;
                           for (const char* p = info.param.what; *p; ++p) {
                             name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
                           }
                           return name;
                         });

TEST(Config, ReportsEveryErrorNotJustTheFirst) {
  auto r = load(
      "root:\n  children:\n    - name: a\n      command: [/bin/true]\n      start_timeout: 5\n"
      "      restart: sometimes\n");
  ASSERT_EQ(r.errors.size(), 2u) << r.format_errors();
  EXPECT_EQ(r.errors[0].where.line, 5);
  EXPECT_EQ(r.errors[1].where.line, 6);
}

TEST(Config, LoadsTheDesignBriefExampleShape) {
  auto r = load(R"(
state_dir: state
final_action: retry
event_log: {max_events: 5000, max_age: 7d}
root:
  strategy: one_for_one
  intensity: {restarts: 5, within: 30s}
  children:
    - name: lidar
      command: [/bin/true, --rate, "10"]
      env: {ROS_DOMAIN_ID: "3"}
      restart: permanent
      backoff: {initial: 100ms, max: 10s, factor: 2, jitter: 0.2, reset_after: 1m}
      ready: notify
      start_timeout: 5s
      watchdog: {timeout: 1s, signal: SIGKILL}
      stop: {signal: SIGINT, timeout: 3s}
      output: {max_size: 1MiB, keep: 2, tail_lines: 5}
    - name: navigation
      strategy: rest_for_one
      after: [lidar]
      children:
        - name: planner
          command: [sh, -c, "exec /bin/true"]
          ready: tcp:127.0.0.1:9000
        - name: controller
          command: [/bin/true]
          ready: {exec: [/bin/true], period: 200ms, timeout: 1s, failure_threshold: 2}
          after: [planner]
          restart: transient
)");
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& s = *r.spec;
  EXPECT_EQ(s.final_action, FinalAction::retry);
  EXPECT_EQ(s.event_log.max_events, 5000);
  EXPECT_EQ(std::filesystem::path(s.state_dir).filename(), "state");
  EXPECT_TRUE(std::filesystem::path(s.state_dir).is_absolute());
  ASSERT_EQ(s.root.children.size(), 2u);
  const auto& lidar = std::get<ComponentSpec>(s.root.children[0].node);
  EXPECT_EQ(lidar.command, (std::vector<std::string>{"/bin/true", "--rate", "10"}));
  EXPECT_EQ(lidar.env.at("ROS_DOMAIN_ID"), "3");
  EXPECT_EQ(lidar.backoff.reset_after, std::chrono::minutes(1));
  EXPECT_EQ(lidar.ready.kind, ReadySpec::Kind::notify);
  EXPECT_EQ(*lidar.watchdog.timeout, std::chrono::seconds(1));
  EXPECT_EQ(lidar.watchdog.signal, SIGKILL);
  EXPECT_EQ(lidar.stop.signal, SIGINT);
  EXPECT_EQ(lidar.output.max_size, 1u << 20);
  const auto& nav = std::get<GroupSpec>(s.root.children[1].node);
  EXPECT_EQ(nav.strategy, Strategy::rest_for_one);
  const auto& planner = std::get<ComponentSpec>(nav.children[0].node);
  EXPECT_EQ(planner.command[0], "/usr/bin/sh") << "resolved through PATH";
  EXPECT_EQ(planner.ready.kind, ReadySpec::Kind::tcp);
  EXPECT_EQ(planner.ready.port, 9000);
  const auto& controller = std::get<ComponentSpec>(nav.children[1].node);
  EXPECT_EQ(controller.ready.kind, ReadySpec::Kind::exec);
  EXPECT_EQ(controller.ready.failure_threshold, 2);
  EXPECT_EQ(controller.restart, RestartType::transient);
}

TEST(Config, RelativePathsAreRelativeToTheConfigFile) {
  const auto dir = std::filesystem::temp_directory_path() / "vigil-config-test";
  std::filesystem::create_directories(dir / "bin");
  std::filesystem::copy_file("/bin/true", dir / "bin" / "prog",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "robot.yaml") << "state_dir: st\nroot:\n  children:\n    - {name: a, "
                                       "command: [bin/prog]}\n";
  auto r = load_config_file((dir / "robot.yaml").string());
  ASSERT_TRUE(r.ok()) << r.format_errors();
  EXPECT_EQ(r.spec->state_dir, (dir / "st").string());
  const auto& a = std::get<ComponentSpec>(r.spec->root.children[0].node);
  EXPECT_EQ(a.command[0], (dir / "bin" / "prog").string());
  EXPECT_EQ(a.cwd, dir.string());
  std::filesystem::remove_all(dir);
}

TEST(Config, MissingFileIsAnErrorNotACrash) {
  auto r = load_config_file("/nonexistent/robot.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].format(),
            "/nonexistent/robot.yaml:1:1: error: cannot read config: No such file or directory");
}

}  // namespace
}  // namespace vigil::config
