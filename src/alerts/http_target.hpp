#pragma once
// Posts deliveries to an HTTP endpoint (Alertmanager or a webhook) from one worker thread,
// so a slow or dead endpoint never holds up the event loop. Results go back to the loop
// through `post`. Stopping wakes the worker and interrupts a request in flight (its socket
// is shut down), so shutdown never waits for a connect or read timeout.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "alerts/target.hpp"

namespace vigil::alerts {

struct HttpTargetOptions {
  std::string name;  // alertmanager | webhook: for logs and results
  std::string url;   // where to POST: http(s)://host[:port][/path]
  RetryPolicy retry;
  std::size_t capacity = 256;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{5000};
};

class HttpTarget final : public Target {
 public:
  // `post` and `on_result` may be empty (no results wanted).
  HttpTarget(HttpTargetOptions options, PostToLoop post, OnResult on_result);
  ~HttpTarget() override;

  const std::string& name() const override { return options_.name; }
  void submit(Delivery delivery) override;
  void stop(std::chrono::milliseconds budget) override;
  TargetStats stats() const override;

 private:
  void run();
  // One POST; false with `error` set when it failed. `permanent`: retrying cannot help.
  bool attempt(const Delivery& delivery, std::string& error, bool& permanent);
  void report(DeliveryResult result);

  HttpTargetOptions options_;
  std::string scheme_host_port_;
  std::string path_;
  PostToLoop post_;
  std::shared_ptr<OnResult> on_result_;
  std::weak_ptr<OnResult> result_sink_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Outbox outbox_;
  bool stopping_ = false;
  bool busy_ = false;
  int in_flight_socket_ = -1;  // our dup of the request's socket: shut down to interrupt it
  TargetStats stats_;
  std::mt19937_64 rng_;  // worker thread only
  std::thread worker_;
};

}  // namespace vigil::alerts
