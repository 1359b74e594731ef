// A real Prometheus scrapes a real vigild's /metrics: the components show up with the right
// labels and values, and a failure reaches Prometheus as a counter increment.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration/harness.hpp"
#include "process/spawn.hpp"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;

// A loopback port nobody listens on right now. Prometheus binds it a moment later; another
// process taking it in between would make Prometheus fail to start, which the test reports.
int free_loopback_port() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return -1;
  socklen_t length = sizeof address;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  return ntohs(address.sin_port);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Polls `condition` every 200 ms until it holds or `deadline` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return condition();
}

// /usr/bin/prometheus on a free loopback port, with its own empty TSDB, scraping one target
// every second; terminated (then killed) and its files removed when the object goes.
class Prometheus {
 public:
  explicit Prometheus(const std::string& target) {
    char tmpl[] = "/tmp/vigil-prometheus-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = free_loopback_port();
    std::ofstream(dir_ + "/prometheus.yml") << "global:\n"
                                               "  scrape_interval: 1s\n"
                                               "  scrape_timeout: 1s\n"
                                               "  evaluation_interval: 1s\n"
                                               "scrape_configs:\n"
                                               "  - job_name: vigild\n"
                                               "    metrics_path: /metrics\n"
                                               "    static_configs:\n"
                                               "      - targets: ['"
                                            << target << "']\n";
    UniqueFd log(
        ::open((dir_ + "/prometheus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    process::SpawnRequest request;
    request.argv = {VIGIL_PROMETHEUS, "--config.file=" + dir_ + "/prometheus.yml",
                    "--storage.tsdb.path=" + dir_ + "/data",
                    "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    request.env = {"PATH=/usr/bin:/bin", "HOME=" + dir_};
    request.cwd = dir_;
    request.output_fd = log.get();
    auto spawned = process::spawn(request);
    if (!spawned.process) {
      error_ = spawned.error.message;
      return;
    }
    pid_ = spawned.process->pid;
    pidfd_ = std::move(spawned.process->pidfd);
  }

  ~Prometheus() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      pollfd p{pidfd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 10'000) != 1) process::signal_group(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    if (!::testing::Test::HasFailure()) {
      fs::remove_all(dir_, ec);
    } else {
      std::cerr << "prometheus log (" << dir_ << "):\n" << log() << "\n";
    }
  }
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  const std::string& error() const { return error_; }
  std::string log() const { return read_text(dir_ + "/prometheus.log"); }
  bool alive() const { return pid_ > 0 && process_alive(pid_); }

  bool ready() {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(1);
    auto response = client.Get("/-/ready");
    return response && response->status == 200;
  }

  // The result vector of an instant query, or null when the query did not succeed.
  json query(const std::string& promql) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(2);
    client.set_read_timeout(5);
    auto response =
        client.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
    if (!response || response->status != 200) return nullptr;
    auto body = json::parse(response->body, nullptr, false);
    if (body.is_discarded() || body.value("status", "") != "success") return nullptr;
    return body["data"]["result"];
  }

 private:
  std::string dir_;
  int port_ = -1;
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  std::string error_;
};

// Component name → value of each series of an instant vector.
std::map<std::string, double> values_by_component(const json& result) {
  std::map<std::string, double> out;
  if (!result.is_array()) return out;
  for (const auto& series : result) {
    out[series["metric"].value("component", "")] = std::stod(series["value"][1].get<std::string>());
  }
  return out;
}

TEST(Prometheus, ScrapesComponentsAndSeesAFailure) {
  ASSERT_TRUE(fs::exists(VIGIL_PROMETHEUS))
      << VIGIL_PROMETHEUS << " is missing: apt-get install prometheus";
  Vigild v(R"(
http: {listen: "127.0.0.1:0"}
monitoring: {interval: 500ms}
root:
  children:
    - name: sensors
      strategy: one_for_one
      children:
        - name: lidar
          command: [@BIN@/robot_sim, --heartbeat, 100ms]
          ready: notify
          watchdog: {timeout: 5s}
          backoff: {initial: 10ms, jitter: 0}
        - name: camera
          command: [@BIN@/robot_sim]
          ready: notify
    - name: planner
      command: [@BIN@/robot_sim]
      ready: notify
)");
  v.start();
  for (const char* c : {"lidar", "camera", "planner"}) v.wait_for(c, "ready");

  // vigild writes its base URL once it listens.
  const std::string url_file = v.state_dir() + "/http.url";
  ASSERT_TRUE(eventually([&] { return fs::exists(url_file); }, 30s))
      << "vigild wrote no " << url_file << " (is the HTTP server built in?)";
  std::string base_url = read_text(url_file);
  while (!base_url.empty() && (base_url.back() == '\n' || base_url.back() == '/')) {
    base_url.pop_back();
  }
  ASSERT_EQ(base_url.rfind("http://", 0), 0u) << base_url;
  const std::string target = base_url.substr(7);

  // vigild's own answer first, so that a failure below is clearly Prometheus's side.
  {
    httplib::Client client(base_url);
    client.set_read_timeout(5);
    auto response = client.Get("/metrics");
    ASSERT_TRUE(response) << "GET " << base_url
                          << "/metrics: " << httplib::to_string(response.error());
    ASSERT_EQ(response->status, 200);
    EXPECT_NE(response->get_header_value("Content-Type").find("text/plain"), std::string::npos);
    EXPECT_NE(response->body.find("vigil_component_up{component=\"lidar\"} 1"), std::string::npos)
        << response->body;
    // The real exposition, lint included, as promtool judges it.
    const std::string saved = v.dir() + "/metrics.txt";
    std::ofstream(saved) << response->body;
    const auto checked =
        run_command({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + saved});
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    EXPECT_EQ(checked.output, "") << response->body;
  }

  Prometheus prometheus(target);
  ASSERT_EQ(prometheus.error(), "");
  ASSERT_TRUE(eventually([&] { return prometheus.ready() || !prometheus.alive(); }, 60s));
  ASSERT_TRUE(prometheus.alive()) << prometheus.log();

  // The first scrape lands within a few seconds of Prometheus being ready.
  json up;
  ASSERT_TRUE(eventually(
      [&] {
        up = prometheus.query("vigil_component_up");
        return values_by_component(up).size() == 3;
      },
      60s))
      << "last answer: " << up.dump() << "\n"
      << prometheus.log();
  const auto up_values = values_by_component(up);
  EXPECT_EQ(up_values,
            (std::map<std::string, double>{{"camera", 1}, {"lidar", 1}, {"planner", 1}}));
  for (const auto& series : up) {
    EXPECT_EQ(series["metric"].value("job", ""), "vigild") << series.dump();
    EXPECT_EQ(series["metric"].value("instance", ""), target) << series.dump();
  }
  const auto running =
      values_by_component(prometheus.query(R"(vigil_component_state{state="running"})"));
  EXPECT_EQ(running.size(), 3u);
  for (const auto& [name, value] : running) EXPECT_EQ(value, 1) << name;
  // Counters start at 0, so that the first failure is an increase Prometheus can see.
  const auto failures_before =
      values_by_component(prometheus.query(R"(vigil_component_failures_total{kind="signal"})"));
  EXPECT_EQ(failures_before.size(), 3u);
  EXPECT_EQ(failures_before.count("lidar") ? failures_before.at("lidar") : -1, 0);
  EXPECT_EQ(values_by_component(prometheus.query("up")).size(), 1u);

  // Kill the lidar: a `signal` failure, restarted by its group.
  const pid_t lidar = v.component("lidar").value("pid", 0);
  ASSERT_GT(lidar, 1);
  ASSERT_EQ(::kill(lidar, SIGKILL), 0);
  auto exited = v.wait_for([](const json& e) {
    return e.value("component", "") == "lidar" && e.value("kind", "") == "exited" &&
           e.value("failure", "") == "signal";
  });
  v.wait_for("lidar", "ready", 10s, exited["id"]);

  json failures;
  ASSERT_TRUE(eventually(
      [&] {
        failures = prometheus.query(R"(vigil_component_failures_total{component="lidar"})");
        double total = 0;
        if (failures.is_array()) {
          for (const auto& s : failures) total += std::stod(s["value"][1].get<std::string>());
        }
        return total >= 1;
      },
      60s))
      << "last answer: " << failures.dump() << "\n"
      << prometheus.log();
  const auto by_kind = [&] {
    std::map<std::string, double> out;
    for (const auto& s : failures) {
      out[s["metric"].value("kind", "")] = std::stod(s["value"][1].get<std::string>());
    }
    return out;
  }();
  EXPECT_EQ(by_kind.at("signal"), 1);
  EXPECT_EQ(by_kind.at("hang"), 0);
  // The same scrapes carry the restart and the recovery.
  EXPECT_TRUE(eventually(
      [&] {
        auto r = values_by_component(prometheus.query("vigil_component_restarts_total"));
        auto recovered =
            values_by_component(prometheus.query("vigil_component_recovery_seconds_count"));
        return r["lidar"] == 1 && recovered["lidar"] == 1 && r["camera"] == 0;
      },
      30s));
}

}  // namespace
}  // namespace vigil::testing
