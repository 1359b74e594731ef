#include "http/event_stream.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace vigil::http {

Frame make_frame(std::string_view name, const nlohmann::json& data, std::int64_t id) {
  // dump() escapes newlines inside strings, so the payload is always exactly one data: line.
  std::string text = fmt::format("event: {}\n", name);
  if (id > 0) text += fmt::format("id: {}\n", id);
  text += "data: ";
  text += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += "\n\n";
  return std::make_shared<const std::string>(std::move(text));
}

void StreamClient::push(Frame frame) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (queued_bytes_ + frame->size() > max_queued_bytes_) {
      // The reader is too slow: tell it (if it ever reads again) and end the stream.
      queue_.clear();
      queue_.push_back(make_frame(
          "overflow", {{"error", "client too slow: reconnect with Last-Event-ID to resume"}}));
      closed_ = true;
      overflowed_ = true;
    } else {
      queued_bytes_ += frame->size();
      queue_.push_back(std::move(frame));
    }
  }
  ready_.notify_one();
}

void StreamClient::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_one();
}

bool StreamClient::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

bool StreamClient::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<std::vector<Frame>> StreamClient::next(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, wait, [this] { return closed_ || !queue_.empty(); });
  if (queue_.empty() && closed_) return std::nullopt;
  std::vector<Frame> frames(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.end()));
  queue_.clear();
  queued_bytes_ = 0;
  return frames;
}

std::shared_ptr<StreamClient> EventStream::add_client() {
  prune_closed();
  if (clients_.size() >= options_.max_clients) return nullptr;
  auto client = std::make_shared<StreamClient>(options_.max_queued_bytes);
  clients_.push_back(client);
  return client;
}

void EventStream::on_event(const health::Event& event) {
  if (clients_.empty()) return;
  broadcast_frame(make_frame("event", event.to_json(), event.id));
}

void EventStream::broadcast(std::string_view name, const nlohmann::json& data) {
  if (clients_.empty()) return;
  broadcast_frame(make_frame(name, data));
}

void EventStream::broadcast_frame(const Frame& frame) {
  bool any_closed = false;
  for (auto& c : clients_) {
    c->push(frame);
    if (c->closed()) any_closed = true;
  }
  if (any_closed) prune_closed();
}

void EventStream::prune_closed() {
  std::erase_if(clients_, [this](const auto& c) {
    if (!c->closed()) return false;
    if (c->overflowed()) ++dropped_slow_;
    return true;
  });
}

void EventStream::close_all() {
  for (auto& c : clients_) c->close();
  clients_.clear();
}

std::size_t EventStream::clients() {
  prune_closed();
  return clients_.size();
}

}  // namespace vigil::http
