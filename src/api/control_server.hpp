#pragma once
// The control socket: state_dir/control.sock, mode 0600 (only vigild's user may command it).
// Each connection reads requests line by line; streaming replies (events/logs --follow) keep
// the connection until the client hangs up. A slow reader is dropped rather than allowed to
// grow vigild's memory.
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "api/protocol.hpp"
#include "common/result.hpp"

namespace vigil::api {

class Session : public std::enable_shared_from_this<Session> {
 public:
  static constexpr std::size_t kMaxQueuedBytes = 8 << 20;
  Session(asio::local::stream_protocol::socket socket, class ControlServer& server);
  void start();
  void send(const nlohmann::json& message);
  void close();
  // Closes once everything queued has been written (used at shutdown, so followers receive the
  // final events).
  void close_when_drained();
  bool closed() const { return closed_; }
  // Runs once when the connection ends, to unsubscribe followers.
  void on_close(std::function<void()> fn) { on_close_.push_back(std::move(fn)); }
  bool streaming = false;

 private:
  void read();
  void write_next();
  void handle_line(const std::string& line);

  asio::local::stream_protocol::socket socket_;
  ControlServer& server_;
  std::string inbuf_;
  std::array<char, 4096> chunk_{};
  std::deque<std::string> out_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closed_ = false;
  bool close_after_drain_ = false;
  std::vector<std::function<void()>> on_close_;
};

class ControlServer {
 public:
  // Returns a response to send, or nothing when the handler took over the session (follow).
  using Handler = std::function<std::optional<nlohmann::json>(const Request&, Session&)>;

  static Result<std::unique_ptr<ControlServer>> listen(asio::io_context& io,
                                                       const std::string& path, Handler handler);
  ~ControlServer();
  void close_all();
  // Stops accepting, lets every client receive what is queued for it, then runs `done`.
  void drain(std::function<void()> done);
  std::uint64_t bad_requests() const { return bad_requests_; }

 private:
  friend class Session;
  ControlServer(asio::io_context& io, std::string path, Handler handler);
  void accept();

  asio::local::stream_protocol::acceptor acceptor_;
  asio::steady_timer retry_;
  std::string path_;
  Handler handler_;
  void session_closed(const std::shared_ptr<Session>& session);

  std::set<std::shared_ptr<Session>> sessions_;
  std::function<void()> drained_;
  std::uint64_t bad_requests_ = 0;
};

}  // namespace vigil::api
