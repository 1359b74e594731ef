#pragma once
// The real ProcessRunner: spawns components (process/spawn), watches each main process's
// pidfd on the Asio loop, captures output through one pipe per component into its OutputLog,
// and — as the child subreaper — reaps orphaned descendants on SIGCHLD.
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "process/output_log.hpp"
#include "process/spawn.hpp"
#include "resources/limits.hpp"
#include "supervisor/process_runner.hpp"

namespace vigil::daemon {

struct RunnerOptions {
  std::string logs_dir;
  std::string run_dir;        // output FIFOs
  std::string notify_socket;  // exported as NOTIFY_SOCKET
  std::string mode_file;      // exported as VIGIL_MODE_FILE (the system mode, for components)
};

class PidfdRunner final : public supervisor::ProcessRunner {
 public:
  // Called for a reaped descendant that was not a main process. `component` is empty when the
  // orphan cannot be attributed.
  using OrphanCallback =
      std::function<void(const std::string& component, pid_t pid, const process::ExitStatus&)>;

  PidfdRunner(asio::io_context& io, RunnerOptions options, OrphanCallback on_orphan);
  ~PidfdRunner() override;

  supervisor::LaunchResult launch(const config::ComponentSpec& spec, ExitCallback on_exit) override;
  // Prepares every request, spawns them back to back, then registers them: the spawns are
  // not interleaved with bookkeeping. (Spawning from parallel threads was measured slower on
  // a 2-core machine: concurrent vforks contend on the shared address space.)
  std::vector<supervisor::LaunchResult> launch_many(
      const std::vector<supervisor::LaunchRequest>& requests) override;
  bool adopt(const config::ComponentSpec& spec, pid_t pid, std::uint64_t start_time,
             ExitCallback on_exit) override;
  void kill_leftover(pid_t pid, std::uint64_t start_time) override;
  void signal_group(pid_t pgid, int sig) override;
  std::vector<std::string> output_tail(const std::string& component, std::size_t n) override;
  bool oom_killed(const std::string& component, pid_t pid) override;
  void capture_stacks(const std::string& component, pid_t session, Duration budget,
                      std::function<void(nlohmann::json)> done) override;

  // Watches a child vigild spawned for itself (a probe command): reaped and reported like a
  // component's main process, so the SIGCHLD reaper never mistakes it for an orphan.
  void watch_child(process::SpawnedProcess child, std::string label, ExitCallback on_exit);

  // For `vigil logs`: nullptr if the component has never run.
  process::OutputLog* output(const std::string& component);

 private:
  struct Watched {
    std::string component;
    std::unique_ptr<asio::posix::stream_descriptor> pidfd;
    ExitCallback on_exit;
    bool adopted = false;
  };
  struct Capture;

  Capture& capture_for(const config::ComponentSpec& spec);
  process::SpawnRequest request_for(const config::ComponentSpec& spec);
  supervisor::LaunchResult finish_spawn(const config::ComponentSpec& spec,
                                        process::SpawnResult spawned, ExitCallback on_exit);
  void watch(pid_t pid, int pidfd, std::string component, ExitCallback on_exit, bool adopted);
  void on_pidfd_ready(pid_t pid);
  void finish(pid_t pid, const process::ExitStatus& status);
  void remember_session(pid_t session, const std::string& component);
  void wait_sigchld();
  void reap_orphans();
  std::vector<std::string> base_environment() const;

  asio::io_context& io_;
  RunnerOptions options_;
  OrphanCallback on_orphan_;
  asio::signal_set sigchld_;
  std::unordered_map<pid_t, Watched> watched_;
  std::map<std::string, std::unique_ptr<Capture>> captures_;
  std::vector<std::string> base_env_;
  // Session id -> component, for every session vigild created (most recent 4096). Linux does
  // not reuse a pid while it still names a living process's session, so an orphan's session
  // says which component it came from even after that component restarted.
  std::unordered_map<pid_t, std::string> sessions_;
  std::deque<pid_t> session_order_;
  // cgroup v2 limits: detected on first need; one cgroup per component, kept across restarts.
  std::optional<resources::CgroupManager> cgroups_manager_;
  std::map<std::string, resources::ComponentCgroup> cgroups_;
  std::map<std::string, std::string> cgroup_warned_;  // component -> reason already logged
  // OOM attribution: the kernel's global oom_kill count when each component last started.
  std::map<std::string, std::uint64_t> oom_kills_at_spawn_;
  std::map<std::string, std::uint64_t> cgroup_oom_kills_at_spawn_;
  void apply_limits(const config::ComponentSpec& spec, process::SpawnRequest& request);
};

}  // namespace vigil::daemon
