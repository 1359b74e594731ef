// monitors: [{topic: ...}]: what a topic monitor defaults to, and one precise FILE:LINE:COL
// error for each way to get it wrong.
#include <gtest/gtest.h>

#include "config/bad_config_case.hpp"
#include "config/loader.hpp"

namespace vigil::config {
namespace {

using namespace std::chrono_literals;

LoadResult load(const std::string& yaml) {
  return load_config_text(yaml, "robot.yaml");
}

// One component `lidar` with the given monitors (line 5 of the file); `dds` adds the section.
std::string with_monitors(const std::string& monitors, bool dds = true) {
  return std::string(dds ? "dds: {domain: 3}\n" : "\n") +
         "root:\n"
         "  children:\n"
         "    - name: lidar\n"
         "      command: [/bin/true]\n"
         "      monitors: " +
         monitors + "\n";
}

TEST(TopicMonitorConfig, RosTopicWithRatesAndDefaults) {
  auto r = load(with_monitors("[{topic: /scan, min_rate: 8Hz, stale_after: 500ms}]"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& c = std::get<ComponentSpec>(r.spec->root.children.at(0).node);
  ASSERT_EQ(c.topics.size(), 1u);
  const auto& t = c.topics[0];
  EXPECT_EQ(t.topic, "/scan");
  EXPECT_EQ(t.dds_topic, "rt/scan");
  EXPECT_EQ(t.min_rate, 8.0);
  EXPECT_FALSE(t.max_rate);
  EXPECT_EQ(t.stale_after, Duration(500ms));
  EXPECT_EQ(t.window, Duration(1s));
  EXPECT_EQ(t.hold, Duration(0s));
  EXPECT_EQ(t.action, MonitorAction::restart);
}

TEST(TopicMonitorConfig, RawDdsTopicAndEveryOption) {
  auto r = load(with_monitors(
      "[{dds_topic: DDSPerfRDataOU, min_rate: 0.5 kHz, max_rate: 2kHz, window: 2s, for: 3s, "
      "stale_after: 1s, action: warn}]"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& t = std::get<ComponentSpec>(r.spec->root.children.at(0).node).topics.at(0);
  EXPECT_EQ(t.topic, "DDSPerfRDataOU");
  EXPECT_EQ(t.dds_topic, "DDSPerfRDataOU");
  EXPECT_EQ(t.min_rate, 500.0);
  EXPECT_EQ(t.max_rate, 2000.0);
  EXPECT_EQ(t.window, Duration(2s));
  EXPECT_EQ(t.hold, Duration(3s));
  EXPECT_EQ(t.action, MonitorAction::warn);
}

class BadMonitors : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadMonitors, ReportExactLocationAndMessage) {
  expect_first_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    TopicMonitorConfig, BadMonitors,
    ::testing::Values(
        BadConfigCase{"without dds", with_monitors("[{topic: /scan, stale_after: 1s}]", false),
                      "robot.yaml:6:18: error: monitors[0] watches a DDS topic: enable DDS with a "
                      "top-level dds: {domain: N} section"},
        BadConfigCase{
            "not a list", with_monitors("{topic: /scan}"),
            "robot.yaml:6:17: error: monitors must be a list of {topic: ...} entries, not "
            "a mapping"},
        BadConfigCase{"relative topic", with_monitors("[{topic: scan, stale_after: 1s}]"),
                      "robot.yaml:6:26: error: monitors[0].topic must be an absolute ROS 2 topic "
                      "name such as /scan (letters, digits, _ and /), not 'scan'"},
        BadConfigCase{
            "no topic", with_monitors("[{min_rate: 8Hz}]"),
            "robot.yaml:6:18: error: monitors[0] needs topic: /name (or dds_topic: NAME)"},
        BadConfigCase{
            "both names", with_monitors("[{topic: /a, dds_topic: b, stale_after: 1s}]"),
            "robot.yaml:6:18: error: monitors[0]: give topic (a ROS 2 name) or dds_topic, "
            "not both"},
        BadConfigCase{"nothing to judge", with_monitors("[{topic: /scan}]"),
                      "robot.yaml:6:18: error: monitors[0] (/scan) needs min_rate, max_rate, "
                      "stale_after or several"},
        BadConfigCase{"rate without unit", with_monitors("[{topic: /scan, min_rate: 8}]"),
                      "robot.yaml:6:43: error: monitors[0].min_rate must be a rate such as 10Hz "
                      "(above 0, at most 1MHz), not '8'"},
        BadConfigCase{"zero rate", with_monitors("[{topic: /scan, min_rate: 0Hz}]"),
                      "robot.yaml:6:43: error: monitors[0].min_rate must be a rate such as 10Hz "
                      "(above 0, at most 1MHz), not '0Hz'"},
        BadConfigCase{"min above max",
                      with_monitors("[{topic: /scan, min_rate: 20Hz, max_rate: 10Hz}]"),
                      "robot.yaml:6:59: error: monitors[0].max_rate must be above min_rate"},
        BadConfigCase{
            "window too short for the rate",
            with_monitors("[{topic: /scan, min_rate: 1Hz, window: 1s}]"),
            "robot.yaml:6:43: error: monitors[0]: at 1Hz a window of 1.0s holds fewer than "
            "2 messages; raise window"},
        BadConfigCase{"unknown key", with_monitors("[{topic: /scan, stale_aftr: 1s}]"),
                      "robot.yaml:6:33: error: unknown key 'stale_aftr' in monitors[0] (did you "
                      "mean 'stale_after'?)"},
        BadConfigCase{"resource figure under monitors", with_monitors("[{rss: {warn: 1GiB}}]"),
                      "robot.yaml:6:18: error: monitors[0]: resource monitors go under resources: "
                      "(resources.rss), not monitors:"},
        BadConfigCase{"twice",
                      with_monitors("[{topic: /a, stale_after: 1s}, {topic: /a, "
                                    "stale_after: 2s}]"),
                      "robot.yaml:6:48: error: monitors[1]: /a is monitored twice in this "
                      "component"},
        BadConfigCase{"hook without action hook",
                      with_monitors("[{topic: /a, stale_after: 1s, hook: [/bin/true]}]"),
                      "robot.yaml:6:53: error: monitors[0].hook is only run with action: hook"}),
    bad_config_case_name);

}  // namespace
}  // namespace vigil::config
