// retry(): the backoff schedule, its jitter bounds and cap, and when it stops.
#include "vigil/retry.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using us = std::chrono::microseconds;

TEST(Retry, ExponentialScheduleCappedAtMaxWithoutJitter) {
  std::vector<us> sleeps;
  int calls = 0;
  auto result = retry([&] { return ++calls == 6; }, RetryPolicy{6, 100ms, 1s, 2.0, false},
                      AlwaysRetryable{}, [&](us d) { sleeps.push_back(d); });
  EXPECT_TRUE(result);
  EXPECT_EQ(calls, 6);
  EXPECT_EQ(sleeps, (std::vector<us>{100ms, 200ms, 400ms, 800ms, 1s}));
}

TEST(Retry, FullJitterStaysWithinZeroAndTheCap) {
  RetryPolicy policy{12, 10ms, 500ms, 3.0, true, /*seed=*/42};
  std::vector<us> sleeps;
  auto result = retry([] { return std::optional<int>{}; }, policy, AlwaysRetryable{},
                      [&](us d) { sleeps.push_back(d); });
  EXPECT_FALSE(result);
  ASSERT_EQ(sleeps.size(), 11u) << "attempts - 1 sleeps";
  bool any_below_half_cap = false;
  for (std::size_t i = 0; i < sleeps.size(); ++i) {
    const us cap = backoff_cap(policy, static_cast<int>(i));
    EXPECT_GE(sleeps[i].count(), 0);
    EXPECT_LE(sleeps[i], cap) << "retry " << i;
    EXPECT_LE(sleeps[i], 500ms);
    any_below_half_cap = any_below_half_cap || sleeps[i] < cap / 2;
  }
  EXPECT_TRUE(any_below_half_cap) << "jitter spreads the delays";
  EXPECT_EQ(backoff_cap(policy, 0), 10ms);
  EXPECT_EQ(backoff_cap(policy, 2), 90ms);
  EXPECT_EQ(backoff_cap(policy, 10), 500ms);
  // The same seed gives the same schedule (reproducible tests and incidents).
  std::vector<us> again;
  (void)retry([] { return false; }, policy, AlwaysRetryable{}, [&](us d) { again.push_back(d); });
  EXPECT_EQ(again, sleeps);
}

TEST(Retry, StopsAtTheFirstSuccessOrANonRetryableError) {
  std::vector<us> sleeps;
  auto sleep = [&](us d) { sleeps.push_back(d); };
  int calls = 0;
  auto ok = retry([&] { return ++calls >= 2 ? std::optional<int>(7) : std::nullopt; },
                  RetryPolicy{5, 1ms, 1s, 2.0, false}, AlwaysRetryable{}, sleep);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  EXPECT_EQ(calls, 2);

  // An error code: 0 is success (so the result type tests false on success: wrap it).
  struct Reply {
    int code;
    explicit operator bool() const { return code == 0; }
  };
  calls = 0;
  sleeps.clear();
  auto r =
      retry([&] { return Reply{++calls == 1 ? 503 : 404}; }, RetryPolicy{10, 1ms, 1s, 2.0, false},
            [](const Reply& reply) { return reply.code >= 500; }, sleep);
  EXPECT_EQ(r.code, 404);
  EXPECT_EQ(calls, 2) << "503 retried, 404 not";
  EXPECT_EQ(sleeps.size(), 1u);
}

TEST(Retry, AtLeastOneCallAndTheRealSleepByDefault) {
  int calls = 0;
  EXPECT_FALSE(retry([&] { return ++calls < 0; }, RetryPolicy{0, 1ms, 1ms, 2.0, false}));
  EXPECT_EQ(calls, 1);
  calls = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(retry([&] { return ++calls < 0; }, RetryPolicy{3, 5ms, 5ms, 1.0, false}));
  EXPECT_EQ(calls, 3);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 10ms);
}

}  // namespace
}  // namespace vigil
