// The `vigil` and `vigild` commands as users run them: exit codes, messages, output.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/unique_fd.hpp"
#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

const char* kRobot = R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --print-every, 50ms, --status, scanning]
      ready: notify
    - name: nav
      children:
        - name: planner
          command: [@BIN@/robot_sim, --crash-after, 100ms, --once, "@DIR@/p"]
          ready: notify
          backoff: {initial: 10ms}
)";

// Starts kRobot and waits until its planner has crashed once and is ready again.
void start_and_let_planner_crash_once(Vigild& v) {
  v.start();
  v.wait_for("lidar", "ready");
  auto crash = v.wait_for([](const json& e) {
    return e["component"] == "planner" && e["kind"] == "exited" && e.value("failure", "") != "";
  });
  v.wait_for("planner", "ready", 10s, crash["id"]);
}

TEST(Cli, ValidateAndVigildReportTheSameErrorAndStartNothing) {
  const std::string dir = ::testing::TempDir() + "/vigil-cli-validate";
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/bad.yaml";
  std::ofstream(file) << "state_dir: " << dir << "/state\nroot:\n  children:\n    - name: a\n"
                      << "      command: [/bin/true]\n      watchdog: {timeout: 2 secs}\n";
  const std::string expected = file + ":6:27: error: watchdog.timeout: '2 secs' is not a duration";
  auto validate = run_command({bin("vigil"), "validate", file});
  EXPECT_EQ(validate.exit_code, 2);
  EXPECT_NE(validate.output.find(expected), std::string::npos) << validate.output;
  auto daemon = run_command({bin("vigild"), "--config", file});
  EXPECT_EQ(daemon.exit_code, 2);
  EXPECT_NE(daemon.output.find(expected), std::string::npos) << daemon.output;
  EXPECT_NE(daemon.output.find("nothing was started"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir + "/state")) << "vigild touched state_dir";
  std::filesystem::remove_all(dir);
}

TEST(Cli, ValidateAcceptsTheExampleRobot) {
  auto r = run_command(
      {bin("vigil"), "validate", std::string(VIGIL_SOURCE_DIR) + "/examples/robot.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ok (7 components)"), std::string::npos) << r.output;
}

TEST(Cli, UsageErrorsAndUnreachableDaemon) {
  EXPECT_EQ(run_command({bin("vigil")}).exit_code, 64);
  EXPECT_EQ(run_command({bin("vigil"), "frobnicate"}).exit_code, 64);
  EXPECT_EQ(run_command({bin("vigil"), "start"}).exit_code, 64);
  EXPECT_EQ(run_command({bin("vigild")}).exit_code, 64);
  auto r = run_command({bin("vigil"), "--socket", "/nonexistent/control.sock", "status"});
  EXPECT_EQ(r.exit_code, 69);
  EXPECT_NE(r.output.find("cannot reach vigild at /nonexistent/control.sock"), std::string::npos)
      << r.output;
  auto since = run_command({bin("vigil"), "--socket", "/x", "events", "--since", "yesterday"});
  EXPECT_EQ(since.exit_code, 64);
  EXPECT_NE(since.output.find("--since 'yesterday' is not a duration"), std::string::npos);
}

TEST(Cli, StatusEventsLogsReportAndCommandsAgainstARunningDaemon) {
  Vigild v(kRobot);
  start_and_let_planner_crash_once(v);
  const std::string cfg = v.config_path();

  auto status = run_command({bin("vigil"), "-c", cfg, "status"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("lidar"), std::string::npos);
  EXPECT_NE(status.output.find("running"), std::string::npos);
  EXPECT_NE(status.output.find("status: scanning"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("last failure"), std::string::npos) << status.output;
  EXPECT_EQ(status.output.find("\033["), std::string::npos) << "colour on a pipe";
  EXPECT_NE(status.output.find("dashboard " + v.http_url() + "/"), std::string::npos)
      << status.output;

  auto json_status = run_command({bin("vigil"), "-c", cfg, "status", "--json"});
  auto parsed = json::parse(json_status.output, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json_status.output;
  EXPECT_EQ(parsed["tree"]["name"], "root");

  auto events =
      run_command({bin("vigil"), "-c", cfg, "events", "--component", "planner", "--json"});
  EXPECT_EQ(events.exit_code, 0);
  int lines = 0;
  std::istringstream in(events.output);
  for (std::string line; std::getline(in, line);) {
    auto e = json::parse(line, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << line;
    EXPECT_EQ(e["component"], "planner");
    ++lines;
  }
  EXPECT_GE(lines, 4);

  auto logs = run_command({bin("vigil"), "-c", cfg, "logs", "lidar", "-n", "3"});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_NE(logs.output.find("robot_sim"), std::string::npos) << logs.output;

  auto report = run_command({bin("vigil"), "-c", cfg, "report", "--json"});
  EXPECT_EQ(report.exit_code, 0) << report.output;
  auto figures = json::parse(report.output, nullptr, false);
  ASSERT_FALSE(figures.is_discarded()) << report.output;
  EXPECT_EQ(figures["components"]["planner"]["failures"], 1);
  EXPECT_EQ(figures["components"]["planner"]["restarts"], 1);
  EXPECT_EQ(figures["components"]["lidar"]["failures"], 0);
  EXPECT_LT(figures["system"]["availability"].get<double>(), 1.0);

  auto unknown = run_command({bin("vigil"), "-c", cfg, "restart", "nosuch"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("no component or group named 'nosuch'"), std::string::npos);

  auto restart = run_command({bin("vigil"), "-c", cfg, "restart", "nav"});
  EXPECT_EQ(restart.exit_code, 0) << restart.output;
  auto op = v.wait_for("nav", "operator_command");
  v.wait_for("planner", "ready", 10s, op["id"]);
}

TEST(Cli, WithVigildDownStatusEventsAndReportComeFromTheEventLog) {
  Vigild v(kRobot);
  start_and_let_planner_crash_once(v);
  v.kill9();
  const std::string cfg = v.config_path();
  auto status = run_command({bin("vigil"), "-c", cfg, "status"});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("vigild is not running; answering from"), std::string::npos);
  EXPECT_NE(status.output.find("planner"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("running"), std::string::npos) << status.output;
  auto events = run_command({bin("vigil"), "-c", cfg, "events", "--component", "planner"});
  EXPECT_EQ(events.exit_code, 0);
  EXPECT_NE(events.output.find("killed by SIGABRT"), std::string::npos) << events.output;
  auto report = run_command({bin("vigil"), "-c", cfg, "report"});
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_NE(report.output.find("SYSTEM"), std::string::npos) << report.output;
  // Following needs a live vigild.
  auto follow = run_command({bin("vigil"), "-c", cfg, "events", "--follow"});
  EXPECT_EQ(follow.exit_code, 69);
}

TEST(Cli, LogsFollowStreamsOutputAsItIsWritten) {
  Vigild v(kRobot);
  v.start();
  v.wait_for("lidar", "ready");
  UniqueFd fd = connect_unix(v.state_dir() + "/control.sock");
  ASSERT_TRUE(fd.valid());
  const std::string request = R"({"cmd":"logs","name":"lidar","limit":0,"follow":true})"
                              "\n";
  ASSERT_EQ(::write(fd.get(), request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  // The first reply, then chunks: lidar prints every 50 ms.
  std::string received;
  int chunks = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (chunks < 3 && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    received.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = received.find('\n')) != std::string::npos) {
      auto msg = json::parse(received.substr(0, nl), nullptr, false);
      received.erase(0, nl + 1);
      ASSERT_FALSE(msg.is_discarded());
      if (msg.contains("chunk")) {
        EXPECT_NE(msg["chunk"].get<std::string>().find("robot_sim"), std::string::npos);
        ++chunks;
      } else {
        EXPECT_TRUE(msg["ok"].get<bool>());
        EXPECT_TRUE(msg["follow"].get<bool>());
      }
    }
  }
  EXPECT_GE(chunks, 3);
}

TEST(Cli, MalformedControlRequestsGetErrorsAndTheDaemonCarriesOn) {
  Vigild v(kRobot);
  v.start();
  v.wait_for("lidar", "ready");
  auto exchange = [&](const std::string& bytes) {
    UniqueFd fd = connect_unix(v.state_dir() + "/control.sock");
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(::write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    std::string reply;
    char buf[4096];
    ssize_t n;
    while (reply.find('\n') == std::string::npos && (n = ::read(fd.get(), buf, sizeof buf)) > 0) {
      reply.append(buf, n);
    }
    return json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  };
  const std::pair<std::string, std::string> cases[] = {
      {"not json\n", "request is not valid JSON"},
      {"[1,2]\n", "request must be a JSON object"},
      {"{\"cmd\": 7}\n", "request needs \"cmd\""},
      {"{\"cmd\": \"explode\"}\n", "unknown command 'explode'"},
      {"{\"cmd\": \"stop\"}\n", "'stop' needs \"name\""},
      {"{\"cmd\": \"events\", \"limit\": -5}\n", "\"limit\" must be an integer"},
      {"{\"cmd\": \"status\", \"extra\": 1}\n", "unknown field \"extra\""},
      {"{\"cmd\": \"logs\", \"name\": \"nosuch\"}\n", "no component named 'nosuch'"},
      {std::string(70000, 'x') + "\n", "request longer than 65536 bytes"},
  };
  for (const auto& [request, error] : cases) {
    auto reply = exchange(request);
    ASSERT_FALSE(reply.is_discarded()) << request.substr(0, 40);
    EXPECT_FALSE(reply["ok"].get<bool>());
    EXPECT_NE(reply["error"].get<std::string>().find(error), std::string::npos) << reply.dump();
  }
  EXPECT_TRUE(v.status()["ok"].get<bool>());
  EXPECT_EQ(v.component("lidar")["state"], "running");
}

}  // namespace
}  // namespace vigil::testing
