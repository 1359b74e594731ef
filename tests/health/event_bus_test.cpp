// The event bus when its store cannot write. A store that fails on demand stands in for the
// SQLite log here, because the cases of interest (the bound on held events, their order
// across several failed commits) would need a disk that fails exactly when asked; the real
// log on a really full disk is tests/integration/state_dir_test.cpp.
#include "health/event_bus.hpp"

#include <gtest/gtest.h>

#include "supervisor/fakes.hpp"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;
using health::Event;

class FlakyStore final : public health::EventStore {
 public:
  Result<void> store(std::vector<Event>& batch) override {
    if (failing) return make_error("database or disk is full");
    for (auto& e : batch) {
      e.id = ++last_id;
      written.push_back(e.reason);
    }
    return {};
  }
  bool failing = false;
  std::int64_t last_id = 0;
  std::vector<std::string> written;
};

class Recorder final : public health::EventSink {
 public:
  void on_event(const Event& e) override { seen.push_back({e.reason, e.id}); }
  std::vector<std::pair<std::string, std::int64_t>> seen;
};

Event event(const std::string& reason) {
  Event e;
  e.component = "a";
  e.kind = health::EventKind::spawned;
  e.reason = reason;
  return e;
}

struct BusTest : ::testing::Test {
  BusTest() : bus(sched, store, "boot", /*max_held=*/3) {
    bus.subscribe(&sink);
    bus.on_store_health([this](const health::StoreHealth& h) { changes.push_back(h); });
  }
  ManualScheduler sched;
  FlakyStore store;
  Recorder sink;
  health::EventBus bus;
  std::vector<health::StoreHealth> changes;
};

TEST_F(BusTest, EventsGoOnWhileTheStoreFailsAndAreWrittenInOrderOnceItWorks) {
  bus.publish(event("1"));
  sched.settle();
  ASSERT_EQ(sink.seen.size(), 1u);
  EXPECT_EQ(sink.seen[0].second, 1);

  store.failing = true;
  bus.publish(event("2"));
  sched.settle();
  bus.publish(event("3"));
  sched.settle();
  // Delivered as they happen, with no id: they have no place in the log yet.
  ASSERT_EQ(sink.seen.size(), 3u);
  EXPECT_EQ(sink.seen[1], (std::pair<std::string, std::int64_t>{"2", 0}));
  EXPECT_EQ(sink.seen[2], (std::pair<std::string, std::int64_t>{"3", 0}));
  ASSERT_EQ(changes.size(), 1u) << "told once, not at every failed commit";
  EXPECT_FALSE(changes[0].writable);
  EXPECT_EQ(changes[0].error, "database or disk is full");
  EXPECT_EQ(bus.store_health().held, 2u);

  // The retry every 2 s writes them without waiting for a new event.
  sched.advance(2s);
  EXPECT_EQ(bus.store_health().failures, 3u);
  store.failing = false;
  sched.advance(2s);
  EXPECT_EQ(store.written, (std::vector<std::string>{"1", "2", "3"}));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(changes[1].writable);
  EXPECT_EQ(changes[1].written_late, 2u);
  EXPECT_EQ(bus.store_health().held, 0u);
  EXPECT_EQ(sink.seen.size(), 3u) << "held events are not delivered twice";

  bus.publish(event("4"));
  sched.settle();
  EXPECT_EQ(sink.seen.back(), (std::pair<std::string, std::int64_t>{"4", 4}));
}

TEST_F(BusTest, PastItsBoundTheOldestHeldEventsAreDroppedAndCounted) {
  store.failing = true;
  for (const char* r : {"1", "2", "3", "4", "5"}) {
    bus.publish(event(r));
    sched.settle();
  }
  EXPECT_EQ(bus.store_health().held, 3u);
  EXPECT_EQ(bus.store_health().dropped, 2u);
  EXPECT_EQ(sink.seen.size(), 5u) << "the live stream lost nothing";
  store.failing = false;
  sched.advance(2s);
  EXPECT_EQ(store.written, (std::vector<std::string>{"3", "4", "5"}));
  EXPECT_EQ(changes.back().dropped, 2u);
}

}  // namespace
}  // namespace vigil::testing
