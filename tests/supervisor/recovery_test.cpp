// Escalation ladders, standbys and approvals in simulated time: each rung, why it was
// climbed, what it did, and what an operator's answer (or silence) does. The same ladder runs
// with real processes in tests/integration/recovery_test.cpp.
#include <gtest/gtest.h>

#include "supervisor/ladder.hpp"
#include "supervisor/supervisor_fixture.hpp"

namespace vigil::testing {
namespace {

using health::EventKind;

// lidar climbs: restart x2 -> restart its group -> its cold standby -> force degraded (and
// try lidar again) -> safe stop forcing safe_stop.
const char* kLadder = R"(
modes:
  nominal: {}
  degraded: {when: "camera == failed"}
  safe_stop: {when: "camera == given_up"}
root:
  intensity: {restarts: 100, within: 1m}
  children:
    - name: sensors
      children:
        - name: lidar
          command: [/bin/lidar]
          backoff: {initial: 100ms, max: 1s, factor: 2, jitter: 0, reset_after: 10s}
          recovery:
            - restart: 2
            - restart_group: sensors
            - standby: lidar_backup
            - mode: degraded
            - safe_stop: {mode: safe_stop}
        - name: camera
          command: [/bin/camera]
    - name: lidar_backup
      command: [/bin/lidar, --backup]
      standby_for: lidar
)";

class RecoveryTest : public SupervisorTest {
 protected:
  std::vector<Event> steps(const std::string& c) const { return of(c, EventKind::recovery_step); }
};

TEST_F(RecoveryTest, ALadderClimbsEachStepAndSaysWhy) {
  start(kLadder);
  EXPECT_EQ(state("lidar"), "running");
  EXPECT_EQ(state("lidar_backup"), "stopped") << "a cold standby waits";
  EXPECT_EQ(runner_.launches_of("lidar_backup"), 0);

  // Step 1, restart x2: two restarts of lidar alone, with its backoff.
  crash("lidar");
  ASSERT_EQ(steps("lidar").size(), 1u);
  EXPECT_EQ(steps("lidar")[0].detail["action"], "restart");
  EXPECT_EQ(steps("lidar")[0].detail["step"], 1);
  EXPECT_EQ(steps("lidar")[0].detail["of"], 5);
  EXPECT_EQ(of("lidar", EventKind::restart_scheduled).back().detail["delay_ms"], 100);
  sched_.advance(100ms);
  EXPECT_EQ(state("lidar"), "running");
  crash("lidar");
  EXPECT_EQ(steps("lidar").size(), 1u) << "the second restart is the same step";
  EXPECT_EQ(of("lidar", EventKind::restart_scheduled).back().detail["delay_ms"], 200);
  sched_.advance(200ms);
  EXPECT_EQ(runner_.launches_of("camera"), 1) << "restarts of lidar leave camera alone";

  // Step 2: the whole sensors group restarts.
  crash("lidar");
  ASSERT_EQ(steps("lidar").size(), 2u);
  EXPECT_EQ(steps("lidar")[1].detail["action"], "restart_group");
  EXPECT_EQ(steps("lidar")[1].detail["target"], "sensors");
  EXPECT_NE(steps("lidar")[1].detail["why"].get<std::string>().find(
                "step 1 (restart x2) did not keep it up: pid"),
            std::string::npos)
      << steps("lidar")[1].detail["why"];
  sched_.advance(1s);
  EXPECT_EQ(runner_.launches_of("camera"), 2) << "camera restarted with its group";
  EXPECT_EQ(state("lidar"), "running");

  // Step 3: lidar is held down, its cold standby starts.
  crash("lidar");
  ASSERT_EQ(steps("lidar").size(), 3u);
  EXPECT_EQ(steps("lidar")[2].detail["action"], "standby");
  EXPECT_EQ(state("lidar"), "failed");
  EXPECT_EQ(state("lidar_backup"), "running");
  ASSERT_EQ(of("lidar_backup", EventKind::standby_activated).size(), 1u);
  EXPECT_EQ(component("lidar")["replaced_by"], "lidar_backup");
  EXPECT_EQ(component("lidar_backup")["serving_for"], "lidar");
  sched_.advance(5s);
  EXPECT_EQ(state("lidar"), "failed") << "held down while its standby serves";

  // Step 4: the standby fails too: degraded is forced and lidar is tried once more.
  crash("lidar_backup");
  ASSERT_EQ(steps("lidar").size(), 4u);
  EXPECT_EQ(steps("lidar")[3].detail["action"], "mode");
  EXPECT_NE(steps("lidar")[3].detail["why"].get<std::string>().find("standby lidar_backup failed"),
            std::string::npos);
  ASSERT_EQ(forced_.size(), 1u);
  EXPECT_EQ(forced_[0], (std::array<std::string, 3>{"degraded", "lidar", "on"}));
  sched_.advance(1s);
  EXPECT_EQ(state("lidar"), "running");
  EXPECT_EQ(state("lidar_backup"), "failed") << "the ladder moved past the cold standby";
  EXPECT_EQ(runner_.launches_of("lidar_backup"), 1);

  // Step 5: safe stop: lidar given up, safe_stop forced, nothing restarts it.
  crash("lidar");
  ASSERT_EQ(steps("lidar").size(), 5u);
  EXPECT_EQ(steps("lidar")[4].detail["action"], "safe_stop");
  EXPECT_EQ(state("lidar"), "given_up");
  const auto given_up = of("lidar", EventKind::given_up);
  ASSERT_EQ(given_up.size(), 1u);
  EXPECT_TRUE(given_up[0].detail.value("safe_stop", false));
  EXPECT_EQ(forced_.back(), (std::array<std::string, 3>{"safe_stop", "lidar", "on"}));
  const int launches = runner_.launches_of("lidar");
  sched_.advance(1min);
  EXPECT_EQ(runner_.launches_of("lidar"), launches);

  // An operator starts it: the ladder is back at the bottom and its modes are let go.
  ASSERT_TRUE(sup_->start_node("lidar").ok());
  sched_.settle();
  EXPECT_EQ(state("lidar"), "running");
  EXPECT_FALSE(component("lidar").contains("recovery"));
  EXPECT_EQ(
      std::count_if(forced_.begin(), forced_.end(), [](const auto& f) { return f[2] == "off"; }),
      2);
}

TEST_F(RecoveryTest, TheLadderStartsAgainAfterStableRunning) {
  start(R"(
root:
  children:
    - name: arm
      command: [/bin/arm]
      backoff: {initial: 100ms, jitter: 0, reset_after: 5s}
      recovery: [{restart: 1}]
)");
  crash("arm");
  sched_.advance(100ms);
  sched_.advance(5s);  // stable: back to the bottom
  crash("arm");
  ASSERT_EQ(steps("arm").size(), 2u);
  EXPECT_EQ(steps("arm")[1].detail["step"], 1);
  EXPECT_EQ(state("arm"), "backoff");
  sched_.advance(100ms);
  // Without the reset, this failure would be the implicit final safe stop.
  crash("arm");
  ASSERT_EQ(steps("arm").size(), 3u);
  EXPECT_EQ(steps("arm")[2].detail["action"], "safe_stop");
  EXPECT_TRUE(steps("arm")[2].detail["implicit"].get<bool>());
  EXPECT_EQ(state("arm"), "given_up");
}

const char* kApproval = R"(
root:
  children:
    - name: drive
      children:
        - name: motor
          command: [/bin/motor]
          backoff: {initial: 100ms, jitter: 0}
          recovery:
            - restart_group: drive
              approval: {timeout: 30s, default: deny}
        - name: brake
          command: [/bin/brake]
)";

TEST_F(RecoveryTest, AnApprovedStepIsTaken) {
  start(kApproval);
  crash("motor");
  ASSERT_EQ(of("motor", EventKind::approval_requested).size(), 1u);
  EXPECT_EQ(state("motor"), "failed");
  auto pending = sup_->approvals();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["id"], "1");
  EXPECT_EQ(pending[0]["action"], "restart_group drive");
  EXPECT_EQ(pending[0]["default"], "deny");
  sched_.advance(10s);
  EXPECT_EQ(state("motor"), "failed") << "nothing happens behind the operator's back";
  EXPECT_EQ(runner_.launches_of("brake"), 1);

  auto unknown = sup_->decide("7", true);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), "no approval '7' is pending (pending: 1 (motor))");
  auto result = sup_->decide("1", true, {{"via", "cli"}});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(*result, "approved restart_group drive for motor");
  sched_.advance(1s);
  EXPECT_EQ(state("motor"), "running");
  EXPECT_EQ(runner_.launches_of("brake"), 2) << "the approved group restart happened";
  ASSERT_EQ(of("motor", EventKind::approval_decided).size(), 1u);
  EXPECT_EQ(of("motor", EventKind::approval_decided)[0].detail["by"], "operator");
  EXPECT_TRUE(sup_->approvals().empty());
}

TEST_F(RecoveryTest, AnApprovalThatTimesOutTakesTheSafeDefault) {
  start(kApproval);
  crash("motor");
  ASSERT_EQ(sup_->approvals().size(), 1u);
  sched_.advance(30s - 1ms);
  EXPECT_EQ(sup_->approvals().size(), 1u);
  sched_.advance(1ms);
  const auto decided = of("motor", EventKind::approval_decided);
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].detail["by"], "timeout");
  EXPECT_EQ(decided[0].detail["decision"], "denied");
  // Denied: the group is not restarted; the ladder's end, a safe stop, follows.
  EXPECT_EQ(runner_.launches_of("brake"), 1);
  EXPECT_EQ(state("motor"), "given_up");
  EXPECT_EQ(state("brake"), "running");
  EXPECT_TRUE(sup_->approvals().empty());
  EXPECT_FALSE(sup_->decide("1", true).ok()) << "a settled approval cannot be answered again";
}

TEST_F(RecoveryTest, ADeniedStepIsSkipped) {
  start(kApproval);
  crash("motor");
  auto result = sup_->decide("1", false);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "denied restart_group drive for motor");
  sched_.settle();
  EXPECT_EQ(state("motor"), "given_up");
  EXPECT_EQ(runner_.launches_of("brake"), 1);
  const auto last = steps("motor").back();
  EXPECT_NE(last.reason.find("denied by operator"), std::string::npos) << last.reason;
}

TEST_F(RecoveryTest, AnOperatorStartWithdrawsAPendingApproval) {
  start(kApproval);
  crash("motor");
  ASSERT_TRUE(sup_->start_node("motor").ok());
  sched_.settle();
  EXPECT_TRUE(sup_->approvals().empty());
  EXPECT_EQ(of("motor", EventKind::approval_decided).back().detail["decision"], "withdrawn");
  EXPECT_EQ(state("motor"), "running");
  sched_.advance(31s);
  EXPECT_EQ(state("motor"), "running") << "the withdrawn approval's timeout does nothing";
}

TEST_F(RecoveryTest, AColdStandbyServesAFailedTemporaryPrimaryAndStandsDownWhenItIsBack) {
  start(R"(
root:
  children:
    - name: gps
      command: [/bin/gps]
      restart: temporary
    - name: gps_backup
      command: [/bin/gps, --backup]
      standby_for: gps
)");
  EXPECT_EQ(runner_.launches_of("gps_backup"), 0);
  runner_.exit(runner_.pid_of("gps"), process::ExitStatus::exited_with(3));
  sched_.settle();
  EXPECT_EQ(state("gps"), "failed");
  EXPECT_EQ(state("gps_backup"), "running");
  ASSERT_EQ(of("gps_backup", EventKind::standby_activated).size(), 1u);
  ASSERT_TRUE(sup_->start_node("gps").ok());
  sched_.settle();
  EXPECT_EQ(state("gps"), "running");
  EXPECT_EQ(state("gps_backup"), "stopped") << "the cold standby stands down";
}

TEST_F(RecoveryTest, AColdStandbyFailsBackAfterTheConfiguredTime) {
  start(R"(
root:
  children:
    - name: gps
      command: [/bin/gps]
      backoff: {initial: 100ms, jitter: 0}
      recovery: [{standby: gps_backup}]
    - name: gps_backup
      command: [/bin/gps, --backup]
      standby_for: {primary: gps, failback: 20s}
)");
  crash("gps");
  EXPECT_EQ(state("gps"), "failed");
  EXPECT_EQ(state("gps_backup"), "running");
  sched_.advance(20s - 1ms);
  EXPECT_EQ(state("gps"), "failed");
  sched_.advance(1ms);
  EXPECT_EQ(state("gps"), "running") << "tried again after the failback time";
  EXPECT_EQ(state("gps_backup"), "stopped");
}

TEST_F(RecoveryTest, AFailedFailbackLeavesTheStandbyServing) {
  start(R"(
root:
  children:
    - name: gps
      command: [/bin/gps]
      ready: notify
      start_timeout: 5s
      recovery: [{standby: gps_backup}]
    - name: gps_backup
      command: [/bin/gps, --backup]
      standby_for: {primary: gps, failback: 20s}
)");
  notify("gps", "READY=1");
  crash("gps");
  sched_.advance(20s);
  EXPECT_EQ(state("gps"), "starting") << "the failback attempt";
  crash("gps");  // fails before it is ready
  EXPECT_EQ(state("gps"), "failed");
  EXPECT_EQ(state("gps_backup"), "running") << "the standby kept serving";
  const auto ladder_steps = steps("gps");
  EXPECT_EQ(std::count_if(ladder_steps.begin(), ladder_steps.end(),
                          [](const Event& e) { return e.detail.contains("step"); }),
            1)
      << "a failed failback does not climb the ladder";
  EXPECT_EQ(ladder_steps.back().detail["action"], "failback");
  sched_.advance(20s);
  EXPECT_EQ(state("gps"), "starting") << "and it is tried again";
}

TEST_F(RecoveryTest, HotStandbyPairsLearnTheirOwnershipStrength) {
  start(R"(
root:
  children:
    - name: lidar
      command: [/bin/lidar]
      backoff: {initial: 100ms, jitter: 0}
    - name: lidar_backup
      command: [/bin/lidar]
      standby_for: {primary: lidar, hot: true}
)");
  auto env_of = [&](const std::string& c) { return runner_.processes.at(runner_.pid_of(c)).env; };
  EXPECT_EQ(state("lidar_backup"), "running") << "a hot standby runs from the start";
  EXPECT_EQ(env_of("lidar").at("VIGIL_STANDBY_ROLE"), "primary");
  EXPECT_EQ(env_of("lidar_backup").at("VIGIL_STANDBY_ROLE"), "standby");
  const int primary = std::stoi(env_of("lidar").at("VIGIL_OWNERSHIP_STRENGTH"));
  const int standby = std::stoi(env_of("lidar_backup").at("VIGIL_OWNERSHIP_STRENGTH"));
  EXPECT_GT(primary, standby);
  crash("lidar");
  ASSERT_EQ(of("lidar_backup", EventKind::standby_activated).size(), 1u);
  sched_.advance(100ms);
  EXPECT_GT(std::stoi(env_of("lidar").at("VIGIL_OWNERSHIP_STRENGTH")), standby)
      << "failback immediate: the restarted primary outranks its standby";
}

TEST_F(RecoveryTest, HotStandbyWithFailbackStayKeepsServing) {
  start(R"(
root:
  children:
    - name: lidar
      command: [/bin/lidar]
      backoff: {initial: 100ms, jitter: 0}
    - name: lidar_backup
      command: [/bin/lidar]
      standby_for: {primary: lidar, hot: true, failback: stay}
)");
  auto strength = [&](const std::string& c) {
    return std::stoi(runner_.processes.at(runner_.pid_of(c)).env.at("VIGIL_OWNERSHIP_STRENGTH"));
  };
  crash("lidar");
  sched_.advance(100ms);
  EXPECT_LT(strength("lidar"), strength("lidar_backup"))
      << "the restarted primary comes back below its serving standby";
  crash("lidar_backup");
  sched_.advance(1s);
  EXPECT_LT(strength("lidar_backup"), strength("lidar")) << "and the roles swap the other way";
}

TEST(Ladder, ClimbsUsesAndEndsInASafeStop) {
  std::vector<config::RecoveryStep> steps(2);
  steps[0].action = config::RecoveryStep::Action::restart;
  steps[0].times = 2;
  steps[1].action = config::RecoveryStep::Action::mode;
  steps[1].target = "degraded";
  supervisor::Ladder ladder(&steps);
  auto r = ladder.climb("crash 1");
  EXPECT_TRUE(r.entered);
  EXPECT_EQ(r.index, 0);
  EXPECT_EQ(r.why, "crash 1");
  r = ladder.climb("crash 2");
  EXPECT_FALSE(r.entered);
  EXPECT_EQ(r.use, 2);
  r = ladder.climb("crash 3");
  EXPECT_TRUE(r.entered);
  EXPECT_EQ(r.index, 1);
  EXPECT_EQ(r.why, "step 1 (restart x2) did not keep it up: crash 3");
  r = ladder.climb("crash 4");
  EXPECT_EQ(r.index, 2);
  EXPECT_EQ(r.step->action, config::RecoveryStep::Action::safe_stop);
  EXPECT_EQ(r.why, "step 2 (mode degraded) did not keep it up: crash 4");
  r = ladder.climb("crash 5");
  EXPECT_FALSE(r.entered) << "the end of the ladder stays the end";
  EXPECT_EQ(r.step->action, config::RecoveryStep::Action::safe_stop);
  ladder.reset();
  EXPECT_EQ(ladder.index(), -1);
  EXPECT_EQ(ladder.current(), nullptr);
}

}  // namespace
}  // namespace vigil::testing
