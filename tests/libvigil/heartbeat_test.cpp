// The heartbeat thread, against a real notify socket.
#include "vigil/heartbeat.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "notify_receiver.hpp"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(Heartbeat, FromEnvironmentBeatsAtHalfTheWatchdogInterval) {
  test::NotifyReceiver receiver;
  ::setenv("WATCHDOG_USEC", "200000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  {
    Heartbeat hb = Heartbeat::from_environment();
    ASSERT_TRUE(hb.running());
    EXPECT_EQ(hb.period(), 100ms);
    std::vector<Clock::time_point> arrivals;
    while (arrivals.size() < 6) {
      auto d = receiver.receive(2s);
      ASSERT_TRUE(d) << "no heartbeat within 2 s";
      EXPECT_EQ(*d, "WATCHDOG=1");
      arrivals.push_back(Clock::now());
    }
    const auto mean = (arrivals.back() - arrivals.front()) / 5;
    EXPECT_GT(mean, 70ms);
    EXPECT_LT(mean, 160ms);
    // The count is bumped after sendto() returns, which may be after we received it.
    const auto deadline = Clock::now() + 2s;
    while (hb.beats_sent() < 6 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_GE(hb.beats_sent(), 6u);
  }
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

TEST(Heartbeat, WithoutWatchdogItIsInactive) {
  test::NotifyReceiver receiver;
  ::unsetenv("WATCHDOG_USEC");
  Heartbeat hb = Heartbeat::from_environment();
  EXPECT_FALSE(hb.running());
  ::setenv("WATCHDOG_USEC", "200000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);  // inherited: meant for our parent
  Heartbeat inherited = Heartbeat::from_environment();
  EXPECT_FALSE(inherited.running());
  EXPECT_EQ(receiver.receive(300ms), std::nullopt);
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

TEST(Heartbeat, DestructorStopsPromptlyEvenWithALongPeriod) {
  test::NotifyReceiver receiver;
  auto hb = std::make_unique<Heartbeat>(std::chrono::seconds(30));
  ASSERT_EQ(receiver.receive(), "WATCHDOG=1");  // the first beat is immediate
  const auto start = Clock::now();
  hb.reset();
  EXPECT_LT(Clock::now() - start, 500ms);
  EXPECT_EQ(receiver.receive(100ms), std::nullopt);
}

TEST(Heartbeat, UnhealthyPredicateSendsNoBeats) {
  test::NotifyReceiver receiver;
  std::atomic<bool> healthy{false};
  std::atomic<int> asked{0};
  Heartbeat hb(20ms, [&] {
    ++asked;
    return healthy.load();
  });
  // Asked several times, never beat.
  const auto deadline = Clock::now() + 5s;
  while (asked < 5 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_GE(asked.load(), 5);
  EXPECT_EQ(receiver.drain().size(), 0u);
  EXPECT_EQ(hb.beat().error(), EAGAIN);
  EXPECT_EQ(hb.beats_sent(), 0u);
  healthy = true;  // recovers: beats resume
  EXPECT_EQ(receiver.receive(), "WATCHDOG=1");
  EXPECT_TRUE(hb.beat());
}

TEST(Heartbeat, ThrowingPredicateCountsAsUnhealthy) {
  test::NotifyReceiver receiver;
  Heartbeat hb(0ms, [&]() -> bool { throw std::runtime_error("cannot tell"); });
  EXPECT_FALSE(hb.running());
  EXPECT_EQ(hb.beat().error(), EAGAIN);
  EXPECT_EQ(receiver.receive(50ms), std::nullopt);
}

}  // namespace
}  // namespace vigil
