#include "alerts/exec_target.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

#include "daemon/pidfd_runner.hpp"
#include "process/spawn.hpp"

namespace vigil::alerts {

ExecLauncher make_process_launcher(Scheduler& scheduler, daemon::PidfdRunner& runner,
                                   Duration timeout) {
  return [&scheduler, &runner, timeout](const std::vector<std::string>& argv,
                                        std::vector<std::string> env, ExecDone done) {
    process::SpawnRequest request;
    request.argv = argv;
    request.env = std::move(env);
    request.cwd = "/";
    auto spawned = process::spawn(request);
    if (!spawned.process) {
      scheduler.post([done = std::move(done), message = spawned.error.message] {
        done(false, "could not start: " + message);
      });
      return;
    }
    const pid_t pid = spawned.process->pid;
    auto timer = std::make_shared<Timer>(scheduler);
    // A hook that hangs must not hold up the alerts behind it.
    timer->arm_after(timeout, [pid] { process::signal_group(pid, SIGKILL); });
    runner.watch_child(std::move(*spawned.process), "alert-hook",
                       [timer, done = std::move(done)](const process::ExitStatus& status) {
                         timer->cancel();
                         done(status.clean(), status.describe());
                       });
  };
}

std::vector<std::string> hook_environment(const Delivery& delivery) {
  std::string name;
  try {
    name = nlohmann::json::parse(delivery.body).value("alertname", "");
  } catch (const std::exception&) {
  }
  return {"PATH=/usr/local/bin:/usr/bin:/bin", "VIGIL_ALERT=" + delivery.body,
          "VIGIL_ALERT_STATUS=" + delivery.status, "VIGIL_ALERT_NAME=" + name};
}

ExecTarget::ExecTarget(Scheduler& scheduler, std::vector<std::string> argv, RetryPolicy retry,
                       ExecLauncher launch, OnResult on_result, std::size_t capacity)
    : scheduler_(scheduler),
      argv_(std::move(argv)),
      retry_(retry),
      launch_(std::move(launch)),
      on_result_(std::move(on_result)),
      outbox_(capacity),
      retry_timer_(scheduler),
      rng_(std::random_device{}()) {}

ExecTarget::~ExecTarget() {
  stop(std::chrono::milliseconds(0));
}

void ExecTarget::submit(Delivery delivery) {
  if (stopped_) return;
  if (outbox_.push(std::move(delivery)) == Outbox::Pushed::dropped_oldest) {
    ++stats_.dropped;
    spdlog::warn("alerts: exec outbox full: dropped its oldest alert ({} dropped so far)",
                 stats_.dropped);
  }
  if (!current_) start_next();
}

void ExecTarget::stop(std::chrono::milliseconds /*budget*/) {
  if (stopped_) return;
  stopped_ = true;
  retry_timer_.cancel();
  const std::size_t left = outbox_.clear() + (current_ && !running_ ? 1 : 0);
  stats_.dropped += left;
  if (left > 0) spdlog::warn("alerts: exec hook stopped with {} alert(s) not run", left);
}

void ExecTarget::start_next() {
  current_.reset();
  if (stopped_) return;
  auto next = outbox_.pop();
  if (!next) return;
  current_ = std::move(next);
  result_ = DeliveryResult{name_, current_->key, current_->status};
  first_attempt_ = scheduler_.now();
  launch();
}

void ExecTarget::launch() {
  if (stopped_ || !current_) return;
  ++result_.attempts;
  running_ = true;
  std::weak_ptr<bool> alive = alive_;
  launch_(argv_, hook_environment(*current_), [this, alive](bool ok, std::string what) {
    if (alive.expired()) return;
    on_finished(ok, std::move(what));
  });
}

void ExecTarget::on_finished(bool ok, std::string what) {
  running_ = false;
  if (stopped_) return;
  if (ok) {
    result_.delivered = true;
    result_.error.clear();
    ++stats_.delivered;
    if (on_result_) on_result_(result_);
    start_next();
    return;
  }
  result_.error = fmt::format("hook {} {}", argv_.front(), what);
  const Duration delay =
      retry_delay(retry_, result_.attempts, std::uniform_real_distribution<double>(0, 1)(rng_));
  if (scheduler_.now() + delay - first_attempt_ > retry_.give_up_after) {
    ++stats_.given_up;
    spdlog::error("alerts: exec gave up on {} ({}) after {} attempt(s): {}", result_.key,
                  result_.status, result_.attempts, result_.error);
    if (on_result_) on_result_(result_);
    start_next();
    return;
  }
  if (result_.attempts == 1) {
    spdlog::warn("alerts: exec: {}; retrying with backoff", result_.error);
  }
  ++stats_.retries;
  retry_timer_.arm_after(delay, [this] { launch(); });
}

}  // namespace vigil::alerts
