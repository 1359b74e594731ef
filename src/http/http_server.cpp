#include "http/http_server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <asio/post.hpp>
#include <future>

#include "http/request_parsing.hpp"
#include "http/web_assets.hpp"

namespace vigil::http {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"ok", false}, {"error", message}, {"status", status}});
}

// Which route a request went to, for the request counter: a fixed, small set of labels.
std::string route_of(const httplib::Request& req) {
  const std::string& p = req.path;
  if (p == "/metrics") return "metrics";
  if (p == "/api/v1/stream") return "stream";
  if (p == "/api/v1/events") return "events";
  if (p == "/api/v1/report") return "report";
  if (p == "/api/v1/metrics/history") return "history";
  if (p == "/api/v1/components") return "components";
  if (p == "/api/v1/approvals") return "approvals";
  if (p.rfind("/api/v1/approvals/", 0) == 0) return "decision";
  if (p.rfind("/api/v1/components/", 0) == 0) {
    if (req.method == "POST") return "command";
    if (p.size() > 5 && p.compare(p.size() - 5, 5, "/logs") == 0) return "logs";
    return "component";
  }
  if (p.rfind("/api/", 0) == 0) return "unknown";
  return "dashboard";
}

// A component's node in the status tree, or null.
json find_node(const json& node, const std::string& name) {
  if (node.value("name", "") == name) return node;
  if (auto it = node.find("children"); it != node.end()) {
    for (const auto& child : *it) {
      auto found = find_node(child, name);
      if (!found.is_null()) return found;
    }
  }
  return nullptr;
}

json command_origin(const httplib::Request& req) {
  json origin = parse_command_body(req.body);
  origin["via"] = "http";
  origin["client"] = fmt::format("{}:{}", req.remote_addr, req.remote_port);
  return origin;
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, ApiBackend& backend, ApiToken token,
                       HttpServerOptions options)
    : io_(io),
      backend_(backend),
      token_(std::move(token)),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {}

HttpServer::~HttpServer() {
  stop();
}

std::string HttpServer::url() const {
  const auto& host = options_.listen.host;
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port_);
}

// Runs `f` on the event loop and returns its result (or rethrows its exception). Gives up with
// 503 when the loop does not answer within loop_timeout, or when the server is stopping (the
// loop itself may be the one stopping us). `f` must own everything it uses: after a timeout
// it may still run later.
template <typename F>
auto HttpServer::on_loop(F f) -> decltype(f()) {
  using T = decltype(f());
  auto promise = std::make_shared<std::promise<T>>();
  auto future = promise->get_future();
  asio::post(io_, [promise, f = std::move(f)]() mutable {
    try {
      if constexpr (std::is_void_v<T>) {
        f();
        promise->set_value();
      } else {
        promise->set_value(f());
      }
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + options_.loop_timeout;
  while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (stopping_) throw HttpError(503, "vigild is shutting down");
    if (std::chrono::steady_clock::now() > deadline) {
      throw HttpError(503, "vigild's event loop did not answer in time; try again");
    }
  }
  try {
    return future.get();
  } catch (const std::future_error&) {
    throw HttpError(503, "vigild is shutting down");
  }
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(asio::io_context& io, ApiBackend& backend,
                                                      ApiToken token, HttpServerOptions options) {
  std::unique_ptr<HttpServer> server(
      new HttpServer(io, backend, std::move(token), std::move(options)));
  auto& svr = *server->server_;
  const auto& o = server->options_;
  const int threads = o.worker_threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_read_timeout(o.io_timeout);
  svr.set_write_timeout(o.io_timeout);
  svr.set_keep_alive_timeout(o.keep_alive.count());
  svr.set_keep_alive_max_count(100);
  svr.set_payload_max_length(o.max_body_bytes);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second process
  // bind the same port and take a share of the connections (and the tokens sent on them).
  svr.set_socket_options([](int sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->install_routes();
  const auto& listen = o.listen;
  int port = listen.port;
  if (port == 0) {
    port = svr.bind_to_any_port(listen.host);
    if (port <= 0) port = -1;
  } else if (!svr.bind_to_port(listen.host, port)) {
    port = -1;
  }
  if (port < 0) {
    return make_error(
        fmt::format("http: cannot listen on {}:{} (address in use, or not an "
                    "address of this machine)",
                    listen.host, listen.port));
  }
  server->port_ = port;
  server->thread_ = std::thread([s = server.get()] { s->server_->listen_after_bind(); });
  return server;
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  // Open streams notice `stopping_` within half a second and end, so the pool can join.
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::install_routes() {
  auto& svr = *server_;
  const bool loopback = is_loopback_host(options_.listen.host);

  svr.set_pre_routing_handler([loopback](const httplib::Request& req, httplib::Response& res) {
    // DNS rebinding: a web page on evil.example whose name now resolves to 127.0.0.1 would
    // send "Host: evil.example". A dashboard reached directly or through a tunnel says an
    // address or localhost.
    if (loopback && req.has_header("Host") &&
        !is_ip_literal_or_localhost(host_of(req.get_header_value("Host")))) {
      send_error(res, 403,
                 "Host header must be an IP address or localhost (DNS rebinding protection)");
      return httplib::Server::HandlerResponse::Handled;
    }
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        send_error(res, 404,
                   fmt::format("no such endpoint: {} {}", req.method, req.path.substr(0, 200)));
        break;
      case 413:
        send_error(res, 413, "request body too large");
        break;
      case 414:
        send_error(res, 414, "request URI too long");
        break;
      case 400:
        send_error(res, 400, "malformed HTTP request (a POST needs a Content-Length, even 0)");
        break;
      default:
        send_error(res, res.status, fmt::format("HTTP {}", res.status));
    }
  });

  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const HttpError& e) {
          send_error(res, e.status, e.what());
        } catch (const std::exception& e) {
          spdlog::error("http: internal error: {}", e.what());
          send_error(res, 500, fmt::format("internal error: {}", e.what()));
        } catch (...) {
          send_error(res, 500, "internal error");
        }
      });

  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    asio::post(io_, [backend = &backend_, route = route_of(req), status = res.status] {
      backend->request_served(route, status);
    });
  });

  svr.Get("/api/v1/components", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {});
    send_json(res, 200, on_loop([b = &backend_] { return b->components(); }));
  });

  svr.Get(R"(/api/v1/components/([^/]+))", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
    allow_params(req.params, {});
    const std::string name = req.matches[1];
    auto status = on_loop([b = &backend_] { return b->components(); });
    auto node = find_node(status["tree"], name);
    if (node.is_null() && name == "host") node = status["host"];
    if (node.is_null()) {
      throw HttpError(404, fmt::format("no component or group named '{}'", name.substr(0, 100)));
    }
    send_json(res, 200, node);
  });

  svr.Get(R"(/api/v1/components/([^/]+)/logs)",
          [this](const httplib::Request& req, httplib::Response& res) {
            allow_params(req.params, {"lines"});
            const int lines = static_cast<int>(int_param(req.params, "lines", 1, 10000, 200));
            send_json(res, 200, on_loop([b = &backend_, name = std::string(req.matches[1]), lines] {
                        return b->logs(name, lines);
                      }));
          });

  // Every mutating call: 401 without a bearer token, 403 with a wrong one.
  auto require_token = [this](const httplib::Request& req, httplib::Response& res) {
    const std::string authorization = req.get_header_value("Authorization");
    const auto credential = bearer_credential(authorization);
    if (credential.empty()) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"vigil\"");
      throw HttpError(401,
                      "this call needs 'Authorization: Bearer TOKEN' (`vigil token` prints it)");
    }
    if (!token_.matches(credential)) throw HttpError(403, "wrong token");
  };

  auto command = [this, require_token](const httplib::Request& req, httplib::Response& res) {
    require_token(req, res);
    allow_params(req.params, {});
    auto origin = command_origin(req);
    send_json(res, 200,
              on_loop([b = &backend_, name = std::string(req.matches[1]),
                       verb = std::string(req.matches[2]),
                       origin = std::move(origin)] { return b->command(verb, name, origin); }));
  };
  svr.Post(R"(/api/v1/components/([^/]+)/(start|stop|restart))", command);
  svr.Get(R"(/api/v1/components/([^/]+)/(start|stop|restart))",
          [](const httplib::Request&, httplib::Response& res) {
            res.set_header("Allow", "POST");
            throw HttpError(405, "use POST (with the token) to command a component");
          });

  svr.Get("/api/v1/approvals", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {});
    send_json(res, 200, on_loop([b = &backend_] { return b->approvals(); }));
  });

  svr.Post(R"(/api/v1/approvals/([^/]+)/(approve|deny))",
           [this, require_token](const httplib::Request& req, httplib::Response& res) {
             require_token(req, res);
             allow_params(req.params, {});
             auto id = checked_approval_id(req.matches[1]);
             const bool approve = req.matches[2] == "approve";
             auto origin = command_origin(req);
             send_json(
                 res, 200,
                 on_loop([b = &backend_, id = std::move(id), approve, origin = std::move(origin)] {
                   return b->decide(id, approve, origin);
                 }));
           });
  svr.Get(R"(/api/v1/approvals/([^/]+)/(approve|deny))",
          [](const httplib::Request&, httplib::Response& res) {
            res.set_header("Allow", "POST");
            throw HttpError(405, "use POST (with the token) to answer an approval");
          });

  svr.Get("/api/v1/events", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {"component", "since", "after", "before", "limit"});
    EventsRequest q;
    q.component = text_param(req.params, "component");
    q.since_us = duration_param(req.params, "since", 0);
    q.after_id = int_param(req.params, "after", 0, INT64_MAX, 0);
    q.before_id = int_param(req.params, "before", 0, INT64_MAX, 0);
    q.limit = static_cast<int>(int_param(req.params, "limit", 1, 10000, 100));
    send_json(res, 200, on_loop([b = &backend_, q] { return b->events(q); }));
  });

  svr.Get("/api/v1/report", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {"since"});
    const auto since = duration_param(req.params, "since", 0);
    send_json(res, 200, on_loop([b = &backend_, since] { return b->report(since); }));
  });

  svr.Get("/api/v1/metrics/history", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {"component", "series", "since", "points"});
    HistoryRequest q;
    q.component = text_param(req.params, "component");
    q.series = text_param(req.params, "series");
    if (q.component.empty() || q.series.empty()) {
      throw HttpError(400, "history needs component= and series= (e.g. series=cpu_percent)");
    }
    q.since_us = duration_param(req.params, "since", q.since_us);
    q.max_points = static_cast<int>(int_param(req.params, "points", 2, 5000, q.max_points));
    send_json(res, 200, on_loop([b = &backend_, q] { return b->history(q); }));
  });

  svr.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {});
    res.set_content(on_loop([b = &backend_] { return b->metrics(); }),
                    "text/plain; version=0.0.4; charset=utf-8");
  });

  svr.Get("/api/v1/stream", [this](const httplib::Request& req, httplib::Response& res) {
    allow_params(req.params, {"last_event_id"});
    std::int64_t last = int_param(req.params, "last_event_id", 0, INT64_MAX, 0);
    if (req.has_header("Last-Event-ID")) {
      // A malformed header (not from a browser) means "no resume", not an error.
      if (auto id = parse_last_event_id(req.get_header_value("Last-Event-ID"))) last = *id;
    }
    auto client = on_loop([b = &backend_, last] { return b->open_stream(last); });
    if (!client) {
      res.set_header("Retry-After", "5");
      throw HttpError(503, "too many open streams");
    }
    res.set_header("X-Accel-Buffering", "no");
    // A stream ends only when vigild stops or drops the client: then close, do not linger.
    res.set_header("Connection", "close");
    const auto keepalive = options_.stream_keepalive;
    auto last_write =
        std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, client, keepalive, last_write](std::size_t, httplib::DataSink& sink) {
          // Called again and again by the worker until it returns false or calls done().
          const auto frames = client->next(std::min(keepalive, std::chrono::milliseconds(500)));
          if (!frames || stopping_) {
            sink.done();
            return true;
          }
          if (frames->empty()) {
            const auto now = std::chrono::steady_clock::now();
            if (now - *last_write < keepalive) return true;
            *last_write = now;
            static constexpr std::string_view kKeepAlive = ": keep-alive\n\n";
            return sink.write(kKeepAlive.data(), kKeepAlive.size());
          }
          for (const auto& f : *frames) {
            if (!sink.write(f->data(), f->size())) return false;
          }
          *last_write = std::chrono::steady_clock::now();
          return true;
        },
        [client](bool) { client->close(); });
  });

  // The dashboard: files compiled into vigild. Strict CSP: only vigild's own scripts, styles
  // and API; the page cannot be framed.
  svr.Get(R"(/(|[A-Za-z0-9_./-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    for (const auto& asset : web_assets()) {
      if (asset.path != path) continue;
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                     "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action "
                     "'none'");
      res.set_header("X-Frame-Options", "DENY");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_content(asset.data, asset.size, std::string(asset.content_type));
      return;
    }
    throw HttpError(404, fmt::format("no such page: {}", req.path.substr(0, 200)));
  });
}

}  // namespace vigil::http
