#pragma once
// Simulated time and a simulated operating system for supervision logic. Used only in unit
// tests, where the point is to step through backoff and intensity windows of minutes in
// microseconds; every behaviour here is also covered with real processes in tests/integration.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "common/scheduler.hpp"
#include "supervisor/process_runner.hpp"
#include "supervisor/supervisor.hpp"

namespace vigil::testing {

class ManualScheduler final : public Scheduler {
 public:
  TimePoint now() const override { return now_; }
  std::int64_t wall_now_us() const override {
    return 1'700'000'000'000'000 +
           std::chrono::duration_cast<std::chrono::microseconds>(now_.time_since_epoch()).count();
  }
  TimerId call_at(TimePoint when, std::function<void()> fn) override {
    const TimerId id = next_++;
    timers_.emplace(id, Entry{when, std::move(fn)});
    return id;
  }
  void cancel(TimerId id) override { timers_.erase(id); }
  void post(std::function<void()> fn) override { posted_.push_back(std::move(fn)); }

  // Runs posted work and due timers until nothing is left at the current time.
  void settle() {
    for (;;) {
      if (!posted_.empty()) {
        auto batch = std::move(posted_);
        posted_.clear();
        for (auto& fn : batch) fn();
        continue;
      }
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.when <= now_ &&
            (due == timers_.end() || it->second.when < due->second.when)) {
          due = it;
        }
      }
      if (due == timers_.end()) return;
      auto fn = std::move(due->second.fn);
      timers_.erase(due);
      fn();
    }
  }
  // Advances time by d, firing timers in order.
  void advance(Duration d) {
    const TimePoint end = now_ + d;
    for (;;) {
      settle();
      TimePoint next = end;
      for (const auto& [id, e] : timers_) next = std::min(next, e.when);
      if (next >= end) break;
      now_ = next;
    }
    now_ = end;
    settle();
  }

 private:
  struct Entry {
    TimePoint when;
    std::function<void()> fn;
  };
  TimePoint now_{std::chrono::hours(1)};
  TimerId next_ = 1;
  std::map<TimerId, Entry> timers_;
  std::vector<std::function<void()>> posted_;
};

class FakeRunner final : public supervisor::ProcessRunner {
 public:
  struct Process {
    std::string component;
    pid_t pid;
    ExitCallback on_exit;
    bool alive = true;
    std::vector<int> signals;
    std::map<std::string, std::string> env;  // as launched (the supervisor may add to it)
  };

  supervisor::LaunchResult launch(const config::ComponentSpec& spec,
                                  ExitCallback on_exit) override {
    if (fail_exec.count(spec.name)) return {0, 0, ENOENT, "execve: No such file or directory"};
    const pid_t pid = next_pid_++;
    processes[pid] = {spec.name, pid, std::move(on_exit), true, {}, spec.env};
    launches.push_back(spec.name);
    return {pid, 1000u + static_cast<unsigned>(pid), 0, ""};
  }
  bool adopt(const config::ComponentSpec&, pid_t, std::uint64_t, ExitCallback) override {
    return false;
  }
  void signal_group(pid_t pgid, int sig) override {
    auto it = processes.find(pgid);
    if (it == processes.end() || !it->second.alive) return;
    it->second.signals.push_back(sig);
    if (sig == SIGCONT) return;
    if (sig == SIGKILL || !ignores_term.count(it->second.component)) {
      exit(pgid, sig == SIGTERM ? process::ExitStatus::exited_with(0)
                                : process::ExitStatus::killed_by(sig));
    }
  }
  std::vector<std::string> output_tail(const std::string&, std::size_t) override { return {}; }
  // Main pids the "kernel" killed for want of memory.
  std::set<pid_t> oom_victims;
  bool oom_killed(const std::string&, pid_t pid) override { return oom_victims.count(pid) != 0; }

  // The process exits (its exit is reported like a pidfd would: after the current callback).
  void exit(pid_t pid, process::ExitStatus status) {
    auto& p = processes.at(pid);
    if (!p.alive) return;
    p.alive = false;
    scheduler->post([cb = p.on_exit, status] { cb(status); });
  }
  pid_t pid_of(const std::string& component) const {
    pid_t last = 0;
    for (const auto& [pid, p] : processes) {
      if (p.component == component && p.alive) last = pid;
    }
    return last;
  }
  int launches_of(const std::string& component) const {
    return static_cast<int>(std::count(launches.begin(), launches.end(), component));
  }

  ManualScheduler* scheduler = nullptr;
  std::map<pid_t, Process> processes;
  std::vector<std::string> launches;
  std::set<std::string> fail_exec;
  std::set<std::string> ignores_term;

 private:
  pid_t next_pid_ = 100;
};

class NoProber final : public supervisor::Prober {
 public:
  std::unique_ptr<supervisor::Probe> run(const config::ComponentSpec&, Callback) override {
    return nullptr;
  }
};

}  // namespace vigil::testing
