// Recovery ladders against a real vigild and real processes: an approval nobody answers takes
// its safe default at the deadline, and one whose default is approve takes the step. (The
// ladder climbing every step runs on the warehouse robot: tests/warehouse; each rung's logic in
// simulated time: tests/supervisor/recovery_test.cpp.)
#include <gtest/gtest.h>

#include <cstdio>

#include "integration/harness.hpp"

namespace vigil::testing {
namespace {

// `motor` fails at once and for good; its second rung restarts the drive group (motor and
// brake) only with an operator's approval, waiting 1 s.
std::string drive(const std::string& fallback) {
  return R"(
root:
  children:
    - name: drive
      children:
        - name: motor
          command: [sh, -c, "sleep 0.2; exit 3"]
          backoff: {initial: 10ms, max: 10ms}
          recovery:
            - restart: 1
            - restart_group: drive
              approval: {timeout: 1s, default: )" +
         fallback + R"(}
        - name: brake
          command: [/bin/sleep, "3600"]
)";
}

std::int64_t mono(const json& e) {
  return e.value("mono_us", std::int64_t{0});
}

TEST(RecoveryLadder, AnApprovalThatTimesOutTakesTheSafeDefault) {
  Vigild v(drive("deny"));
  v.start();
  const json requested = v.wait_for("motor", "approval_requested", 20s);
  EXPECT_EQ(requested["detail"].value("default", ""), "deny");
  EXPECT_EQ(requested.value("state", ""), "failed");
  ASSERT_EQ(v.status()["approvals"].size(), 1u) << v.status()["approvals"].dump();
  const pid_t brake = v.component("brake").value("pid", 0);

  const json decided = v.wait_for("motor", "approval_decided", 10s, requested["id"]);
  EXPECT_EQ(decided["detail"].value("by", ""), "timeout");
  EXPECT_EQ(decided["detail"].value("decision", ""), "denied");
  const double waited_ms = static_cast<double>(mono(decided) - mono(requested)) / 1000.0;
  std::printf("approval requested -> timed out: %.1f ms (timeout 1 s)\n", waited_ms);
  EXPECT_GE(waited_ms, 1000.0);
  EXPECT_LT(waited_ms, 3000.0);
  // Denied: the group is left alone and the ladder ends in its safe stop.
  const json stopped = v.wait_for("motor", "given_up", 10s, decided["id"]);
  EXPECT_TRUE(stopped["detail"].value("safe_stop", false)) << stopped.dump();
  EXPECT_EQ(v.component("brake").value("pid", 0), brake) << "brake was not restarted";
  EXPECT_TRUE(v.events_of("brake", "spawned").size() == 1u);
  EXPECT_TRUE(v.status()["approvals"].empty());
  EXPECT_EQ(v.component("motor").value("state", ""), "given_up");
}

TEST(RecoveryLadder, AnApprovalWhoseDefaultIsApproveTakesTheStep) {
  Vigild v(drive("approve"));
  v.start();
  const json requested = v.wait_for("motor", "approval_requested", 20s);
  const pid_t brake = v.component("brake").value("pid", 0);
  const json decided = v.wait_for("motor", "approval_decided", 10s, requested["id"]);
  EXPECT_EQ(decided["detail"].value("decision", ""), "approved");
  // The drive group restarts: brake too.
  const json respawned = v.wait_for("brake", "spawned", 10s, decided["id"]);
  EXPECT_NE(respawned["detail"].value("pid", 0), brake);
}

}  // namespace
}  // namespace vigil::testing
