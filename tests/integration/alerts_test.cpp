// Alerts from a real vigild: to a real Alertmanager (prometheus-alertmanager 0.25, API v2),
// and to an exec hook. A component crashes, the alert fires; it recovers, the alert resolves.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "alerts/alert.hpp"
#include "common/scheduler.hpp"
#include "integration/harness.hpp"
#include "support/silent_listener.hpp"

extern char** environ;

namespace vigil::testing {
namespace {

constexpr const char* kAlertmanager = "/usr/bin/prometheus-alertmanager";

int free_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  socklen_t len = sizeof addr;
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// A real Alertmanager on 127.0.0.1, clustering off, one receiver that sends nowhere.
class Alertmanager {
 public:
  explicit Alertmanager(const std::string& dir) : dir_(dir + "/alertmanager") {
    ::mkdir(dir_.c_str(), 0700);
    std::ofstream(dir_ + "/am.yml")
        << "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n";
    port_ = free_port();
    const std::string config = "--config.file=" + dir_ + "/am.yml";
    const std::string storage = "--storage.path=" + dir_;
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    const std::string log = dir_ + "/am.log";
    std::vector<std::string> args = {kAlertmanager, config, storage, listen,
                                     "--cluster.listen-address="};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (::posix_spawn(&pid_, kAlertmanager, &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Alertmanager() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool started() const { return pid_ > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      httplib::Client client(url());
      client.set_connection_timeout(1s);
      if (auto r = client.Get("/-/ready"); r && r->status == 200) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // GET /api/v2/alerts with Alertmanager's default filters (active, silenced, inhibited and
  // unprocessed alerts; resolved ones, whose endsAt has passed, are never listed).
  json alerts() {
    httplib::Client client(url());
    client.set_connection_timeout(2s);
    client.set_read_timeout(5s);
    auto r = client.Get("/api/v2/alerts");
    if (!r || r->status != 200) return json::array();
    return json::parse(r->body, nullptr, false);
  }
  std::optional<json> find(const std::string& alertname, const std::string& component) {
    for (const auto& a : alerts()) {
      const auto& labels = a["labels"];
      if (labels.value("alertname", "") == alertname &&
          labels.value("component", "") == component) {
        return a;
      }
    }
    return std::nullopt;
  }
  std::string log() const {
    std::ifstream in(dir_ + "/am.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

TEST(Alerts, AlertmanagerListsTheFailureUntilTheComponentIsReadyAgain) {
  ASSERT_EQ(::access(kAlertmanager, X_OK), 0)
      << kAlertmanager << " is not installed: scripts/setup-deps.sh installs it";
  Vigild v("");  // the config needs Alertmanager's port: written below
  Alertmanager am(v.dir());
  ASSERT_TRUE(am.started());
  ASSERT_TRUE(am.wait_ready(30s)) << am.log();
  // The crash comes once; the restart waits an hour, so the alert stays active until the
  // test starts the component again.
  v.write_config(R"(
alerts:
  alertmanager: )" +
                 am.url() + R"(
  labels: {robot: test-bot}
  retry: {initial: 100ms, max: 1s, resolve_timeout: 1m}
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --crash-after, 300ms, --once, "@DIR@/crashed"]
      ready: notify
      backoff: {initial: 1h, max: 1h, jitter: 0}
)");
  v.start();
  v.wait_for("lidar", "ready");
  auto failure = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("failure", "") != "";
  });

  std::optional<json> alert;
  ASSERT_TRUE(v.poll_until(
      [&] {
        alert = am.find("VigilComponentFailed", "lidar");
        return alert.has_value();
      },
      30s))
      << "Alertmanager never listed the alert; vigild said:\n"
      << v.vigild_output();
  EXPECT_EQ((*alert)["status"]["state"], "active") << alert->dump();
  const auto& labels = (*alert)["labels"];
  EXPECT_EQ(labels["severity"], "warning");
  EXPECT_EQ(labels["robot"], "test-bot");
  EXPECT_EQ(labels["instance"], alerts::host_name());
  const auto& annotations = (*alert)["annotations"];
  EXPECT_EQ(annotations["failure"], failure["failure"]);
  EXPECT_EQ(annotations["summary"], failure["reason"]);
  EXPECT_EQ(annotations["event_id"], std::to_string(failure["id"].get<std::int64_t>()));
  // Firing: endsAt is a minute (resolve_timeout) after the post, so well in the future.
  EXPECT_GT((*alert)["endsAt"].get<std::string>(), alerts::rfc3339(wall_clock_us() + 30'000'000));

  // Recovery: the operator starts it now, it comes up ready, and the alert is resolved.
  auto reply = v.request({{"cmd", "start"}, {"name", "lidar"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();
  v.wait_for("lidar", "ready", 20s, failure["id"]);
  ASSERT_TRUE(v.poll_until([&] { return !am.find("VigilComponentFailed", "lidar"); }, 30s))
      << "the alert is still listed after the component became ready";
  // Nothing else was alerted.
  EXPECT_TRUE(am.alerts().empty()) << am.alerts().dump();
  EXPECT_EQ(v.stop(), 0);
}

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(json::parse(line, nullptr, false));
  }
  return lines;
}

TEST(Alerts, ExecHookGetsTheFiringAndTheResolvedAlert) {
  Vigild v(R"(
alerts:
  exec: ["@DIR@/hook.sh"]
  retry: {initial: 100ms, max: 1s}
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --crash-after, 300ms, --once, "@DIR@/crashed"]
      ready: notify
      backoff: {initial: 10ms, max: 1s, jitter: 0}
)");
  const std::string hook = v.dir() + "/hook.sh";
  const std::string received = v.dir() + "/alerts.jsonl";
  std::ofstream(hook) << "#!/bin/sh\nprintf '%s\\n' \"$VIGIL_ALERT\" >> '" << received << "'\n";
  ::chmod(hook.c_str(), 0755);
  v.start();
  auto failure = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("failure", "") != "";
  });
  v.wait_for("lidar", "ready", 20s, failure["id"]);
  ASSERT_TRUE(v.poll_until([&] { return read_lines(received).size() >= 2; }, 20s))
      << v.vigild_output();
  EXPECT_EQ(v.stop(), 0);

  const auto lines = read_lines(received);
  ASSERT_EQ(lines.size(), 2u) << "one firing and one resolved alert, nothing else";
  EXPECT_EQ(lines[0]["version"], 1);
  EXPECT_EQ(lines[0]["status"], "firing");
  EXPECT_EQ(lines[0]["alertname"], "VigilComponentFailed");
  EXPECT_EQ(lines[0]["labels"]["component"], "lidar");
  EXPECT_EQ(lines[0]["event"]["id"], failure["id"]);
  EXPECT_TRUE(lines[0]["ends_at"].is_null());
  EXPECT_EQ(lines[1]["status"], "resolved");
  EXPECT_EQ(lines[1]["alertname"], "VigilComponentFailed");
  EXPECT_EQ(lines[1]["starts_at"], lines[0]["starts_at"]);
  EXPECT_TRUE(lines[1]["ends_at"].is_string());
  EXPECT_EQ(lines[1]["event"]["kind"], "ready");
}

TEST(Alerts, AWebhookThatNeverAnswersHoldsUpNeitherSupervisionNorShutdown) {
  // Takes connections into its backlog and never answers them.
  testing::SilentListener listener;

  Vigild v(R"(
alerts:
  webhook: http://127.0.0.1:)" +
           std::to_string(listener.port()) + R"(/hook
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --crash-after, 300ms, --once, "@DIR@/crashed"]
      ready: notify
      backoff: {initial: 10ms, max: 1s, jitter: 0}
)");
  v.start();
  auto failure = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("failure", "") != "";
  });
  // The restart is not held up by the alert stuck in flight.
  v.wait_for("lidar", "ready", 10s, failure["id"]);
  pollfd pfd{listener.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10'000), 1) << "vigild never tried the webhook";
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(v.stop(), 0);
  // Components stop at once; the alerts get at most 1.5 s; a read timeout would be 5 s.
  EXPECT_LT(std::chrono::steady_clock::now() - before, 4s);
}

TEST(Alerts, AReloadThatAddsAnAlertsSectionStartsAlerting) {
  const std::string component = R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim]
      ready: notify
      backoff: {initial: 10ms, max: 1s, jitter: 0}
)";
  Vigild v(component);
  const std::string hook = v.dir() + "/hook.sh";
  const std::string received = v.dir() + "/alerts.jsonl";
  std::ofstream(hook) << "#!/bin/sh\nprintf '%s\\n' \"$VIGIL_ALERT\" >> '" << received << "'\n";
  ::chmod(hook.c_str(), 0755);
  v.start();
  auto ready = v.wait_for("lidar", "ready");
  v.write_config("alerts: {exec: [\"@DIR@/hook.sh\"]}\n" + component);
  auto reply = v.request({{"cmd", "reload"}});
  ASSERT_TRUE(reply.value("ok", false)) << reply.dump();

  ::kill(ready["detail"]["pid"].get<pid_t>(), SIGUSR2);  // robot_sim: crash now
  auto failure = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("failure", "") != "";
  });
  v.wait_for("lidar", "ready", 20s, failure["id"]);
  ASSERT_TRUE(v.poll_until([&] { return read_lines(received).size() >= 2; }, 20s))
      << v.vigild_output();
  const auto lines = read_lines(received);
  EXPECT_EQ(lines[0]["status"], "firing");
  EXPECT_EQ(lines[1]["status"], "resolved");
}

}  // namespace
}  // namespace vigil::testing
