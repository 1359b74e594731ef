// Routing, de-duplication and resolution of alerts from sequences of health events, in
// simulated time, with targets that record what they were given.
#include "alerts/alert_router.hpp"

#include <gtest/gtest.h>

#include "supervisor/fakes.hpp"

namespace vigil::alerts {
namespace {

using health::Event;
using health::EventKind;
using health::FailureKind;
using nlohmann::json;
using namespace std::chrono_literals;

class RecordingTarget final : public Target {
 public:
  explicit RecordingTarget(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  void submit(Delivery d) override { deliveries.push_back(std::move(d)); }
  void stop(std::chrono::milliseconds) override { stopped = true; }
  TargetStats stats() const override { return {}; }
  json body(std::size_t i) const { return json::parse(deliveries.at(i).body); }

  std::vector<Delivery> deliveries;
  bool stopped = false;

 private:
  std::string name_;
};

config::ComponentSpec component(const std::string& name,
                                config::RestartType restart = config::RestartType::permanent) {
  config::ComponentSpec c;
  c.name = name;
  c.command = {"/bin/true"};
  c.restart = restart;
  return c;
}

// root { lidar, drive: { left, right, logger (temporary) } }
config::SystemSpec robot() {
  config::SystemSpec spec;
  spec.root.name = "root";
  spec.root.children.push_back({component("lidar")});
  config::GroupSpec drive;
  drive.name = "drive";
  drive.children.push_back({component("left")});
  drive.children.push_back({component("right")});
  drive.children.push_back({component("logger", config::RestartType::temporary)});
  spec.root.children.push_back({drive});
  spec.alerts.alertmanager_url = "http://127.0.0.1:9093";
  spec.alerts.labels = {{"robot", "r2d2"}};
  spec.alerts.resolve_timeout = 1min;
  return spec;
}

class AlertRouterTest : public ::testing::Test {
 protected:
  AlertRouterTest() {
    auto am = std::make_unique<RecordingTarget>("alertmanager");
    auto hook = std::make_unique<RecordingTarget>("webhook");
    am_ = am.get();
    hook_ = hook.get();
    Targets targets;
    targets.alertmanager = std::move(am);
    targets.notifications.push_back(std::move(hook));
    router_ = std::make_unique<AlertRouter>(sched_, spec_, "robot-7", std::move(targets));
  }

  Event event(const std::string& node, EventKind kind, std::string state,
              FailureKind failure = FailureKind::none, std::string reason = "something",
              json detail = json::object()) {
    Event e;
    e.id = ++next_id_;
    e.wall_us = sched_.wall_now_us();
    e.component = node;
    e.kind = kind;
    e.state = std::move(state);
    e.failure = failure;
    e.reason = std::move(reason);
    e.detail = std::move(detail);
    return e;
  }
  void send(const Event& e) { router_->on_event(e); }
  void crash(const std::string& c, const std::string& why = "pid 42 crashed (SIGSEGV)") {
    send(event(c, EventKind::exited, "backoff", FailureKind::signal, why));
  }
  void ready(const std::string& c) { send(event(c, EventKind::ready, "running")); }
  void all_ready() {
    for (const char* c : {"lidar", "left", "right", "logger"}) ready(c);
  }
  std::int64_t now_us() const { return sched_.wall_now_us(); }

  testing::ManualScheduler sched_;
  config::SystemSpec spec_ = robot();
  RecordingTarget* am_ = nullptr;
  RecordingTarget* hook_ = nullptr;
  std::unique_ptr<AlertRouter> router_;
  std::int64_t next_id_ = 100;
};

TEST_F(AlertRouterTest, ComponentFailureFiresWithLabelsAndAnnotations) {
  send(event("lidar", EventKind::spawned, "starting", FailureKind::none, "spawned",
             {{"pid", 42}, {"restart", 3}}));
  const auto fired_at = now_us();
  crash("lidar");

  ASSERT_EQ(hook_->deliveries.size(), 1u);
  const auto body = hook_->body(0);
  EXPECT_EQ(body["version"], 1);
  EXPECT_EQ(body["status"], "firing");
  EXPECT_EQ(body["alertname"], "VigilComponentFailed");
  EXPECT_EQ(body["labels"], json({{"alertname", "VigilComponentFailed"},
                                  {"component", "lidar"},
                                  {"severity", "warning"},
                                  {"instance", "robot-7"},
                                  {"robot", "r2d2"}}));
  EXPECT_EQ(body["annotations"]["summary"], "pid 42 crashed (SIGSEGV)");
  EXPECT_EQ(body["annotations"]["failure"], "signal");
  EXPECT_EQ(body["annotations"]["event_id"], "102");
  EXPECT_EQ(body["annotations"]["restarts"], "3");
  EXPECT_EQ(body["starts_at"], rfc3339(fired_at));
  EXPECT_TRUE(body["ends_at"].is_null());
  EXPECT_EQ(body["event"]["kind"], "exited");
  EXPECT_EQ(body["event"]["id"], 102);

  ASSERT_EQ(am_->deliveries.size(), 1u);
  const auto posted = am_->body(0);
  ASSERT_TRUE(posted.is_array());
  ASSERT_EQ(posted.size(), 1u);
  EXPECT_EQ(posted[0]["labels"], body["labels"]);
  EXPECT_EQ(posted[0]["startsAt"], rfc3339(fired_at));
  EXPECT_EQ(posted[0]["endsAt"], rfc3339(fired_at + 60'000'000));  // now + resolve_timeout
  EXPECT_TRUE(am_->deliveries[0].superseded_by_newer);
  EXPECT_FALSE(hook_->deliveries[0].superseded_by_newer);
}

TEST_F(AlertRouterTest, RepeatedFailuresUpdateTheAlertWithoutNewNotifications) {
  crash("lidar", "first crash");
  sched_.advance(1s);
  crash("lidar", "second crash");
  send(event("lidar", EventKind::hang_detected, "stopping", FailureKind::hang, "hung"));

  EXPECT_EQ(hook_->deliveries.size(), 1u) << "the webhook hears of a firing alert once";
  EXPECT_EQ(am_->deliveries.size(), 1u) << "updates reach Alertmanager at its next refresh";
  const auto firing = router_->describe()["firing"];
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0]["annotations"]["failures"], "3");
  EXPECT_EQ(firing[0]["annotations"]["summary"], "hung");
  EXPECT_EQ(firing[0]["annotations"]["failure"], "hang");

  // A different component is a different alert.
  crash("left");
  EXPECT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(hook_->body(1)["labels"]["component"], "left");
}

TEST_F(AlertRouterTest, NextReadyResolves) {
  const auto started = now_us();
  crash("lidar");
  sched_.advance(5s);
  ready("right");  // another component's readiness resolves nothing
  EXPECT_EQ(hook_->deliveries.size(), 1u);
  ready("lidar");

  ASSERT_EQ(hook_->deliveries.size(), 2u);
  const auto resolved = hook_->body(1);
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["starts_at"], rfc3339(started));
  EXPECT_EQ(resolved["ends_at"], rfc3339(now_us()));
  EXPECT_EQ(resolved["event"]["kind"], "ready");
  EXPECT_EQ(hook_->deliveries[1].status, "resolved");

  ASSERT_EQ(am_->deliveries.size(), 2u);
  EXPECT_EQ(am_->body(1)[0]["endsAt"], rfc3339(now_us()));
  EXPECT_TRUE(router_->describe()["firing"].empty());

  // A new failure after recovery is a new alert, notified again.
  crash("lidar");
  EXPECT_EQ(hook_->deliveries.size(), 3u);
  EXPECT_EQ(hook_->body(2)["status"], "firing");
}

TEST_F(AlertRouterTest, AlertmanagerIsRefreshedEveryHalfResolveTimeoutWhileFiring) {
  crash("lidar", "first");
  sched_.advance(10s);
  crash("lidar", "second");
  sched_.advance(20s);  // 30 s = resolve_timeout / 2
  ASSERT_EQ(am_->deliveries.size(), 2u);
  auto refreshed = am_->body(1)[0];
  EXPECT_EQ(refreshed["endsAt"], rfc3339(now_us() + 60'000'000));
  EXPECT_EQ(refreshed["annotations"]["summary"], "second");
  EXPECT_EQ(refreshed["annotations"]["failures"], "2");
  sched_.advance(30s);
  EXPECT_EQ(am_->deliveries.size(), 3u);
  EXPECT_EQ(hook_->deliveries.size(), 1u) << "refreshes are for Alertmanager only";

  ready("lidar");
  ASSERT_EQ(am_->deliveries.size(), 4u);
  EXPECT_EQ(am_->body(3)[0]["endsAt"], rfc3339(now_us()));
  sched_.advance(5min);
  EXPECT_EQ(am_->deliveries.size(), 4u) << "nothing fires: no more refreshes";
}

TEST_F(AlertRouterTest, GroupEscalationResolvesWhenEveryComponentOfTheGroupRunsAgain) {
  all_ready();
  crash("left");
  send(event("drive", EventKind::escalated, "failed", FailureKind::none,
             "group drive failed: too many restarts", {{"members", {"left", "right", "logger"}}}));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  const auto fired = hook_->body(1);
  EXPECT_EQ(fired["alertname"], "VigilGroupEscalated");
  EXPECT_EQ(fired["labels"]["group"], "drive");
  EXPECT_EQ(fired["labels"]["severity"], "critical");
  EXPECT_EQ(fired["annotations"]["members"], "left, right, logger");
  EXPECT_FALSE(fired["labels"].contains("component"));

  // The parent restarts the whole group.
  for (const char* c : {"right", "logger"}) send(event(c, EventKind::stopped, "stopped"));
  send(event("logger", EventKind::exited, "stopped"));  // temporary: does not come back
  ready("left");  // resolves left's own alert; right is still down
  ASSERT_EQ(hook_->deliveries.size(), 3u);
  EXPECT_EQ(hook_->body(2)["alertname"], "VigilComponentFailed");
  EXPECT_EQ(hook_->body(2)["status"], "resolved");
  send(event("right", EventKind::spawned, "starting"));
  ready("right");
  ASSERT_EQ(hook_->deliveries.size(), 4u);
  EXPECT_EQ(hook_->body(3)["alertname"], "VigilGroupEscalated");
  EXPECT_EQ(hook_->body(3)["status"], "resolved");
}

TEST_F(AlertRouterTest, RootGiveUpFiresOnceAndResolvesWhenEverythingRunsAgain) {
  all_ready();
  crash("lidar");
  send(event("root", EventKind::given_up, "given_up", FailureKind::none,
             "root exhausted its restart intensity"));
  // The per-component given_up transitions that follow are not alerts of their own.
  for (const char* c : {"lidar", "left", "right"}) {
    send(event(c, EventKind::given_up, "given_up"));
  }
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  const auto fired = hook_->body(1);
  EXPECT_EQ(fired["alertname"], "VigilSupervisorGaveUp");
  EXPECT_EQ(fired["labels"]["severity"], "critical");

  // An operator start alone resolves nothing; readiness does.
  send(event("root", EventKind::operator_command, "", FailureKind::none, "operator: start root"));
  EXPECT_EQ(hook_->deliveries.size(), 2u);
  ready("lidar");
  ready("left");
  EXPECT_EQ(hook_->deliveries.size(), 3u);  // lidar's own alert
  ready("right");
  ASSERT_EQ(hook_->deliveries.size(), 4u);
  EXPECT_EQ(hook_->body(3)["alertname"], "VigilSupervisorGaveUp");
  EXPECT_EQ(hook_->body(3)["status"], "resolved");
}

TEST_F(AlertRouterTest, OperatorStopResolvesTheAlertsOfWhatItStops) {
  all_ready();
  crash("right");
  send(event("drive", EventKind::escalated, "failed"));
  crash("lidar");
  ASSERT_EQ(hook_->deliveries.size(), 3u);

  send(event("right", EventKind::operator_command, "", FailureKind::none, "operator: stop right"));
  // right's alert resolves, and with right stopped by the operator, drive has recovered.
  ASSERT_EQ(hook_->deliveries.size(), 5u);
  EXPECT_EQ(hook_->body(3)["labels"]["component"], "right");
  EXPECT_EQ(hook_->body(3)["status"], "resolved");
  EXPECT_EQ(hook_->body(4)["alertname"], "VigilGroupEscalated");
  EXPECT_EQ(hook_->body(4)["status"], "resolved");
  // lidar still fires.
  const auto firing = router_->describe()["firing"];
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0]["labels"]["component"], "lidar");
}

TEST_F(AlertRouterTest, ReloadThatRemovesAComponentResolvesItsAlert) {
  crash("lidar");
  auto reloaded = spec_;
  reloaded.root.children.erase(reloaded.root.children.begin());  // lidar is gone
  router_->reconfigure(reloaded);
  send(event("", EventKind::config_reloaded, "", FailureKind::none, "config reloaded",
             {{"removed", {"lidar"}}}));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(hook_->body(1)["status"], "resolved");
}

TEST_F(AlertRouterTest, ConfigLabelsChangeOnReloadAndIdentityLabelsStay) {
  crash("lidar");
  auto reloaded = spec_;
  reloaded.alerts.labels = {{"robot", "c3po"}, {"instance", "bay-2"}, {"component", "spoof"}};
  router_->reconfigure(reloaded);
  // Routers built with given targets keep them; Alertmanager is refreshed at once.
  ASSERT_EQ(am_->deliveries.size(), 2u);
  const auto labels = am_->body(1)[0]["labels"];
  EXPECT_EQ(labels["robot"], "c3po");
  EXPECT_EQ(labels["instance"], "bay-2");
  EXPECT_EQ(labels["component"], "lidar");
}

json approval_detail(const std::string& id, std::int64_t deadline_us) {
  return {{"id", id},
          {"step", 2},
          {"of", 3},
          {"action", "restart_group drive"},
          {"target", "drive"},
          {"why", "left failed again"},
          {"timeout_ms", 30000},
          {"deadline_us", deadline_us},
          {"default", "deny"}};
}

TEST_F(AlertRouterTest, ApprovalRequestFiresAWarningResolvedByItsDecision) {
  all_ready();
  const auto deadline = now_us() + 30'000'000;
  send(event("left", EventKind::approval_requested, "failed", FailureKind::none,
             "waiting for approval 1 to restart_group drive", approval_detail("1", deadline)));
  ASSERT_EQ(hook_->deliveries.size(), 1u);
  const auto fired = hook_->body(0);
  EXPECT_EQ(fired["status"], "firing");
  EXPECT_EQ(fired["alertname"], "VigilApprovalPending");
  EXPECT_EQ(fired["labels"]["component"], "left");
  EXPECT_EQ(fired["labels"]["severity"], "warning");
  EXPECT_EQ(fired["annotations"]["summary"], "waiting for approval 1 to restart_group drive");
  EXPECT_EQ(fired["annotations"]["id"], "1");
  EXPECT_EQ(fired["annotations"]["action"], "restart_group drive");
  EXPECT_EQ(fired["annotations"]["deadline"], rfc3339(deadline));
  EXPECT_EQ(fired["annotations"]["default"], "deny");
  ASSERT_EQ(am_->deliveries.size(), 1u);
  EXPECT_EQ(am_->body(0)[0]["labels"]["alertname"], "VigilApprovalPending");

  // A decision on another approval resolves nothing; readiness of the component neither (the
  // operator still has to answer).
  send(event("left", EventKind::approval_decided, "failed", FailureKind::none, "approval 9",
             {{"id", "9"}, {"decision", "approved"}, {"by", "operator"}}));
  EXPECT_EQ(hook_->deliveries.size(), 1u);

  sched_.advance(3s);
  send(event("left", EventKind::approval_decided, "failed", FailureKind::none,
             "approval 1 (restart_group drive): approved by operator",
             {{"id", "1"}, {"decision", "approved"}, {"by", "operator"}}));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  const auto resolved = hook_->body(1);
  EXPECT_EQ(resolved["alertname"], "VigilApprovalPending");
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["ends_at"], rfc3339(now_us()));
  EXPECT_EQ(resolved["event"]["kind"], "approval_decided");
  EXPECT_TRUE(router_->describe()["firing"].empty());
}

TEST_F(AlertRouterTest, EachApprovalIsItsOwnAlertAndATimeoutOrWithdrawalResolvesIt) {
  send(event("left", EventKind::approval_requested, "failed", FailureKind::none, "first",
             approval_detail("1", now_us() + 1)));
  send(event("lidar", EventKind::approval_requested, "failed", FailureKind::none, "second",
             approval_detail("2", now_us() + 1)));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(router_->describe()["firing"].size(), 2u);

  send(event("left", EventKind::approval_decided, "failed", FailureKind::none, "timed out",
             {{"id", "1"}, {"decision", "denied"}, {"by", "timeout"}}));
  ASSERT_EQ(hook_->deliveries.size(), 3u);
  EXPECT_EQ(hook_->body(2)["labels"]["component"], "left");
  EXPECT_EQ(hook_->body(2)["status"], "resolved");

  // An approval alert is not a root alert: everything running again does not resolve it.
  all_ready();
  EXPECT_EQ(hook_->deliveries.size(), 3u);
  send(event("lidar", EventKind::approval_decided, "running", FailureKind::none, "withdrawn",
             {{"id", "2"}, {"decision", "withdrawn"}, {"by", "operator"}}));
  ASSERT_EQ(hook_->deliveries.size(), 4u);
  EXPECT_EQ(hook_->body(3)["labels"]["component"], "lidar");
  EXPECT_EQ(hook_->body(3)["status"], "resolved");
  EXPECT_TRUE(router_->describe()["firing"].empty());
}

TEST_F(AlertRouterTest, ApprovalRequestWithoutAnIdIsIgnored) {
  send(event("left", EventKind::approval_requested, "failed", FailureKind::none, "odd",
             {{"action", "restart"}}));
  EXPECT_TRUE(hook_->deliveries.empty());
  EXPECT_TRUE(router_->describe()["firing"].empty());
}

TEST_F(AlertRouterTest, SafeStopFiresCriticalAndResolvesWhenTheComponentIsReadyAgain) {
  all_ready();
  send(event("left", EventKind::given_up, "given_up", FailureKind::none,
             "left: safe stop after step 3/3",
             {{"step", 3}, {"of", 3}, {"why", "crashed 4 times"}, {"safe_stop", true}}));
  ASSERT_EQ(hook_->deliveries.size(), 1u);
  const auto fired = hook_->body(0);
  EXPECT_EQ(fired["alertname"], "VigilComponentSafeStopped");
  EXPECT_EQ(fired["labels"]["component"], "left");
  EXPECT_EQ(fired["labels"]["severity"], "critical");
  EXPECT_EQ(fired["annotations"]["summary"], "left: safe stop after step 3/3");
  EXPECT_EQ(fired["annotations"]["why"], "crashed 4 times");

  ready("right");  // another component
  EXPECT_EQ(hook_->deliveries.size(), 1u);
  ready("left");
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(hook_->body(1)["alertname"], "VigilComponentSafeStopped");
  EXPECT_EQ(hook_->body(1)["status"], "resolved");
}

TEST_F(AlertRouterTest, GivenUpWithoutSafeStopIsNotASafeStopAlert) {
  send(event("left", EventKind::given_up, "given_up", FailureKind::none, "gave up",
             {{"safe_stop", false}}));
  send(event("left", EventKind::given_up, "given_up"));
  EXPECT_TRUE(hook_->deliveries.empty());
}

TEST_F(AlertRouterTest, OperatorStopResolvesASafeStop) {
  send(event("left", EventKind::given_up, "given_up", FailureKind::none, "safe stop",
             {{"safe_stop", true}}));
  ASSERT_EQ(hook_->deliveries.size(), 1u);
  send(event("left", EventKind::operator_command, "", FailureKind::none, "operator: stop left"));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(hook_->body(1)["status"], "resolved");
}

TEST_F(AlertRouterTest, AnEventLogThatCannotBeWrittenFiresCriticalUntilItCanAgain) {
  send(event("", EventKind::warning, "", FailureKind::none, "a component warning",
             {{"source", "resources"}}));
  EXPECT_TRUE(hook_->deliveries.empty()) << "only the event log's warnings";
  send(event("", EventKind::warning, "", FailureKind::none,
             "event log /s/events.db not writable: database or disk is full",
             {{"source", "event_log"}, {"error", "database or disk is full"}}));
  ASSERT_EQ(hook_->deliveries.size(), 1u);
  const auto fired = hook_->body(0);
  EXPECT_EQ(fired["alertname"], "VigilEventLogNotWritable");
  EXPECT_EQ(fired["labels"]["severity"], "critical");
  EXPECT_EQ(fired["annotations"]["error"], "database or disk is full");
  send(event("", EventKind::warning_cleared, "", FailureKind::none,
             "event log writable again: 12 events held in memory written",
             {{"source", "event_log"}, {"written_late", 12}}));
  ASSERT_EQ(hook_->deliveries.size(), 2u);
  EXPECT_EQ(hook_->body(1)["status"], "resolved");
}

TEST_F(AlertRouterTest, StopStopsEveryTarget) {
  router_->stop(0ms);
  EXPECT_TRUE(am_->stopped);
  EXPECT_TRUE(hook_->stopped);
}

TEST(AlertFormat, Rfc3339IsUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(1'714'564'800'123'456), "2024-05-01T12:00:00.123Z");
}

TEST(AlertRouterTargets, ChangedAlertsSectionOnReloadRebuildsTheTargetsAndTellsTheNewOnes) {
  testing::ManualScheduler sched;
  std::vector<std::pair<std::string, std::string>> hooks;  // (argv[0], VIGIL_ALERT_STATUS)
  Environment env{sched, [](std::function<void()> fn) { fn(); },
                  [&](const std::vector<std::string>& argv, std::vector<std::string> environment,
                      ExecDone done) {
                    for (const auto& kv : environment) {
                      if (kv.rfind("VIGIL_ALERT_STATUS=", 0) == 0) {
                        hooks.emplace_back(argv.front(), kv.substr(19));
                      }
                    }
                    sched.post([done] { done(true, "exited with code 0"); });
                  },
                  "robot-7"};
  auto spec = robot();
  spec.alerts.alertmanager_url.clear();
  spec.alerts.exec = {"/opt/hooks/old"};
  AlertRouter router(std::move(env), spec);

  Event crash;
  crash.id = 1;
  crash.component = "lidar";
  crash.kind = EventKind::exited;
  crash.state = "backoff";
  crash.failure = FailureKind::crash;
  crash.reason = "crashed";
  router.on_event(crash);
  sched.settle();
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0], std::make_pair(std::string("/opt/hooks/old"), std::string("firing")));

  router.reconfigure(spec);  // same alerts section: nothing is re-sent
  sched.settle();
  EXPECT_EQ(hooks.size(), 1u);

  spec.alerts.exec = {"/opt/hooks/new"};
  router.reconfigure(spec);
  sched.settle();
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[1], std::make_pair(std::string("/opt/hooks/new"), std::string("firing")));
  EXPECT_EQ(router.describe()["targets"]["exec"]["delivered"], 1);
}

}  // namespace
}  // namespace vigil::alerts
