#include "alerts/http_target.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::alerts {

namespace {

// "http://host:9093/prefix" -> {"http://host:9093", "/prefix"}
std::pair<std::string, std::string> split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto path_start = url.find('/', host_start);
  if (path_start == std::string::npos) return {url, "/"};
  return {url.substr(0, path_start), url.substr(path_start)};
}

}  // namespace

HttpTarget::HttpTarget(HttpTargetOptions options, PostToLoop post, OnResult on_result)
    : options_(std::move(options)),
      post_(std::move(post)),
      on_result_(on_result ? std::make_shared<OnResult>(std::move(on_result)) : nullptr),
      result_sink_(on_result_),
      outbox_(options_.capacity),
      rng_(std::random_device{}()) {
  std::tie(scheme_host_port_, path_) = split_url(options_.url);
  worker_ = std::thread([this] { run(); });
}

HttpTarget::~HttpTarget() {
  stop(std::chrono::milliseconds(0));
  on_result_.reset();  // results still queued on the loop find nobody to call
}

void HttpTarget::submit(Delivery delivery) {
  Outbox::Pushed pushed;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    pushed = outbox_.push(std::move(delivery));
    if (pushed == Outbox::Pushed::dropped_oldest) dropped = ++stats_.dropped;
    if (pushed == Outbox::Pushed::replaced) ++stats_.superseded;
  }
  wake_.notify_all();
  if (pushed == Outbox::Pushed::dropped_oldest) {
    spdlog::warn("alerts: {} outbox full ({}): dropped its oldest alert ({} dropped so far)",
                 options_.name, options_.capacity, dropped);
  }
}

void HttpTarget::stop(std::chrono::milliseconds budget) {
  std::size_t left = 0;
  {
    std::unique_lock lock(mutex_);
    if (!worker_.joinable()) return;
    if (budget.count() > 0) {
      wake_.wait_for(lock, budget, [this] { return outbox_.empty() && !busy_; });
    }
    stopping_ = true;
    left = outbox_.clear();
    stats_.dropped += left;
    // Interrupts a connect or read in progress: the worker's request fails at once.
    if (in_flight_socket_ >= 0) ::shutdown(in_flight_socket_, SHUT_RDWR);
  }
  wake_.notify_all();
  worker_.join();
  if (left > 0) {
    spdlog::warn("alerts: {} stopped with {} undelivered alert(s)", options_.name, left);
  }
}

TargetStats HttpTarget::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void HttpTarget::run() {
  for (;;) {
    Delivery delivery;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !outbox_.empty(); });
      if (stopping_) return;
      delivery = *outbox_.pop();
      busy_ = true;
    }
    DeliveryResult result{options_.name, delivery.key, delivery.status};
    bool superseded = false;
    const auto first_attempt = MonoClock::now();
    for (;;) {
      ++result.attempts;
      bool permanent = false;
      if (attempt(delivery, result.error, permanent)) {
        result.delivered = true;
        result.error.clear();
        break;
      }
      if (permanent) break;
      if (result.attempts == 1) {
        spdlog::warn("alerts: {}: {}; retrying with backoff", options_.name, result.error);
      }
      const Duration delay = retry_delay(options_.retry, result.attempts,
                                         std::uniform_real_distribution<double>(0, 1)(rng_));
      const auto retry_at = MonoClock::now() + delay;
      if (retry_at - first_attempt > options_.retry.give_up_after) break;
      std::unique_lock lock(mutex_);
      ++stats_.retries;
      const bool woken = wake_.wait_until(lock, retry_at,
                                          [&] { return stopping_ || outbox_.has_newer(delivery); });
      if (stopping_) {
        ++stats_.dropped;
        busy_ = false;
        return;
      }
      if (woken) {  // a newer state of this alert is queued: send that instead
        ++stats_.superseded;
        superseded = true;
        break;
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (result.delivered) {
        ++stats_.delivered;
      } else if (!superseded) {
        ++stats_.given_up;
      }
      busy_ = false;
    }
    wake_.notify_all();
    if (superseded) continue;  // the newer delivery will report
    if (!result.delivered) {
      spdlog::error("alerts: {} gave up on {} ({}) after {} attempt(s): {}", options_.name,
                    result.key, result.status, result.attempts, result.error);
    }
    report(std::move(result));
  }
}

bool HttpTarget::attempt(const Delivery& delivery, std::string& error, bool& permanent) {
  httplib::Client client(scheme_host_port_);
  if (!client.is_valid()) {
    error = fmt::format("invalid URL {}", options_.url);
    permanent = true;
    return false;
  }
  client.set_keep_alive(false);
  client.set_connection_timeout(options_.connect_timeout);
  client.set_read_timeout(options_.read_timeout);
  client.set_write_timeout(options_.read_timeout);
  // Keeps a duplicate of the request's socket, so stop() can shut it down while the worker
  // waits in connect or read (the duplicate stays ours, so it can never name a reused fd).
  client.set_socket_options([this](int sock) {
    const int dup = ::fcntl(sock, F_DUPFD_CLOEXEC, 0);
    std::lock_guard lock(mutex_);
    if (in_flight_socket_ >= 0) ::close(in_flight_socket_);
    in_flight_socket_ = dup;
    if (stopping_ && dup >= 0) ::shutdown(dup, SHUT_RDWR);
  });
  auto response = client.Post(path_, delivery.body, "application/json");
  {
    std::lock_guard lock(mutex_);
    if (in_flight_socket_ >= 0) ::close(in_flight_socket_);
    in_flight_socket_ = -1;
  }
  if (!response) {
    error = fmt::format("POST {}: {} error", options_.url, httplib::to_string(response.error()));
    return false;
  }
  if (response->status >= 200 && response->status < 300) return true;
  error = fmt::format("POST {}: HTTP {} {}", options_.url, response->status,
                      response->body.substr(0, 200));
  // A request the endpoint refuses (bad payload) will be refused again; timeouts and rate
  // limits are worth retrying.
  permanent = response->status >= 400 && response->status < 500 && response->status != 408 &&
              response->status != 429;
  return false;
}

void HttpTarget::report(DeliveryResult result) {
  if (!post_ || result_sink_.expired()) return;
  post_([sink = result_sink_, result = std::move(result)] {
    if (auto callback = sink.lock()) (*callback)(result);
  });
}

}  // namespace vigil::alerts
