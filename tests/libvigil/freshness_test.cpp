// Freshness: falls back when stale, recovers, and tells vigild on the transitions.
#include "vigil/freshness.hpp"

#include <gtest/gtest.h>

#include "notify_receiver.hpp"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct FakeClock {
  Clock::time_point now = Clock::time_point(100s);
  Freshness<int>::NowFunction function() {
    return [this] { return now; };
  }
};

TEST(Freshness, FallsBackWhenStaleAndRecoversReportingOverARealSocket) {
  test::NotifyReceiver receiver;
  FakeClock clock;
  Freshness<int> scan("lidar scan", 200ms, clock.function());

  scan.update(7);
  EXPECT_EQ(scan.get(), 7);
  clock.now += 200ms;  // exactly max_age: still fresh
  EXPECT_FALSE(scan.stale());
  EXPECT_EQ(scan.value_or_fallback(-1), 7);
  EXPECT_EQ(receiver.receive(50ms), std::nullopt) << "no report while fresh";

  clock.now += 440ms;  // 640 ms old
  EXPECT_TRUE(scan.stale());
  EXPECT_EQ(scan.get(), std::nullopt);
  EXPECT_EQ(receiver.receive(), "STATUS=stale: lidar scan 640 ms old");
  EXPECT_EQ(scan.value_or_fallback(-1), -1);
  int backup_calls = 0;
  EXPECT_EQ(scan.value_or_else([&] {
    ++backup_calls;
    return 42;
  }),
            42);
  EXPECT_EQ(backup_calls, 1);
  EXPECT_EQ(receiver.receive(50ms), std::nullopt) << "reported once per transition";

  scan.update(8);  // recovery clears the status
  EXPECT_EQ(receiver.receive(), "STATUS=");
  EXPECT_EQ(scan.value_or_else([]() -> int { throw std::logic_error("not called when fresh"); }),
            8);
  EXPECT_EQ(scan.age(), Clock::duration(0));

  clock.now += 1s;  // and a second outage is reported again
  EXPECT_TRUE(scan.stale());
  EXPECT_EQ(receiver.receive(), "STATUS=stale: lidar scan 1000 ms old");
}

TEST(Freshness, NeverReceivedIsStale) {
  FakeClock clock;
  std::vector<std::string> reports;
  Freshness<int> odom("odometry", 100ms, clock.function(),
                      [&](std::string_view s) { reports.emplace_back(s); });
  EXPECT_TRUE(odom.stale());
  EXPECT_EQ(odom.age(), std::nullopt);
  EXPECT_EQ(odom.value_or_fallback(3), 3);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "stale: odometry never received");
  odom.update(1, clock.now - 50ms);  // the sensor's own timestamp
  EXPECT_EQ(odom.get(), 1);
  EXPECT_EQ(odom.age(), Clock::duration(50ms));
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], "");
}

}  // namespace
}  // namespace vigil
