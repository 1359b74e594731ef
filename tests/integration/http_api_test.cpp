// The HTTP API against a real vigild with real components, through a real HTTP client
// (cpp-httplib's) and raw sockets where a misbehaving client is the point.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>
#include <regex>

#include "common/unique_fd.hpp"
#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

const char* kRobot = R"(
root:
  children:
    - name: lidar
      command: [@BIN@/robot_sim, --print-every, 50ms]
      ready: notify
      backoff: {initial: 20ms, jitter: 0}
    - name: drive
      children:
        - name: motor
          command: [@BIN@/robot_sim]
          ready: notify
)";

struct Url {
  std::string host;
  int port = 0;
};

Url parse_url(const std::string& url) {
  std::smatch m;
  const std::regex re(R"(http://([^:/]+):(\d+))");
  EXPECT_TRUE(std::regex_match(url, m, re)) << url;
  return {m[1], std::stoi(m[2])};
}

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v_ = std::make_unique<Vigild>(kRobot);
    v_->start();
    v_->wait_for("lidar", "ready");
    v_->wait_for("motor", "ready");
    url_ = parse_url(v_->http_url());
    client_ = std::make_unique<httplib::Client>(url_.host, url_.port);
    client_->set_read_timeout(10, 0);
  }

  json get_json(const std::string& path, int expected_status = 200) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    if (!res) return nullptr;
    EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    return json::parse(res->body);
  }

  httplib::Result post(const std::string& path, const std::string& token,
                       const std::string& body = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Post(path, headers, body, "application/json");
  }

  // Sends `raw` as is on a fresh connection; returns what came back before the server closed
  // the connection or `budget` passed.
  std::string raw_exchange(const std::string& raw, std::chrono::milliseconds budget = 5s) {
    UniqueFd fd(connect_raw());
    EXPECT_EQ(::send(fd.get(), raw.data(), raw.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(raw.size()));
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
      if (got.find("\r\n\r\n") != std::string::npos &&
          got.find("Content-Length") != std::string::npos) {
        const auto len = std::stoul(
            std::regex_replace(got, std::regex(R"([\s\S]*Content-Length: (\d+)[\s\S]*)"), "$1"));
        if (got.size() >= got.find("\r\n\r\n") + 4 + len) break;
      }
    }
    return got;
  }

  int connect_raw() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(url_.port));
    ::inet_pton(AF_INET, url_.host.c_str(), &addr.sin_addr);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }

  std::unique_ptr<Vigild> v_;
  Url url_;
  std::unique_ptr<httplib::Client> client_;
};

const json* find_named(const json& node, const std::string& name) {
  if (node.value("name", "") == name) return &node;
  if (node.contains("children")) {
    for (const auto& c : node["children"]) {
      if (const auto* f = find_named(c, name)) return f;
    }
  }
  return nullptr;
}

TEST_F(HttpApiTest, ListsTheTreeWithStatesPidsAndTheDaemon) {
  auto body = get_json("/api/v1/components");
  const auto* lidar = find_named(body["tree"], "lidar");
  const auto* motor = find_named(body["tree"], "motor");
  ASSERT_NE(lidar, nullptr);
  ASSERT_NE(motor, nullptr);
  EXPECT_EQ((*lidar)["state"], "running");
  EXPECT_GT((*lidar)["pid"].get<int>(), 1);
  EXPECT_NE(find_named(body["tree"], "drive"), nullptr);
  EXPECT_EQ(body["daemon"]["pid"], v_->pid());
  EXPECT_EQ(body["daemon"]["http"]["url"], v_->http_url());
  EXPECT_TRUE(body["host"].is_object());

  auto one = get_json("/api/v1/components/motor");
  EXPECT_EQ(one["name"], "motor");
  EXPECT_EQ(one["state"], "running");
  auto missing = get_json("/api/v1/components/nosuch", 404);
  EXPECT_EQ(missing["ok"], false);
  EXPECT_NE(missing["error"].get<std::string>().find("nosuch"), std::string::npos);
}

TEST_F(HttpApiTest, TokenFileIsPrivateAndCommandsNeedIt) {
  struct stat st {};
  ASSERT_EQ(::stat((v_->state_dir() + "/token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = v_->token();
  ASSERT_EQ(token.size(), 64u);

  auto missing = post("/api/v1/components/lidar/restart", "");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_NE(missing->get_header_value("WWW-Authenticate").find("Bearer"), std::string::npos);
  auto wrong = post("/api/v1/components/lidar/restart", std::string(64, 'a'));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 403);
  auto get_on_post = client_->Get("/api/v1/components/lidar/restart");
  ASSERT_TRUE(get_on_post);
  EXPECT_EQ(get_on_post->status, 405);
  EXPECT_EQ(get_on_post->get_header_value("Allow"), "POST");
  // Nothing happened to lidar.
  EXPECT_TRUE(v_->events_of("lidar", "operator_command").empty());

  const auto before = v_->events().back()["id"].get<std::int64_t>();
  auto ok = post("/api/v1/components/lidar/restart", token, R"({"reason": "test"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto command = v_->wait_for("lidar", "operator_command", 10s, before);
  EXPECT_EQ(command["detail"]["via"], "http");
  EXPECT_EQ(command["detail"]["command"], "restart");
  EXPECT_EQ(command["detail"]["reason"], "test");
  v_->wait_for("lidar", "ready", 10s, command["id"]);

  auto stop = post("/api/v1/components/motor/stop", token);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  v_->wait_for("motor", "stopped", 10s, before);
  auto start = post("/api/v1/components/motor/start", token);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->status, 200);
  v_->wait_for("motor", "ready", 10s, command["id"]);

  auto unknown = post("/api/v1/components/nosuch/restart", token);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["ok"], false);
}

TEST_F(HttpApiTest, BadRequestsGetTheRightStatusAndVigildKeepsSupervising) {
  const std::string token = v_->token();
  struct Case {
    std::string what;
    httplib::Result result;
    int status;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"malformed JSON", post("/api/v1/components/lidar/restart", token, "{nope"), 400});
  cases.push_back({"not an object", post("/api/v1/components/lidar/restart", token, "[1]"), 400});
  cases.push_back(
      {"unknown field", post("/api/v1/components/lidar/restart", token, R"({"x":1})"), 400});
  cases.push_back({"huge body",
                   post("/api/v1/components/lidar/restart", token, std::string(1 << 20, ' ')),
                   413});
  cases.push_back({"unknown endpoint", client_->Get("/api/v1/nothing"), 404});
  cases.push_back({"unknown parameter", client_->Get("/api/v1/events?limt=5"), 400});
  cases.push_back({"bad number", client_->Get("/api/v1/events?limit=abc"), 400});
  cases.push_back({"limit out of range", client_->Get("/api/v1/events?limit=0"), 400});
  cases.push_back({"bad duration", client_->Get("/api/v1/report?since=yesterday"), 400});
  cases.push_back({"repeated parameter", client_->Get("/api/v1/events?limit=1&limit=2"), 400});
  cases.push_back(
      {"history without series", client_->Get("/api/v1/metrics/history?component=lidar"), 400});
  for (auto& c : cases) {
    ASSERT_TRUE(c.result) << c.what;
    EXPECT_EQ(c.result->status, c.status) << c.what << ": " << c.result->body;
    auto body = json::parse(c.result->body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << c.what << ": not JSON: " << c.result->body;
    EXPECT_EQ(body["ok"], false) << c.what;
    EXPECT_FALSE(body["error"].get<std::string>().empty()) << c.what;
  }

  // DNS rebinding: a page served by another name must not read the API.
  auto rebound = raw_exchange(
      "GET /api/v1/components HTTP/1.1\r\nHost: evil.example:8080\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_NE(rebound.find("HTTP/1.1 403"), std::string::npos) << rebound;
  auto localhost = raw_exchange(
      "GET /api/v1/components HTTP/1.1\r\nHost: localhost:9999\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_NE(localhost.find("HTTP/1.1 200"), std::string::npos) << localhost.substr(0, 200);
  auto garbage = raw_exchange("\x16\x03\x01 not http at all\r\n\r\n", 6s);
  EXPECT_EQ(garbage.find("HTTP/1.1 200"), std::string::npos) << garbage;
  auto long_uri = raw_exchange("GET /api/v1/events?component=" + std::string(20000, 'x') +
                               " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(long_uri.find("HTTP/1.1 414"), std::string::npos) << long_uri.substr(0, 200);

  // Slow clients: some connections send half a request and stall. Everyone else is still
  // served, and a crash is still detected and recovered meanwhile.
  std::vector<UniqueFd> slow;
  for (int i = 0; i < 8; ++i) {
    slow.emplace_back(connect_raw());
    const std::string partial = "GET /api/v1/components HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    ::send(slow.back().get(), partial.data(), partial.size(), MSG_NOSIGNAL);
  }
  const auto before = v_->events().back()["id"].get<std::int64_t>();
  const auto lidar_pid = v_->component("lidar")["pid"].get<int>();
  ASSERT_EQ(::kill(lidar_pid, SIGKILL), 0);
  v_->wait_for("lidar", "exited", 10s, before);
  v_->wait_for("lidar", "ready", 10s, before);
  auto served = get_json("/api/v1/components/lidar");
  EXPECT_EQ(served["state"], "running");
  EXPECT_NE(served["pid"], lidar_pid);
}

TEST_F(HttpApiTest, EventsPageBackwardsAndFilterByComponent) {
  auto newest = get_json("/api/v1/events?limit=2");
  ASSERT_EQ(newest["events"].size(), 2u);
  EXPECT_TRUE(newest["more_before"].get<bool>());
  const auto oldest_id = newest["events"][0]["id"].get<std::int64_t>();
  EXPECT_LT(oldest_id, newest["events"][1]["id"].get<std::int64_t>());
  auto older = get_json("/api/v1/events?limit=1000&before=" + std::to_string(oldest_id));
  ASSERT_FALSE(older["events"].empty());
  EXPECT_FALSE(older["more_before"].get<bool>());
  for (const auto& e : older["events"]) EXPECT_LT(e["id"].get<std::int64_t>(), oldest_id);

  auto lidar = get_json("/api/v1/events?component=lidar&since=1h");
  ASSERT_FALSE(lidar["events"].empty());
  for (const auto& e : lidar["events"]) EXPECT_EQ(e["component"], "lidar");

  auto report = get_json("/api/v1/report?since=1h");
  EXPECT_TRUE(report["report"].contains("components"));
  EXPECT_FALSE(report["text"].get<std::string>().empty());

  auto logs = get_json("/api/v1/components/lidar/logs?lines=5");
  EXPECT_EQ(logs["component"], "lidar");
  EXPECT_TRUE(logs["lines"].is_array());
  get_json("/api/v1/components/nosuch/logs", 404);
}

TEST_F(HttpApiTest, HistoryServesStoredSeriesForCharts) {
  json reply;
  // Samples are taken every monitoring interval (1 s); wait for a few to be stored.
  ASSERT_TRUE(v_->poll_until(
      [&] {
        reply = get_json("/api/v1/metrics/history?component=lidar&series=rss_bytes&since=1h");
        return reply.contains("points") && reply["points"].size() >= 2;
      },
      30s))
      << reply.dump();
  EXPECT_EQ(reply["component"], "lidar");
  EXPECT_EQ(reply["series"], "rss_bytes");
  EXPECT_GT(reply["resolution_ms"].get<std::int64_t>(), 0);
  const auto& p = reply["points"][0];
  ASSERT_EQ(p.size(), 4u);  // [t_ms, avg, min, max]
  EXPECT_GT(p[1].get<double>(), 0);
  EXPECT_LE(p[2].get<double>(), p[1].get<double>());
  EXPECT_GE(p[3].get<double>(), p[1].get<double>());
  get_json("/api/v1/metrics/history?component=nosuch&series=rss_bytes", 404);
  get_json("/api/v1/metrics/history?component=lidar&series=rss_bytes&points=1", 400);
}

// Reads server-sent events from a raw socket: headers, then chunked frames.
class SseReader {
 public:
  SseReader(int fd, const std::string& extra_headers) : fd_(fd) {
    const std::string req = "GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers +
                            "Accept: text/event-stream\r\n\r\n";
    ::send(fd_.get(), req.data(), req.size(), MSG_NOSIGNAL);
  }

  // The next frame (name, data, id), or nullopt when `budget` passes or the stream ends.
  struct Frame {
    std::string name;
    json data;
    std::int64_t id = 0;
  };
  std::optional<Frame> next(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (true) {
      if (auto f = take_frame()) return f;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[8192];
      const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      raw_.append(buf, static_cast<std::size_t>(n));
      decode();
    }
  }
  const std::string& headers() const { return headers_; }

 private:
  void decode() {
    if (headers_.empty()) {
      const auto end = raw_.find("\r\n\r\n");
      if (end == std::string::npos) return;
      headers_ = raw_.substr(0, end);
      raw_.erase(0, end + 4);
    }
    while (true) {  // chunk: SIZE-HEX\r\nDATA\r\n
      const auto line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) return;
      const auto size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2) return;
      body_ += raw_.substr(line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
    }
  }
  std::optional<Frame> take_frame() {
    while (true) {
      const auto end = body_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      const std::string text = body_.substr(0, end);
      body_.erase(0, end + 2);
      if (text.rfind(":", 0) == 0) continue;  // a keep-alive comment
      Frame f;
      std::istringstream lines(text);
      std::string line;
      while (std::getline(lines, line)) {
        if (line.rfind("event: ", 0) == 0) f.name = line.substr(7);
        if (line.rfind("id: ", 0) == 0) f.id = std::stoll(line.substr(4));
        if (line.rfind("data: ", 0) == 0) f.data = json::parse(line.substr(6));
      }
      return f;
    }
  }

  UniqueFd fd_;
  std::string raw_;
  std::string headers_;
  std::string body_;
};

TEST_F(HttpApiTest, StreamSendsASnapshotThenEveryEventAndResumesAfterLastEventId) {
  SseReader stream(connect_raw(), "");
  auto snapshot = stream.next(10s);
  ASSERT_TRUE(snapshot);
  EXPECT_NE(stream.headers().find("text/event-stream"), std::string::npos) << stream.headers();
  EXPECT_EQ(snapshot->name, "snapshot");
  ASSERT_NE(find_named(snapshot->data["tree"], "lidar"), nullptr);

  const auto before = v_->events().back()["id"].get<std::int64_t>();
  const auto lidar_pid = v_->component("lidar")["pid"].get<int>();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(lidar_pid, SIGKILL), 0);
  std::optional<SseReader::Frame> exited;
  std::optional<SseReader::Frame> ready;
  std::int64_t last_id = 0;
  while (!ready) {
    auto f = stream.next(10s);
    ASSERT_TRUE(f) << "stream ended or went quiet before lidar was ready again";
    if (f->name != "event") continue;
    EXPECT_GT(f->id, last_id) << "ids must increase";
    last_id = f->id;
    if (f->data["component"] == "lidar" && f->data["kind"] == "exited") {
      exited = f;
      // Generous: the point is "without a reload", not speed (that is the benchmark's).
      EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 5s);
      EXPECT_FALSE(f->data.value("failure", "").empty()) << f->data.dump();
    }
    if (f->data["component"] == "lidar" && f->data["kind"] == "ready" && exited) ready = f;
  }
  EXPECT_GT(exited->id, before);

  // A reconnecting client (EventSource sends Last-Event-ID) gets what it missed, then a
  // fresh snapshot.
  SseReader resumed(connect_raw(), "Last-Event-ID: " + std::to_string(exited->id - 1) + "\r\n");
  auto first = resumed.next(10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->name, "event");
  EXPECT_EQ(first->id, exited->id);
  std::optional<SseReader::Frame> f;
  do {
    f = resumed.next(10s);
    ASSERT_TRUE(f);
  } while (f->name == "event");
  EXPECT_EQ(f->name, "snapshot");
}

TEST(HttpApi, TokenSurvivesARestartAndPortClashLeavesVigildSupervising) {
  // Two vigilds asking for the same port: the second keeps supervising without HTTP and says why.
  Vigild first(std::string(kRobot) + "http: {listen: \"127.0.0.1:0\"}\n");
  first.start();
  const auto url = parse_url(first.http_url());
  const auto token = first.token();
  Vigild second(std::string(kRobot) + "http: {listen: \"127.0.0.1:" + std::to_string(url.port) +
                "\"}\n");
  second.start();
  second.wait_for("lidar", "ready");
  auto status = second.status();
  EXPECT_NE(status["daemon"]["http"].value("error", "").find(std::to_string(url.port)),
            std::string::npos)
      << status["daemon"].dump();
  EXPECT_TRUE(second.http_url().empty());

  first.stop();
  first.start();
  EXPECT_EQ(first.token(), token);
}

}  // namespace
}  // namespace vigil::testing
