// Delivery of alerts: the backoff schedule, the bounded outbox, the webhook deliverer against
// a real HTTP server on 127.0.0.1, and the exec target's ordering and retries.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "alerts/exec_target.hpp"
#include "alerts/http_target.hpp"
#include "common/unique_fd.hpp"
#include "supervisor/fakes.hpp"
#include "support/silent_listener.hpp"

namespace vigil::alerts {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(RetryDelay, DoublesFromInitialUpToMax) {
  const RetryPolicy policy{1s, 8s, 1h};
  std::vector<Duration> schedule;
  for (int n = 1; n <= 6; ++n) schedule.push_back(retry_delay(policy, n, 0.0));
  EXPECT_EQ(schedule, (std::vector<Duration>{1s, 2s, 4s, 8s, 8s, 8s}));
  EXPECT_EQ(retry_delay(policy, 1000, 0.0), 8s) << "no overflow after many attempts";
}

TEST(RetryDelay, JitterOnlyShortensByAtMostTheJitterFraction) {
  const RetryPolicy policy{1s, 8s, 1h};
  for (int n = 1; n <= 6; ++n) {
    const auto full = retry_delay(policy, n, 0.0);
    const auto jittered = retry_delay(policy, n, 0.999);
    EXPECT_LE(jittered, full);
    EXPECT_GE(jittered, std::chrono::duration_cast<Duration>(full * (1.0 - kRetryJitter)));
    EXPECT_LT(jittered, full) << "jitter has an effect";
  }
}

TEST(Outbox, DropsTheOldestWhenFullAndNewerStateReplacesQueuedOne) {
  Outbox box(2);
  EXPECT_EQ(box.push({"a", "firing", "1", false}), Outbox::Pushed::queued);
  EXPECT_EQ(box.push({"b", "firing", "2", false}), Outbox::Pushed::queued);
  EXPECT_EQ(box.push({"c", "firing", "3", false}), Outbox::Pushed::dropped_oldest);
  EXPECT_EQ(box.size(), 2u);
  EXPECT_EQ(box.pop()->key, "b");

  Outbox am(4);
  am.push({"x", "firing", "old", true});
  am.push({"y", "firing", "y", true});
  const Delivery in_flight{"x", "firing", "in flight", true};
  EXPECT_FALSE(Outbox(1).has_newer(in_flight));
  EXPECT_TRUE(am.has_newer(in_flight));
  EXPECT_EQ(am.push({"x", "resolved", "new", true}), Outbox::Pushed::replaced);
  EXPECT_EQ(am.size(), 2u);
  EXPECT_EQ(am.pop()->body, "new");
}

// Results are posted "to the loop"; here that is whichever thread reports, under a mutex.
class ResultLog {
 public:
  PostToLoop post() {
    return [](std::function<void()> fn) { fn(); };
  }
  OnResult sink() {
    return [this](const DeliveryResult& r) {
      std::lock_guard lock(mutex_);
      results_.push_back(r);
      changed_.notify_all();
    };
  }
  std::optional<DeliveryResult> wait_first(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [this] { return !results_.empty(); })) return {};
    return results_.front();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<DeliveryResult> results_;
};

class FlakyWebhook {
 public:
  FlakyWebhook() {
    server_.Post("/hooks/vigil", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex_);
      bodies_.push_back(req.body);
      content_types_.push_back(req.get_header_value("Content-Type"));
      arrivals_.push_back(MonoClock::now());
      res.status = bodies_.size() <= 2 ? 500 : 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // The socket listens from bind on: connections queue until the accept loop runs.
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FlakyWebhook() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/hooks/vigil", port_); }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard lock(mutex_);
    return content_types_;
  }
  std::vector<TimePoint> arrivals() {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
  std::vector<TimePoint> arrivals_;
};

TEST(HttpTarget, RetriesWithBackoffUntilTheWebhookAccepts) {
  FlakyWebhook server;
  ResultLog log;
  HttpTarget target({"webhook", server.url(), RetryPolicy{100ms, 1s, 1min}}, log.post(),
                    log.sink());
  const std::string body = R"({"version":1,"status":"firing","alertname":"VigilComponentFailed"})";
  target.submit({"VigilComponentFailed/lidar", "firing", body, false});

  auto result = log.wait_first(20s);
  ASSERT_TRUE(result.has_value()) << "no result within 20 s";
  EXPECT_TRUE(result->delivered) << result->error;
  EXPECT_EQ(result->attempts, 3);
  EXPECT_EQ(result->target, "webhook");
  EXPECT_EQ(result->key, "VigilComponentFailed/lidar");

  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 3u) << "two refusals, then accepted; no more after that";
  for (const auto& b : bodies) EXPECT_EQ(b, body);
  for (const auto& t : server.content_types()) EXPECT_EQ(t, "application/json");
  // Backoff: about 100 ms, then about 200 ms (jitter takes at most 20 % off).
  const auto arrivals = server.arrivals();
  EXPECT_GE(arrivals[1] - arrivals[0], 80ms);
  EXPECT_GE(arrivals[2] - arrivals[1], 160ms);
  const auto stats = target.stats();
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.given_up, 0u);
}

TEST(HttpTarget, GivesUpAfterGiveUpAfterAndReportsIt) {
  // A port with nothing listening: every attempt is refused at once.
  UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  probe.reset();

  ResultLog log;
  HttpTarget target(
      {"webhook", fmt::format("http://127.0.0.1:{}/", port), RetryPolicy{20ms, 40ms, 300ms}},
      log.post(), log.sink());
  target.submit({"k", "firing", "{}", false});
  auto result = log.wait_first(20s);
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->delivered);
  EXPECT_GE(result->attempts, 3);
  EXPECT_NE(result->error.find("127.0.0.1"), std::string::npos) << result->error;
  EXPECT_EQ(target.stats().given_up, 1u);
}

TEST(HttpTarget, AnEndpointThatNeverAnswersBlocksNeitherSubmitNorShutdown) {
  // Accepts connections into its backlog and never reads or answers.
  testing::SilentListener listener;

  ResultLog log;
  auto target = std::make_unique<HttpTarget>(
      HttpTargetOptions{"webhook", fmt::format("http://127.0.0.1:{}/", listener.port()),
                        RetryPolicy{}},
      log.post(), log.sink());
  const auto before_submit = MonoClock::now();
  for (int i = 0; i < 5; ++i) target->submit({"k" + std::to_string(i), "firing", "{}", false});
  EXPECT_LT(MonoClock::now() - before_submit, 50ms) << "submit must return at once";

  // Wait until the worker's connection is queued on the listener: the request is in flight
  // and waiting for an answer that never comes.
  pollfd pfd{listener.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 10'000), 1) << "the worker never connected";

  const auto before_stop = MonoClock::now();
  target.reset();
  EXPECT_LT(MonoClock::now() - before_stop, 1s) << "shutdown waited for the read timeout";
  EXPECT_FALSE(log.wait_first(0ms).has_value()) << "nothing was delivered";
}

TEST(HttpTarget, StopGivesQueuedDeliveriesTheirBudget) {
  FlakyWebhook server;  // the first two posts fail
  ResultLog log;
  HttpTarget target({"webhook", server.url(), RetryPolicy{50ms, 50ms, 1min}}, log.post(),
                    log.sink());
  target.submit({"a", "firing", R"({"n":1})", false});
  target.submit({"b", "firing", R"({"n":2})", false});
  target.stop(10s);
  const auto bodies = server.bodies();
  ASSERT_EQ(bodies.size(), 4u);
  EXPECT_EQ(bodies.back(), R"({"n":2})");
  EXPECT_EQ(target.stats().delivered, 2u);
}

TEST(ExecTarget, RunsHooksOneAtATimeInOrderAndRetriesAFailure) {
  testing::ManualScheduler sched;
  struct Run {
    std::vector<std::string> env;
    ExecDone done;
  };
  std::vector<Run> runs;
  ExecLauncher launcher = [&](const std::vector<std::string>& argv, std::vector<std::string> env,
                              ExecDone done) {
    EXPECT_EQ(argv, (std::vector<std::string>{"/usr/local/bin/page-me", "--urgent"}));
    runs.push_back({std::move(env), std::move(done)});
  };
  std::vector<DeliveryResult> results;
  ExecTarget target(sched, {"/usr/local/bin/page-me", "--urgent"}, RetryPolicy{1s, 4s, 1min},
                    launcher, [&](const DeliveryResult& r) { results.push_back(r); });

  target.submit({"a", "firing", R"({"alertname":"VigilComponentFailed"})", false});
  target.submit({"a", "resolved", R"({"alertname":"VigilComponentFailed"})", false});
  ASSERT_EQ(runs.size(), 1u) << "one hook at a time";
  auto has = [](const Run& r, const std::string& kv) {
    return std::find(r.env.begin(), r.env.end(), kv) != r.env.end();
  };
  EXPECT_TRUE(has(runs[0], R"(VIGIL_ALERT={"alertname":"VigilComponentFailed"})"));
  EXPECT_TRUE(has(runs[0], "VIGIL_ALERT_STATUS=firing"));
  EXPECT_TRUE(has(runs[0], "VIGIL_ALERT_NAME=VigilComponentFailed"));

  runs[0].done(false, "exited with code 1");
  EXPECT_EQ(runs.size(), 1u) << "retried after a backoff, not at once";
  sched.advance(790ms);  // the first retry waits 1 s less up to 20 % jitter
  EXPECT_EQ(runs.size(), 1u);
  sched.advance(210ms);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_TRUE(has(runs[1], "VIGIL_ALERT_STATUS=firing"));
  runs[1].done(true, "exited with code 0");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_TRUE(has(runs[2], "VIGIL_ALERT_STATUS=resolved"));
  runs[2].done(true, "exited with code 0");

  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].delivered);
  EXPECT_EQ(results[0].attempts, 2);
  EXPECT_EQ(results[1].status, "resolved");
  EXPECT_EQ(target.stats().delivered, 2u);
}

TEST(ExecTarget, GivesUpAfterGiveUpAfter) {
  testing::ManualScheduler sched;
  int launches = 0;
  ExecLauncher launcher = [&](const std::vector<std::string>&, std::vector<std::string>,
                              ExecDone done) {
    ++launches;
    sched.post([done] { done(false, "exited with code 3"); });
  };
  std::vector<DeliveryResult> results;
  ExecTarget target(sched, {"/bin/false"}, RetryPolicy{1s, 2s, 10s}, launcher,
                    [&](const DeliveryResult& r) { results.push_back(r); });
  target.submit({"a", "firing", "{}", false});
  sched.advance(1min);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].delivered);
  EXPECT_NE(results[0].error.find("exited with code 3"), std::string::npos);
  EXPECT_GE(launches, 4);
  EXPECT_LE(launches, 10);
  EXPECT_EQ(target.stats().given_up, 1u);
}

}  // namespace
}  // namespace vigil::alerts
