#pragma once
// Runs the operator's hook command for each alert. The alert JSON (the webhook body) is in the
// environment variable VIGIL_ALERT: vigild starts every child with stdin on /dev/null
// (process/spawn). The hook is exec'd with argv (never a shell), one at a time in order,
// killed after 30 s, retried with backoff while it exits non-zero.
//
// Children of vigild must be spawned and reaped on the event loop (vigild is a child
// subreaper that reaps orphans): the launcher runs there, and this target lives there too.
#include <memory>
#include <random>
#include <vector>

#include "alerts/target.hpp"
#include "common/scheduler.hpp"

namespace vigil::daemon {
class PidfdRunner;
}

namespace vigil::alerts {

// Starts argv with env and calls `done` on the loop when it has finished: ok is a clean exit,
// `what` describes the outcome. Must never call `done` inline.
using ExecDone = std::function<void(bool ok, std::string what)>;
using ExecLauncher = std::function<void(const std::vector<std::string>& argv,
                                        std::vector<std::string> env, ExecDone done)>;

// The real launcher: process::spawn, watched by the daemon's runner, SIGKILL after `timeout`.
ExecLauncher make_process_launcher(Scheduler& scheduler, daemon::PidfdRunner& runner,
                                   Duration timeout = std::chrono::seconds(30));

// The environment a hook runs with: PATH, VIGIL_ALERT (the JSON body), VIGIL_ALERT_STATUS,
// VIGIL_ALERT_NAME.
std::vector<std::string> hook_environment(const Delivery& delivery);

class ExecTarget final : public Target {
 public:
  ExecTarget(Scheduler& scheduler, std::vector<std::string> argv, RetryPolicy retry,
             ExecLauncher launch, OnResult on_result, std::size_t capacity = 256);
  ~ExecTarget() override;

  const std::string& name() const override { return name_; }
  void submit(Delivery delivery) override;
  // Hooks need the loop to run: stop() does not wait; a hook already running finishes (or is
  // killed at its timeout) on its own.
  void stop(std::chrono::milliseconds budget) override;
  TargetStats stats() const override { return stats_; }

 private:
  void start_next();
  void launch();
  void on_finished(bool ok, std::string what);

  Scheduler& scheduler_;
  std::string name_ = "exec";
  std::vector<std::string> argv_;
  RetryPolicy retry_;
  ExecLauncher launch_;
  OnResult on_result_;
  Outbox outbox_;
  Timer retry_timer_;
  std::optional<Delivery> current_;
  DeliveryResult result_;
  TimePoint first_attempt_{};
  bool running_ = false;
  bool stopped_ = false;
  TargetStats stats_;
  std::mt19937_64 rng_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vigil::alerts
