#pragma once
// vigild's HTTP API, dashboard and /metrics (docs/HTTP.md).
//
// cpp-httplib parses and answers requests on its worker threads, but every read of vigild's
// state and every command runs on the event loop: a handler validates its request, posts a
// closure to the loop and waits for the answer (503 if the loop does not answer in time). So
// the HTTP layer adds no locks to the supervisor and cannot see a half-made change.
//
// Security: loopback by default; POSTs need `Authorization: Bearer TOKEN` (state_dir/token);
// no cookies, so no CSRF; no CORS headers, so other origins cannot read answers; on loopback
// the Host header must be an IP address or localhost, which defeats DNS rebinding.
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "config/spec.hpp"
#include "http/api_token.hpp"
#include "http/event_stream.hpp"
#include "http/request_parsing.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace vigil::http {

struct EventsRequest {
  std::string component;       // empty: all
  std::int64_t since_us = 0;   // a duration back from now; 0: no bound
  std::int64_t after_id = 0;   // newer than this id (following)
  std::int64_t before_id = 0;  // older than this id (paging back)
  int limit = 100;
};

struct HistoryRequest {
  std::string component;
  std::string series;
  std::int64_t since_us = 3'600'000'000;  // a duration back from now
  int max_points = 600;
};

// What the HTTP API asks of vigild. Every method runs on the event loop.
class ApiBackend {
 public:
  virtual ~ApiBackend() = default;
  virtual nlohmann::json components() = 0;  // {tree, host, daemon}
  virtual nlohmann::json events(const EventsRequest& request) = 0;
  virtual nlohmann::json report(std::int64_t since_us) = 0;
  virtual nlohmann::json logs(const std::string& component, int lines) = 0;
  // verb: start, stop or restart. `origin`: who asked, for the event log.
  virtual nlohmann::json command(const std::string& verb, const std::string& name,
                                 const nlohmann::json& origin) = 0;
  virtual nlohmann::json history(const HistoryRequest& request) = 0;
  // The recovery steps waiting for an operator: {"approvals": [...]} as in the status.
  virtual nlohmann::json approvals() = 0;
  // Answers pending approval `id`; HttpError 404 when no such approval is pending.
  virtual nlohmann::json decide(const std::string& id, bool approve,
                                const nlohmann::json& origin) = 0;
  virtual std::string metrics() = 0;
  // A new stream client that has been sent the events after `last_event_id` (when > 0) and
  // then a snapshot of the tree, with no event lost or repeated in between. Null when full.
  virtual std::shared_ptr<StreamClient> open_stream(std::int64_t last_event_id) = 0;
  // After each request (for vigil_http_requests_total).
  virtual void request_served(const std::string& route, int status) = 0;
};

struct HttpServerOptions {
  config::HttpSpec listen;
  // Worker threads: each open stream holds one, so this bounds streams + concurrent requests.
  int worker_threads = 80;
  std::size_t max_streams = 64;
  std::chrono::seconds io_timeout{5};  // reading a request, writing an answer
  std::chrono::seconds keep_alive{1};  // also how long stop() may wait for an idle connection
  std::size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds loop_timeout{5000};       // then 503
  std::chrono::milliseconds stream_keepalive{15000};  // a comment line on an idle stream
};

class HttpServer {
 public:
  // Binds and starts serving; the error names the address when it cannot bind.
  static Result<std::unique_ptr<HttpServer>> start(asio::io_context& io, ApiBackend& backend,
                                                   ApiToken token, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Ends streams, stops accepting, joins the workers. Safe to call on the loop: handlers
  // waiting for the loop give up instead of deadlocking.
  void stop();
  int port() const { return port_; }
  std::string url() const;  // http://HOST:PORT

 private:
  HttpServer(asio::io_context& io, ApiBackend& backend, ApiToken token, HttpServerOptions options);
  void install_routes();
  template <typename F>
  auto on_loop(F f) -> decltype(f());

  asio::io_context& io_;
  ApiBackend& backend_;
  ApiToken token_;
  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
};

}  // namespace vigil::http
