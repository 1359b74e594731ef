#pragma once
// Server-sent events for the dashboard and any other live client (`GET /api/v1/stream`).
//
// The stream is fed on the event loop (it is an EventSink on the EventBus, so a client only
// ever sees committed events, in order); each client is drained by the HTTP worker thread that
// holds its connection. A frame is serialised once and shared by every client. Each client's
// queue is bounded: a client that stops reading is disconnected rather than allowed to grow
// vigild's memory, and resumes with Last-Event-ID when it reconnects.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "health/event.hpp"

namespace vigil::http {

using Frame = std::shared_ptr<const std::string>;

// `event: NAME`, `id: ID` (when id > 0) and one `data:` line of compact JSON.
Frame make_frame(std::string_view name, const nlohmann::json& data, std::int64_t id = 0);

class StreamClient {
 public:
  explicit StreamClient(std::size_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}

  // Loop side. A client over its byte budget is closed (and told why in a last frame).
  void push(Frame frame);
  void close();

  // Worker side: waits up to `wait` for frames. Empty: nothing arrived (time for a
  // keep-alive); nullopt: closed, end the response.
  std::optional<std::vector<Frame>> next(std::chrono::milliseconds wait);
  bool closed() const;
  bool overflowed() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Frame> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t max_queued_bytes_;
  bool closed_ = false;
  bool overflowed_ = false;
};

class EventStream final : public health::EventSink {
 public:
  struct Options {
    std::size_t max_clients = 64;
    std::size_t max_queued_bytes = std::size_t{1} << 20;
  };
  explicit EventStream(Options options) : options_(options) {}
  ~EventStream() override { close_all(); }

  // Loop side. Null when max_clients are connected.
  std::shared_ptr<StreamClient> add_client();
  void on_event(const health::Event& event) override;
  // Sends a named frame to every client (status snapshots, samples).
  void broadcast(std::string_view name, const nlohmann::json& data);
  void close_all();
  std::size_t clients();
  std::uint64_t dropped_slow_clients() const { return dropped_slow_; }

 private:
  void broadcast_frame(const Frame& frame);
  void prune_closed();
  Options options_;
  std::vector<std::shared_ptr<StreamClient>> clients_;
  std::uint64_t dropped_slow_ = 0;
};

}  // namespace vigil::http
