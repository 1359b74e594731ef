// recovery: ladders and standby_for: what they parse to, and one precise FILE:LINE:COL error
// for each way to get them wrong.
#include <gtest/gtest.h>

#include "config/bad_config_case.hpp"
#include "config/loader.hpp"

namespace vigil::config {
namespace {

using namespace std::chrono_literals;
using Action = RecoveryStep::Action;

// Line 1 onwards: `lidar_extra` is lidar's last lines (indented 10), `backup_extra` the
// standby's; modes come first.
std::string robot(const std::string& lidar_extra, const std::string& backup_extra = "",
                  const std::string& modes =
                      "modes:\n  nominal: {}\n  degraded: {when: \"camera "
                      "!= ok\"}\n  safe_stop: {when: \"camera == failed\"}\n") {
  return modes +
         "root:\n"
         "  children:\n"
         "    - name: sensors\n"
         "      children:\n"
         "        - name: lidar\n"
         "          command: [/bin/true]\n" +
         lidar_extra +
         "        - {name: camera, command: [/bin/true]}\n"
         "    - name: lidar_backup\n"
         "      command: [/bin/true]\n" +
         (backup_extra.empty() ? "      standby_for: lidar\n" : backup_extra);
}

TEST(RecoveryConfig, ALadderAndItsStandby) {
  auto r = load_config_text(robot("          recovery:\n"
                                  "            - restart: 3\n"
                                  "            - restart_group: sensors\n"
                                  "            - standby: lidar_backup\n"
                                  "              approval: {timeout: 20s, default: approve}\n"
                                  "            - mode: degraded\n"
                                  "            - safe_stop: {mode: safe_stop}\n"),
                            "robot.yaml");
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& sensors = std::get<GroupSpec>(r.spec->root.children[0].node);
  const auto& lidar = std::get<ComponentSpec>(sensors.children[0].node);
  ASSERT_EQ(lidar.recovery.size(), 5u);
  EXPECT_EQ(lidar.recovery[0].action, Action::restart);
  EXPECT_EQ(lidar.recovery[0].times, 3);
  EXPECT_EQ(lidar.recovery[1].action, Action::restart_group);
  EXPECT_EQ(lidar.recovery[1].target, "sensors");
  EXPECT_EQ(lidar.recovery[2].action, Action::standby);
  EXPECT_TRUE(lidar.recovery[2].approval);
  EXPECT_EQ(lidar.recovery[2].approval_timeout, Duration(20s));
  EXPECT_TRUE(lidar.recovery[2].approve_on_timeout);
  EXPECT_FALSE(lidar.recovery[1].approval);
  EXPECT_EQ(lidar.recovery[3].target, "degraded");
  EXPECT_EQ(lidar.recovery[4].action, Action::safe_stop);
  EXPECT_EQ(lidar.recovery[4].target, "safe_stop");
  const auto& backup = std::get<ComponentSpec>(r.spec->root.children[1].node);
  ASSERT_TRUE(backup.standby.has_value());
  EXPECT_EQ(backup.standby->primary, "lidar");
  EXPECT_FALSE(backup.standby->hot);
  EXPECT_EQ(backup.standby->failback, StandbySpec::Failback::stay);
}

TEST(RecoveryConfig, HotStandbyDefaultsToImmediateFailback) {
  auto r =
      load_config_text(robot("", "      standby_for: {primary: lidar, hot: true}\n"), "robot.yaml");
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& backup = std::get<ComponentSpec>(r.spec->root.children[1].node);
  EXPECT_TRUE(backup.standby->hot);
  EXPECT_EQ(backup.standby->failback, StandbySpec::Failback::immediate);
  r = load_config_text(robot("", "      standby_for: {primary: lidar, failback: 45s}\n"),
                       "robot.yaml");
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& cold = std::get<ComponentSpec>(r.spec->root.children[1].node);
  EXPECT_EQ(cold.standby->failback, StandbySpec::Failback::after);
  EXPECT_EQ(cold.standby->failback_after, Duration(45s));
}

class BadRecovery : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadRecovery, ReportExactLocationAndMessage) {
  expect_first_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    RecoveryConfig, BadRecovery,
    ::testing::Values(
        BadConfigCase{"a ladder that is not a list", robot("          recovery: restart\n"),
                      "robot.yaml:11:21: error: recovery must be a list of steps, e.g. "
                      "[{restart: 3}, {safe_stop: true}], not a scalar"},
        BadConfigCase{"two actions in one step",
                      robot("          recovery:\n            - {restart: 2, mode: degraded}\n"),
                      "robot.yaml:12:28: error: a recovery step does one thing: 'mode' must be a "
                      "step of its own"},
        BadConfigCase{"an unknown action",
                      robot("          recovery:\n            - {restrat: 2}\n"),
                      "robot.yaml:12:16: error: unknown key 'restrat' in a recovery step (did "
                      "you mean 'restart'?)"},
        BadConfigCase{"restart without a count",
                      robot("          recovery:\n            - {restart: often}\n"),
                      "robot.yaml:12:25: error: recovery.restart must be a whole number, not "
                      "'often'"},
        BadConfigCase{"a group that does not hold the component",
                      robot("          recovery:\n            - {restart_group: root2}\n"),
                      "robot.yaml:12:16: error: recovery.restart_group: no group named 'root2'"},
        BadConfigCase{"a standby that is not declared",
                      robot("          recovery:\n            - {standby: camera}\n"),
                      "robot.yaml:12:16: error: recovery.standby: 'camera' is not the standby of "
                      "'lidar' ('lidar_backup' is)"},
        BadConfigCase{"an unknown mode",
                      robot("          recovery:\n            - {mode: degradd}\n"),
                      "robot.yaml:12:16: error: recovery: no mode named 'degradd' (did you mean "
                      "'degraded'?)"},
        BadConfigCase{"forcing the default mode",
                      robot("          recovery:\n            - {mode: nominal}\n"),
                      "robot.yaml:12:16: error: recovery: 'nominal' is the default mode; a "
                      "ladder can only force one of the others"},
        BadConfigCase{"steps after a safe stop",
                      robot("          recovery:\n            - {safe_stop: true}\n"
                            "            - {restart: 1}\n"),
                      "robot.yaml:13:16: error: safe_stop ends a ladder: the steps after it are "
                      "never reached"},
        BadConfigCase{"an approval on a safe stop",
                      robot("          recovery:\n            - {safe_stop: true, approval: "
                            "required}\n"),
                      "robot.yaml:12:16: error: safe_stop needs no approval: it is where every "
                      "denied or unanswered step leads"},
        BadConfigCase{"a bad approval default",
                      robot("          recovery:\n            - {restart: 1, approval: {default: "
                            "maybe}}\n"),
                      "robot.yaml:12:48: error: approval.default must be deny or approve, not "
                      "'maybe'"},
        BadConfigCase{"a ladder on a temporary component",
                      robot("          restart: temporary\n          recovery: [{restart: 1}]\n"),
                      "robot.yaml:12:23: error: component 'lidar' is temporary (never "
                      "restarted): a recovery ladder needs restart: permanent or transient"},
        BadConfigCase{"a standby for an unknown primary", robot("", "      standby_for: lidr\n"),
                      "robot.yaml:14:20: error: component 'lidar_backup' is a standby for "
                      "unknown component 'lidr' (did you mean 'lidar'?)"},
        BadConfigCase{"immediate failback of a cold standby",
                      robot("", "      standby_for: {primary: lidar, failback: immediate}\n"),
                      "robot.yaml:14:47: error: failback: immediate needs a hot standby (hot: "
                      "true); a cold standby hands back with failback: DURATION"},
        BadConfigCase{"a bad failback",
                      robot("", "      standby_for: {primary: lidar, failback: never}\n"),
                      "robot.yaml:14:47: error: standby_for.failback must be immediate, stay or "
                      "a duration (30s), not 'never'"}),
    bad_config_case_name);

}  // namespace
}  // namespace vigil::config
