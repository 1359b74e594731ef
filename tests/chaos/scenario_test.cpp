// Chaos scenarios: what a file parses to, one precise error per mistake, the control request
// per fault, and a planner that draws the same run from the same seed.
#include "chaos/scenario.hpp"

#include <gtest/gtest.h>

namespace vigil::chaos {
namespace {

using namespace std::chrono_literals;

const char* kScenario = R"(interval: 5s
jitter: 0.2
targets: [lidar, camera, planner]
settle: 30s
min_uptime: 35s
faults:
  - {fault: kill, weight: 3}
  - {fault: hang, for: 3s}
  - {fault: slow, for: 5s, duty: 0.25, period: 200ms}
  - {fault: kill, signal: SIGSEGV, targets: [battery]}
  - {fault: packet_loss, for: 10s, loss: 20%, expect: none}
  - {fault: memory_hog, for: 5s, size: 200MiB}
  - {fault: topic_dropout, for: 2s}
)";

TEST(Scenario, ParsesFaultsAndDefaults) {
  auto r = parse_scenario(kScenario, "s.yaml");
  ASSERT_TRUE(r.scenario) << (r.errors.empty() ? "" : r.errors.front());
  const auto& s = *r.scenario;
  EXPECT_EQ(s.interval, Duration(5s));
  EXPECT_DOUBLE_EQ(s.jitter, 0.2);
  EXPECT_EQ(s.targets.size(), 3u);
  EXPECT_EQ(s.settle, Duration(30s));
  EXPECT_EQ(s.min_uptime, Duration(35s));
  ASSERT_EQ(s.faults.size(), 7u);
  EXPECT_EQ(injection_request(s.faults[5], "camera")["bytes"], 200ull << 20);
  EXPECT_EQ(injection_request(s.faults[6], "camera")["fault"], "topic_dropout");
  EXPECT_EQ(s.faults[0].weight, 3.0);
  EXPECT_EQ(s.faults[0].signal, "SIGKILL");
  EXPECT_EQ(s.faults[1].duration, Duration(3s));
  EXPECT_EQ(s.faults[2].period, Duration(200ms));
  EXPECT_DOUBLE_EQ(s.faults[2].duty, 0.25);
  EXPECT_EQ(s.faults[3].targets, std::vector<std::string>{"battery"});
  EXPECT_EQ(injection_request(s.faults[2], "camera"), (nlohmann::json{{"cmd", "chaos"},
                                                                      {"fault", "slow"},
                                                                      {"name", "camera"},
                                                                      {"duration_ms", 5000},
                                                                      {"period_ms", 200},
                                                                      {"duty", 0.25}}));
  EXPECT_EQ(injection_request(s.faults[3], "battery"),
            (nlohmann::json{
                {"cmd", "chaos"}, {"fault", "kill"}, {"name", "battery"}, {"signal", "SIGSEGV"}}));
  EXPECT_EQ(injection_request(s.faults[4], "camera"), (nlohmann::json{{"cmd", "chaos"},
                                                                      {"fault", "packet_loss"},
                                                                      {"name", "camera"},
                                                                      {"duration_ms", 10000},
                                                                      {"loss_percent", 20.0},
                                                                      {"expect", "none"}}));
}

TEST(Scenario, OnePreciseErrorPerMistake) {
  const std::pair<const char*, const char*> cases[] = {
      {"faults: [{fault: melt}]",
       "s.yaml:1:18: error: unknown fault 'melt' (kill, hang, slow, heartbeat_loss, "
       "topic_dropout, partition, packet_loss, cpu_hog or memory_hog)"},
      {"faults: [{fault: kill, expect: maybe}]",
       "s.yaml:1:32: error: expect must be failure (detected and recovered) or none (ridden out)"},
      {"faults: [{fault: packet_loss, for: 1s}]",
       "s.yaml:1:10: error: a packet_loss fault needs `loss:` (e.g. 20%)"},
      {"faults: [{fault: packet_loss, for: 1s, loss: 120%}]",
       "s.yaml:1:46: error: loss must be a percentage above 0 and at most 100 (e.g. 20%)"},
      {"faults: [{fault: hang}]",
       "s.yaml:1:10: error: a hang fault needs `for:` (how long it "
       "lasts)"},
      {"interval: soon\nfaults: [{fault: kill}]",
       "s.yaml:1:11: error: interval: 'soon' is not a positive duration (250ms, 10s, 1m)"},
      {"faults: [{fault: kill, signal: SIGFOO}]", "s.yaml:1:32: error: 'SIGFOO' is not a signal"},
      {"faults: [{fault: slow, for: 1s, duty: 2}]",
       "s.yaml:1:39: error: duty must be a number from 0.01 to 0.99"},
      {"intervl: 5s\nfaults: [{fault: kill}]",
       "s.yaml:1:1: error: unknown key 'intervl' (expected interval, jitter, targets, settle, "
       "min_uptime or faults)"},
      {"min_uptime: -1s\nfaults: [{fault: kill}]",
       "s.yaml:1:13: error: min_uptime: '-1s' is not a positive duration (250ms, 10s, 1m)"},
      {"interval: 5s", "s.yaml:1:1: error: a scenario needs `faults:`, e.g. [{fault: kill}]"},
      {"faults: {fault: kill}",
       "s.yaml:1:9: error: faults must be a list, e.g. [{fault: kill}, {fault: hang, for: 3s}]"},
      {"[1, 2", "s.yaml:1:1: error: end of sequence flow not found"},
  };
  for (const auto& [text, error] : cases) {
    auto r = parse_scenario(text, "s.yaml");
    EXPECT_FALSE(r.scenario) << text;
    ASSERT_FALSE(r.errors.empty()) << text;
    EXPECT_EQ(r.errors.front(), error) << text;
  }
}

TEST(Planner, TheSameSeedDrawsTheSameRunAndOnlyEligibleTargets) {
  auto s = *parse_scenario(kScenario, "s.yaml").scenario;
  auto draw = [&](std::uint64_t seed) {
    Planner p(s, seed);
    std::vector<std::string> run;
    for (int i = 0; i < 50; ++i) {
      const auto delay = p.next_delay();
      EXPECT_GE(delay, Duration(4s));
      EXPECT_LE(delay, Duration(6s));
      auto pick = p.next({"lidar", "planner", "battery"});
      EXPECT_TRUE(pick.has_value());
      if (!pick) break;
      EXPECT_NE(pick->second, "camera") << "not eligible";
      if (pick->first->targets.empty()) EXPECT_NE(pick->second, "battery") << "not a target";
      run.push_back(pick->first->fault + ":" + pick->second);
    }
    return run;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
  const auto run = draw(7);
  EXPECT_GT(std::count(run.begin(), run.end(), "kill:battery"), 0) << "battery's own fault";
  Planner p(s, 1);
  EXPECT_FALSE(p.next({"camera_not_known"}).has_value());
}

}  // namespace
}  // namespace vigil::chaos
