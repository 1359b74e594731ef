// watchdog.bond: Nav2's bond messages as a component's heartbeat. What it defaults to, and one
// precise FILE:LINE:COL error for each way to get it wrong.
#include <gtest/gtest.h>

#include "config/bad_config_case.hpp"
#include "config/loader.hpp"

namespace vigil::config {
namespace {

LoadResult load(const std::string& yaml) {
  return load_config_text(yaml, "robot.yaml");
}

const ComponentSpec& first_component(const SystemSpec& spec) {
  return std::get<ComponentSpec>(spec.root.children.at(0).node);
}

// One component named controller_server with the given watchdog; `dds` selects the section.
std::string with_watchdog(const std::string& watchdog, bool dds = true) {
  return std::string(dds ? "dds: {domain: 3}\n" : "") +
         "root:\n"
         "  children:\n"
         "    - name: controller_server\n"
         "      command: [/bin/true]\n"
         "      watchdog: " +
         watchdog + "\n";
}

TEST(BondConfig, TrueTakesEveryDefault) {
  auto r = load(with_watchdog("{bond: true}"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& w = first_component(*r.spec).watchdog;
  ASSERT_TRUE(w.bond);
  EXPECT_EQ(w.bond->topic, "/bond");
  EXPECT_EQ(w.bond->id, "controller_server");  // Nav2's bond id is the node's name
  ASSERT_TRUE(w.timeout);
  EXPECT_EQ(*w.timeout, std::chrono::seconds(4));  // Nav2's bond timeout
  EXPECT_TRUE(w.enabled());
}

TEST(BondConfig, TopicIdAndTimeoutAsGiven) {
  auto r = load(with_watchdog("{timeout: 2s, bond: {topic: /robot1/bond, id: ctrl}}"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& w = first_component(*r.spec).watchdog;
  ASSERT_TRUE(w.bond);
  EXPECT_EQ(w.bond->topic, "/robot1/bond");
  EXPECT_EQ(w.bond->id, "ctrl");
  EXPECT_EQ(*w.timeout, std::chrono::seconds(2));
}

TEST(BondConfig, MappingWithoutKeysDefaultsLikeTrue) {
  auto r = load(with_watchdog("{bond: {}}"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& w = first_component(*r.spec).watchdog;
  ASSERT_TRUE(w.bond);
  EXPECT_EQ(w.bond->id, "controller_server");
  EXPECT_EQ(w.bond->topic, "/bond");
}

TEST(BondConfig, FalseIsNoBond) {
  auto r = load(with_watchdog("{bond: false}", /*dds=*/false));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  const auto& w = first_component(*r.spec).watchdog;
  EXPECT_FALSE(w.bond);
  EXPECT_FALSE(w.timeout);
  EXPECT_FALSE(w.enabled());
}

TEST(BondConfig, WarnAfterWorksWithTheDefaultTimeout) {
  auto r = load(with_watchdog("{bond: true, warn_after: 2s}"));
  ASSERT_TRUE(r.ok()) << r.format_errors();
  EXPECT_EQ(*first_component(*r.spec).watchdog.warn_after, std::chrono::seconds(2));
}

TEST(BondConfig, BondIsPartOfTheComponentsBehaviourForReload) {
  auto a = load(with_watchdog("{bond: true}"));
  auto b = load(with_watchdog("{bond: {id: other}}"));
  auto c = load(with_watchdog("{bond: {id: controller_server, topic: /bond}}"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_FALSE(first_component(*a.spec).watchdog == first_component(*b.spec).watchdog);
  EXPECT_TRUE(first_component(*a.spec).watchdog == first_component(*c.spec).watchdog);
  EXPECT_FALSE(first_component(*a.spec).same_behaviour(first_component(*b.spec)));
}

class BadBonds : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadBonds, ReportExactLocationAndMessage) {
  expect_first_error(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    BondConfig, BadBonds,
    ::testing::Values(
        BadConfigCase{
            "bond without dds", with_watchdog("{bond: true}", /*dds=*/false),
            "robot.yaml:5:24: error: watchdog.bond reads ROS 2 bond messages over DDS: add a "
            "'dds' section to the config (e.g. dds: {domain: 0})"},
        BadConfigCase{"unknown key in bond", with_watchdog("{bond: {topc: /bond}}"),
                      "robot.yaml:6:25: error: unknown key 'topc' in watchdog.bond (did you mean "
                      "'topic'?)"},
        BadConfigCase{
            "bond as a list", with_watchdog("{bond: [a]}"),
            "robot.yaml:6:24: error: watchdog.bond must be true or a mapping {topic, id}, not "
            "a list"},
        BadConfigCase{"bond not a boolean", with_watchdog("{bond: maybe}"),
                      "robot.yaml:6:24: error: watchdog.bond must be true or false, not 'maybe'"},
        BadConfigCase{
            "relative topic", with_watchdog("{bond: {topic: bond}}"),
            "robot.yaml:6:32: error: watchdog.bond.topic 'bond' must be an absolute ROS 2 "
            "topic name (e.g. /bond): '/' then letters, digits, '_' and '/'"},
        BadConfigCase{
            "topic with a trailing slash", with_watchdog("{bond: {topic: /bond/}}"),
            "robot.yaml:6:32: error: watchdog.bond.topic '/bond/' must be an absolute ROS 2 "
            "topic name (e.g. /bond): '/' then letters, digits, '_' and '/'"},
        BadConfigCase{"empty id", with_watchdog("{bond: {id: ''}}"),
                      "robot.yaml:6:29: error: watchdog.bond.id must not be empty"},
        BadConfigCase{
            "unknown watchdog key near bond", with_watchdog("{bnd: true}"),
            "robot.yaml:6:18: error: unknown key 'bnd' in watchdog (did you mean 'bond'?)"},
        BadConfigCase{
            "two components on one bond",
            "dds: {domain: 3}\n"
            "root:\n"
            "  children:\n"
            "    - {name: a, command: [/bin/true], watchdog: {bond: {id: x}}}\n"
            "    - {name: b, command: [/bin/true], watchdog: {bond: {id: x}}}\n",
            "robot.yaml:5:7: error: component 'b': bond 'x' on /bond is already the watchdog "
            "of component 'a'; give each its own watchdog.bond.id"}),
    bad_config_case_name);

}  // namespace
}  // namespace vigil::config
