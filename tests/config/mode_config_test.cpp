// modes: what a mode defaults to, and one precise FILE:LINE:COL error for each way to get it
// wrong, including errors inside a rule, which point at the offending word.
#include <gtest/gtest.h>

#include "config/bad_config_case.hpp"
#include "config/loader.hpp"

namespace vigil::config {
namespace {

using namespace std::chrono_literals;

// Two sensors and a planner; `modes` is the modes section from line 1.
std::string with_modes(const std::string& modes) {
  return modes +
         "\nroot:\n"
         "  children:\n"
         "    - name: sensors\n"
         "      children:\n"
         "        - {name: lidar, command: [/bin/true]}\n"
         "        - {name: camera, command: [/bin/true]}\n"
         "    - {name: planner, command: [/bin/true]}\n";
}

TEST(ModeConfig, ModesInOrderWithTheirDefaults) {
  auto r =
      load_config_text(with_modes("modes:\n"
                                  "  nominal: {}\n"
                                  "  degraded: {when: \"lidar != ok\", publish: {max_speed: 0.3}}\n"
                                  "  safe_stop: {when: \"sensors == failed\", stop: [planner], "
                                  "dwell: 5s, exit_after: 2s, enter_after: 100ms}"),
                       "robot.yaml");
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& m = r.spec->modes;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].name, "nominal");
  EXPECT_TRUE(m[0].when.empty());
  EXPECT_EQ(m[1].name, "degraded");
  EXPECT_EQ(m[1].publish.at("max_speed"), "0.3");
  EXPECT_EQ(m[1].dwell, Duration(2s));
  EXPECT_EQ(m[1].exit_after, Duration(1s));
  EXPECT_EQ(m[2].stop, std::vector<std::string>{"planner"});
  EXPECT_EQ(m[2].dwell, Duration(5s));
  EXPECT_EQ(m[2].exit_after, Duration(2s));
  EXPECT_EQ(m[2].enter_after, Duration(100ms));
}

class BadModes : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadModes, ReportExactLocationAndMessage) {
  expect_first_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    ModeConfig, BadModes,
    ::testing::Values(
        BadConfigCase{"unknown name in a rule",
                      with_modes("modes:\n  nominal: {}\n  degraded: {when: \"lidr != ok\"}"),
                      "robot.yaml:3:21: error: modes.degraded.when: unknown component or group "
                      "'lidr' (did you mean 'lidar'?)"},
        BadConfigCase{"a bad value in a rule, further along",
                      with_modes("modes:\n  nominal: {}\n  degraded: {when: \"lidar != fine\"}"),
                      "robot.yaml:3:30: error: modes.degraded.when: 'lidar' is compared with "
                      "'fine', which is neither a state (stopped, starting, running, stopping, "
                      "backoff, failed, given_up) nor a level (ok, warn, error, stale)"},
        BadConfigCase{"the default mode with a rule",
                      with_modes("modes:\n  nominal: {when: \"lidar == ok\"}"),
                      "robot.yaml:2:19: error: modes.nominal is the default mode (the first one): "
                      "it is active when no other rule holds and has no when:"},
        BadConfigCase{
            "a mode without a rule",
            with_modes("modes:\n  nominal: {}\n  degraded: {publish: {max_speed: 1}}"),
            "robot.yaml:3:13: error: modes.degraded needs a rule: when: \"...\" (only the "
            "first mode, the default, has none)"},
        BadConfigCase{"stopping an unknown component",
                      with_modes("modes:\n  nominal: {}\n  safe: {when: \"lidar == failed\", "
                                 "stop: [planer]}"),
                      "robot.yaml:3:41: error: modes.safe.stop: no component or group named "
                      "'planer' (did you mean 'planner'?)"},
        BadConfigCase{"unknown key", with_modes("modes:\n  nominal: {}\n  safe: {wen: \"x\"}"),
                      "robot.yaml:3:10: error: unknown key 'wen' in modes.safe (did you mean "
                      "'when'?)"}),
    bad_config_case_name);

}  // namespace
}  // namespace vigil::config
