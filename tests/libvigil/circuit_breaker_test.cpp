// The circuit breaker's state machine on a simulated clock.
#include "vigil/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace vigil {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

struct Fixture : ::testing::Test {
  CircuitBreaker::Clock::time_point now{1000s};
  CircuitBreaker::NowFunction clock() {
    return [this] { return now; };
  }
};

using CircuitBreakerTest = Fixture;

TEST_F(CircuitBreakerTest, OpensHalfOpensClosesAndReopens) {
  CircuitBreaker breaker({/*failure_threshold=*/3, 0.0, 20, /*open_duration=*/5s, 1}, clock());
  auto fail = [] { return false; };
  auto succeed = [] { return true; };

  EXPECT_EQ(breaker.call(fail), false);
  EXPECT_EQ(breaker.call(succeed), true);  // a success resets the consecutive count
  EXPECT_EQ(breaker.call(fail), false);
  EXPECT_EQ(breaker.call(fail), false);
  EXPECT_EQ(breaker.state(), State::closed);
  EXPECT_EQ(breaker.call(fail), false);  // third consecutive failure
  EXPECT_EQ(breaker.state(), State::open);
  EXPECT_EQ(breaker.times_opened(), 1u);

  int calls = 0;
  EXPECT_EQ(breaker.call([&] { return ++calls > 0; }), std::nullopt) << "open: rejected";
  now += 4999ms;
  EXPECT_FALSE(breaker.allow());
  EXPECT_EQ(calls, 0);

  now += 1ms;  // cool-down over: one trial
  EXPECT_TRUE(breaker.allow());
  EXPECT_EQ(breaker.state(), State::half_open);
  EXPECT_FALSE(breaker.allow()) << "only half_open_max_calls trials";
  breaker.record_failure();  // the trial fails: open again, cool-down restarts
  EXPECT_EQ(breaker.state(), State::open);
  EXPECT_EQ(breaker.times_opened(), 2u);
  now += 4s;
  EXPECT_FALSE(breaker.allow());
  now += 1s;
  EXPECT_EQ(breaker.call(succeed), true);  // trial succeeds: closed
  EXPECT_EQ(breaker.state(), State::closed);
  EXPECT_EQ(breaker.consecutive_failures(), 0);
  EXPECT_TRUE(breaker.allow());
}

TEST_F(CircuitBreakerTest, FailureRateOverAWindow) {
  CircuitBreakerOptions options;
  options.failure_threshold = 0;  // only the rate
  options.failure_rate_threshold = 0.5;
  options.window = 4;
  CircuitBreaker breaker(options, clock());
  for (bool ok : {false, true, false}) ok ? breaker.record_success() : breaker.record_failure();
  EXPECT_EQ(breaker.state(), State::closed) << "window not full yet";
  breaker.record_success();  // 2 of 4 failed: 50 %
  EXPECT_EQ(breaker.state(), State::open);
}

TEST_F(CircuitBreakerTest, ExceptionsAreFailuresAndPropagate) {
  CircuitBreaker breaker({1, 0.0, 20, 1s, 2}, clock());
  EXPECT_THROW(breaker.call([]() -> int { throw std::runtime_error("arm offline"); }),
               std::runtime_error);
  EXPECT_EQ(breaker.state(), State::open);
  now += 1s;
  // Two trials allowed in half-open; a value-returning call with a custom success test.
  EXPECT_TRUE(breaker.allow());
  EXPECT_TRUE(breaker.allow());
  EXPECT_FALSE(breaker.allow());
  breaker.record_success();
  EXPECT_EQ(breaker.state(), State::closed);
  auto r = breaker.call([] { return 404; }, [](int code) { return code < 400; });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 404);
  EXPECT_EQ(breaker.state(), State::open);
  EXPECT_EQ(breaker.call([] {}), false) << "a void call reports that it did not run";
}

TEST_F(CircuitBreakerTest, ConcurrentUseKeepsCountsConsistent) {
  CircuitBreaker breaker({1000000, 0.0, 20, 1s, 1}, clock());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) breaker.call([] { return false; });
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(breaker.consecutive_failures(), 4000);
}

}  // namespace
}  // namespace vigil
