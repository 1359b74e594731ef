#include "http/event_stream.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace vigil::http {
namespace {

using namespace std::chrono_literals;

health::Event event(std::int64_t id, std::string component, std::string reason) {
  health::Event e;
  e.id = id;
  e.component = std::move(component);
  e.kind = health::EventKind::exited;
  e.reason = std::move(reason);
  return e;
}

TEST(MakeFrame, IsOneDataLineEvenWhenTheTextHasNewlines) {
  auto f = make_frame("event", {{"reason", "line one\nline two"}}, 42);
  EXPECT_EQ(*f, "event: event\nid: 42\ndata: {\"reason\":\"line one\\nline two\"}\n\n");
  EXPECT_EQ(*make_frame("snapshot", {{"a", 1}}), "event: snapshot\ndata: {\"a\":1}\n\n");
}

TEST(EventStream, EveryClientGetsEveryEventInOrder) {
  EventStream stream({.max_clients = 4, .max_queued_bytes = 1 << 20});
  auto a = stream.add_client();
  auto b = stream.add_client();
  stream.on_event(event(1, "lidar", "crashed"));
  stream.on_event(event(2, "lidar", "ready"));
  for (auto& c : {a, b}) {
    auto frames = c->next(0ms);
    ASSERT_TRUE(frames);
    ASSERT_EQ(frames->size(), 2u);
    EXPECT_NE((*frames)[0]->find("id: 1\n"), std::string::npos);
    EXPECT_NE((*frames)[1]->find("id: 2\n"), std::string::npos);
  }
  // The same serialised frame is shared, not copied per client.
  stream.on_event(event(3, "x", "y"));
  auto fa = a->next(0ms);
  auto fb = b->next(0ms);
  EXPECT_EQ((*fa)[0].get(), (*fb)[0].get());
}

TEST(EventStream, RefusesClientsBeyondTheLimitAndFreesClosedSlots) {
  EventStream stream({.max_clients = 2, .max_queued_bytes = 1 << 20});
  auto a = stream.add_client();
  auto b = stream.add_client();
  EXPECT_EQ(stream.add_client(), nullptr);
  a->close();
  EXPECT_NE(stream.add_client(), nullptr);
  EXPECT_EQ(stream.clients(), 2u);
}

TEST(EventStream, ASlowClientIsCutOffWithoutAffectingOthers) {
  EventStream stream({.max_clients = 4, .max_queued_bytes = 4096});
  auto slow = stream.add_client();
  auto fast = stream.add_client();
  for (int i = 1; i <= 100; ++i) {
    stream.on_event(event(i, "lidar", std::string(100, 'x')));
    auto frames = fast->next(0ms);  // the fast one keeps up
    ASSERT_TRUE(frames);
    ASSERT_EQ(frames->size(), 1u);
  }
  EXPECT_TRUE(slow->closed());
  EXPECT_EQ(stream.dropped_slow_clients(), 1u);
  EXPECT_EQ(stream.clients(), 1u);
  // It is told why before the end of the stream.
  auto last = slow->next(0ms);
  ASSERT_TRUE(last);
  ASSERT_EQ(last->size(), 1u);
  EXPECT_NE((*last)[0]->find("event: overflow"), std::string::npos);
  EXPECT_FALSE(slow->next(0ms));
}

TEST(StreamClient, NextWakesWhenAFrameArrivesAndEndsWhenClosed) {
  StreamClient client(1 << 20);
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);  // the waiting side is what is tested, not this timing
    client.push(make_frame("event", {{"n", 1}}, 1));
    client.close();
  });
  auto frames = client.next(10s);
  ASSERT_TRUE(frames);
  if (frames->empty()) frames = client.next(10s);
  ASSERT_TRUE(frames);
  EXPECT_EQ(frames->size(), 1u);
  EXPECT_FALSE(client.next(10s));
  producer.join();
  // Waiting with nothing to read returns empty (time for a keep-alive), not the end.
  StreamClient idle(1 << 20);
  auto none = idle.next(10ms);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace vigil::http
