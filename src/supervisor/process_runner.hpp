#pragma once
// What the supervisor needs from the operating system, behind an interface so supervision
// logic is testable in simulated time. vigild's implementation (daemon/pidfd_runner) spawns
// real processes and watches their pidfds on the event loop.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "config/spec.hpp"
#include "process/exit_status.hpp"

namespace vigil::supervisor {

struct LaunchResult {
  pid_t pid = 0;                 // 0: not started, see error
  std::uint64_t start_time = 0;  // /proc start time, to recognise this process after a restart
  int error_number = 0;
  std::string error;
};

using ExitCallback = std::function<void(const process::ExitStatus&)>;

struct LaunchRequest {
  const config::ComponentSpec* spec;
  ExitCallback on_exit;
};

class ProcessRunner {
 public:
  using ExitCallback = supervisor::ExitCallback;
  virtual ~ProcessRunner() = default;
  // Starts the component's command in a new session/process group. on_exit runs once, on the
  // loop, after the main process has exited and been reaped.
  virtual LaunchResult launch(const config::ComponentSpec& spec, ExitCallback on_exit) = 0;
  // Starts several at once, results in the same order (vigild spawns them back to back).
  virtual std::vector<LaunchResult> launch_many(const std::vector<LaunchRequest>& requests) {
    std::vector<LaunchResult> results;
    results.reserve(requests.size());
    for (const auto& r : requests) results.push_back(launch(*r.spec, r.on_exit));
    return results;
  }
  // Watches a process that is not vigild's child (left by a previous vigild). False if it is
  // gone or is not the recorded process.
  virtual bool adopt(const config::ComponentSpec& spec, pid_t pid, std::uint64_t start_time,
                     ExitCallback on_exit) = 0;
  virtual void signal_group(pid_t pgid, int sig) = 0;
  // Kills the process group of a process a previous vigild left running, if `pid` is still
  // that process (its start time): a duplicate of a component that must not run twice.
  virtual void kill_leftover(pid_t /*pid*/, std::uint64_t /*start_time*/) {}
  virtual std::vector<std::string> output_tail(const std::string& component, std::size_t n) = 0;
  // Whether the kernel's OOM killer killed this main process (it died of SIGKILL that vigild
  // did not send).
  virtual bool oom_killed(const std::string& /*component*/, pid_t /*pid*/) { return false; }
  // Captures the stack of every thread of every process of a component's tree (its session)
  // within `budget`, for the evidence of a hang. `done` runs once, on the loop, possibly
  // before this returns; its JSON says what was captured or why not.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): a sink; implementations keep it
  virtual void capture_stacks(const std::string& /*component*/, pid_t /*session*/,
                              Duration /*budget*/, std::function<void(nlohmann::json)> done) {
    done({{"error", "stack capture is not available"}});
  }
};

// A readiness/liveness probe in flight (tcp connect or exec). Destroying it cancels it.
class Probe {
 public:
  virtual ~Probe() = default;
};

class Prober {
 public:
  using Callback = std::function<void(bool ok, const std::string& detail)>;
  virtual ~Prober() = default;
  virtual std::unique_ptr<Probe> run(const config::ComponentSpec& spec, Callback done) = 0;
};

}  // namespace vigil::supervisor
