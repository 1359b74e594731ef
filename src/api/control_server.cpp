#include "api/control_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/read.hpp>
#include <asio/write.hpp>

namespace vigil::api {

Session::Session(asio::local::stream_protocol::socket socket, ControlServer& server)
    : socket_(std::move(socket)), server_(server) {}

void Session::start() {
  read();
}

void Session::read() {
  auto self = shared_from_this();
  socket_.async_read_some(
      asio::buffer(chunk_), [this, self](const std::error_code& ec, std::size_t n) {
        if (ec) {
          close();
          return;
        }
        inbuf_.append(chunk_.data(), n);
        std::size_t nl;
        while (!closed_ && (nl = inbuf_.find('\n')) != std::string::npos) {
          std::string line = inbuf_.substr(0, nl);
          inbuf_.erase(0, nl + 1);
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (!line.empty()) handle_line(line);
        }
        if (inbuf_.size() > kMaxRequestBytes) {
          ++server_.bad_requests_;
          send(error_response(fmt::format("request longer than {} bytes", kMaxRequestBytes)));
          inbuf_.clear();
          close();
          return;
        }
        if (!closed_) read();
      });
}

void Session::handle_line(const std::string& line) {
  if (streaming) return;  // a following session takes no further requests
  auto request = parse_request(line);
  if (!request) {
    ++server_.bad_requests_;
    send(error_response(request.error()));
    return;
  }
  std::optional<nlohmann::json> response;
  try {
    response = server_.handler_(*request, *this);
  } catch (const std::exception& e) {
    // No exception crosses the loop: an internal error becomes this client's error.
    spdlog::error("control request '{}' failed: {}", to_string(request->command), e.what());
    response = error_response(fmt::format("internal error: {}", e.what()));
  }
  if (response) send(*response);
}

void Session::send(const nlohmann::json& message) {
  if (closed_) return;
  std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  queued_bytes_ += line.size();
  if (queued_bytes_ > kMaxQueuedBytes) {
    spdlog::warn("control client is not reading; dropping it");
    close();
    return;
  }
  out_.push_back(std::move(line));
  if (!writing_) write_next();
}

void Session::write_next() {
  if (out_.empty() || closed_) {
    writing_ = false;
    if (close_after_drain_) close();
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [this, self](const std::error_code& ec, std::size_t) {
                      if (ec) {
                        close();
                        return;
                      }
                      queued_bytes_ -= out_.front().size();
                      out_.pop_front();
                      write_next();
                    });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  socket_.close(ignored);
  auto callbacks = std::move(on_close_);
  for (auto& fn : callbacks) fn();
  server_.session_closed(shared_from_this());
}

void Session::close_when_drained() {
  close_after_drain_ = true;
  if (!writing_) close();
}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(asio::io_context& io,
                                                             const std::string& path,
                                                             Handler handler) {
  ::unlink(path.c_str());
  std::unique_ptr<ControlServer> server;
  try {
    // Create the socket file with no access for others from the first instant.
    const mode_t old = ::umask(0177);
    server.reset(new ControlServer(io, path, std::move(handler)));
    ::umask(old);
  } catch (const std::system_error& e) {
    return make_error(fmt::format("listen on control socket {}: {}", path, e.what()));
  }
  ::chmod(path.c_str(), 0600);
  return server;
}

ControlServer::ControlServer(asio::io_context& io, std::string path, Handler handler)
    : acceptor_(io, asio::local::stream_protocol::endpoint(path)),
      retry_(io),
      path_(std::move(path)),
      handler_(std::move(handler)) {
  accept();
}

ControlServer::~ControlServer() {
  close_all();
  std::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  ::unlink(path_.c_str());
}

void ControlServer::close_all() {
  auto sessions = sessions_;
  for (const auto& s : sessions) s->close();
}

void ControlServer::drain(std::function<void()> done) {
  std::error_code ignored;
  acceptor_.close(ignored);
  drained_ = std::move(done);
  auto sessions = sessions_;
  for (const auto& s : sessions) s->close_when_drained();
  if (sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
}

void ControlServer::session_closed(const std::shared_ptr<Session>& session) {
  sessions_.erase(session);
  if (sessions_.empty() && drained_) std::exchange(drained_, nullptr)();
}

void ControlServer::accept() {
  acceptor_.async_accept(
      [this](const std::error_code& ec, asio::local::stream_protocol::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          auto session = std::make_shared<Session>(std::move(socket), *this);
          sessions_.insert(session);
          session->start();
        }
        accept();
      });
}

}  // namespace vigil::api
