// The mode manager in simulated time: escalation at once, de-escalation after exit_after and
// dwell, enter_after as debounce, and the property that the chosen mode is always the most
// severe one that applies once the timers have run out.
#include "health/mode_manager.hpp"

#include <gtest/gtest.h>

#include <random>

namespace vigil::health {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) {
  return TimePoint{} + d;
}

config::ModeSpec mode(const char* name, Duration enter_after = 0s, Duration exit_after = 1s,
                      Duration dwell = 2s) {
  config::ModeSpec m;
  m.name = name;
  m.when = name[0] == 'n' ? "" : "x";
  m.enter_after = enter_after;
  m.exit_after = exit_after;
  m.dwell = dwell;
  return m;
}

std::vector<config::ModeSpec> three() {
  return {mode("nominal"), mode("degraded"), mode("safe_stop")};
}

TEST(ModeManager, EscalatesAtOnceToTheMostSevereRuleThatHolds) {
  ModeManager m(three(), at(0s));
  EXPECT_FALSE(m.evaluate({false, false, false}, at(1s)));
  auto s = m.evaluate({false, true, true}, at(2s));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->from, 0u);
  EXPECT_EQ(s->to, 2u);
  EXPECT_TRUE(s->more_severe);
  EXPECT_EQ(m.current(), 2u);
}

TEST(ModeManager, LeavesOnlyAfterExitAfterAndDwell) {
  ModeManager m(three(), at(0s));
  ASSERT_TRUE(m.evaluate({false, true, false}, at(10s)));  // degraded at 10 s
  // The rule stops holding at 10.5 s: exit_after 1 s (11.5 s) but dwell 2 s (12 s).
  EXPECT_FALSE(m.evaluate({false, false, false}, at(10500ms)));
  EXPECT_EQ(m.next_check(at(10500ms)), at(12s));
  EXPECT_FALSE(m.evaluate({false, false, false}, at(11900ms)));
  auto s = m.evaluate({false, false, false}, at(12s));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to, 0u);
  EXPECT_FALSE(s->more_severe);
}

TEST(ModeManager, AReloadResumesTheModeAndLeavesItAsUsual) {
  // degraded since 10 s when the config is reloaded at 11 s.
  ModeManager m(three(), at(11s), 1, at(10s));
  EXPECT_EQ(m.current(), 1u);
  EXPECT_FALSE(m.evaluate({false, true, false}, at(11s))) << "still holds: stays";
  EXPECT_FALSE(m.evaluate({false, false, false}, at(11500ms)));
  EXPECT_FALSE(m.evaluate({false, false, false}, at(12400ms))) << "exit_after not over";
  auto s = m.evaluate({false, false, false}, at(12500ms));  // dwell from 10 s, exit from 11.5 s
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to, 0u);
}

TEST(ModeManager, AFlickeringRuleDoesNotFlap) {
  ModeManager m(three(), at(0s));
  ASSERT_TRUE(m.evaluate({false, true, false}, at(0s)));
  int switches = 0;
  // The rule toggles every 300 ms for 10 s: never false for a whole exit_after.
  for (int i = 1; i < 34; ++i) {
    switches += m.evaluate({false, i % 2 == 0, false}, at(i * 300ms)) ? 1 : 0;
  }
  EXPECT_EQ(switches, 0);
  EXPECT_EQ(m.current(), 1u);
}

TEST(ModeManager, EnterAfterDebouncesEntry) {
  auto modes = three();
  modes[1].enter_after = 500ms;
  ModeManager m(modes, at(0s));
  EXPECT_FALSE(m.evaluate({false, true, false}, at(1s)));
  EXPECT_EQ(m.next_check(at(1s)), at(1500ms));
  EXPECT_FALSE(m.evaluate({false, false, false}, at(1200ms)));  // a blip: forgotten
  EXPECT_FALSE(m.evaluate({false, true, false}, at(1300ms)));
  EXPECT_FALSE(m.evaluate({false, true, false}, at(1700ms)));
  auto s = m.evaluate({false, true, false}, at(1800ms));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to, 1u);
}

TEST(ModeManager, StepsDownToTheMostSevereModeStillApplying) {
  ModeManager m(three(), at(0s));
  ASSERT_TRUE(m.evaluate({false, true, true}, at(0s)));
  EXPECT_EQ(m.current(), 2u);
  EXPECT_FALSE(m.evaluate({false, true, false}, at(1s)));  // safe_stop's rule ends
  auto s = m.evaluate({false, true, false}, at(2s));       // exit_after and dwell passed
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to, 1u);
}

// Property: whatever the rules did, once every timer has run out with the rules unchanged, the
// mode is the most severe whose rule holds (or the default).
TEST(ModeManager, SettlesOnTheMostSevereModeWhoseRuleHolds) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = 2 + rng() % 4;
    std::vector<config::ModeSpec> modes{mode("nominal")};
    for (std::size_t i = 1; i < n; ++i) {
      modes.push_back(mode("m", std::chrono::milliseconds(rng() % 3 * 200),
                           std::chrono::milliseconds(rng() % 4 * 300),
                           std::chrono::milliseconds(rng() % 4 * 500)));
    }
    ModeManager m(modes, at(0s));
    Duration t = 0s;
    std::vector<bool> holds(n);
    for (int step = 0; step < 20; ++step) {
      for (std::size_t i = 1; i < n; ++i) holds[i] = rng() % 3 == 0;
      t += std::chrono::milliseconds(rng() % 700);
      m.evaluate(holds, at(t));
    }
    // The rules stay as they are now: follow next_check until nothing is pending.
    m.evaluate(holds, at(t));
    for (int guard = 0; guard < 100; ++guard) {
      auto next = m.next_check(at(t));
      if (!next) break;
      t = next->time_since_epoch();
      m.evaluate(holds, at(t));
    }
    std::size_t expected = 0;
    for (std::size_t i = n; i-- > 1;) {
      if (holds[i]) {
        expected = i;
        break;
      }
    }
    EXPECT_EQ(m.current(), expected) << "trial " << trial;
  }
}

}  // namespace
}  // namespace vigil::health
