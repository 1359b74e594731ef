#pragma once
// The validated description of a robot's programs: what the loader produces and the
// supervisor consumes. Plain data; equality is what `reload` uses to find changed components.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/units.hpp"

namespace vigil::config {

using namespace std::chrono_literals;

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  bool operator==(const SourceLocation&) const = default;
};

// OTP supervisor strategies: which siblings restart with a failed child.
enum class Strategy {
  one_for_one,   // only the failed child
  one_for_all,   // every child of the group
  rest_for_one,  // the failed child and the children declared after it
};

// OTP restart types: whether an exit leads to a restart.
enum class RestartType {
  permanent,  // always restarted
  transient,  // restarted only after an abnormal exit (non-zero code, signal, hang, ...)
  temporary,  // never restarted
};

// What the root does when its restart intensity is exceeded.
enum class FinalAction {
  stop,   // stop everything in reverse dependency order and mark it given_up
  retry,  // keep restarting the whole tree at the maximum backoff, forever
};

// delay(n) = min(max, initial * factor^(n-1)) * (1 + jitter * U(-1, 1)) for the n-th
// consecutive failure; n resets to 0 after `reset_after` of uninterrupted running.
struct BackoffSpec {
  Duration initial = 100ms;
  Duration max = 30s;
  double factor = 2.0;
  double jitter = 0.1;
  Duration reset_after = 30s;
  bool operator==(const BackoffSpec&) const = default;
};

struct ReadySpec {
  enum class Kind { none, notify, tcp, exec };
  Kind kind = Kind::none;
  std::string host;               // tcp
  std::uint16_t port = 0;         // tcp
  std::vector<std::string> exec;  // exec probe argv
  Duration period = 1s;           // probe period (tcp, exec)
  Duration timeout = 1s;          // one probe's time limit (tcp, exec)
  int failure_threshold = 3;      // consecutive probe failures after ready that count as a failure
  bool operator==(const ReadySpec&) const = default;
};

// How a component's liveness is judged from its heartbeats (WATCHDOG=1) and watched loops.
enum class DetectorKind {
  fixed,  // a hang is `timeout` without a heartbeat
  phi,    // phi-accrual over inter-arrival times; `timeout`, when given, is a hard upper bound
};

struct PhiSpec {
  double threshold = 8.0;                     // hang at phi >= threshold (P(late) <= 10^-threshold)
  std::optional<double> warn_threshold;       // WARN at phi >= this; default threshold - 3
  int window = 1000;                          // inter-arrival times remembered
  Duration min_std = 50ms;                    // floor for the standard deviation
  Duration acceptable_pause = 0s;             // added to the mean interval
  std::optional<Duration> expected_interval;  // bootstrap; default timeout / 2, or 1s
  bool operator==(const PhiSpec&) const = default;
};

struct WatchdogSpec {
  std::optional<Duration> timeout;  // no timeout: heartbeats are not required (unless phi)
  DetectorKind detector = DetectorKind::fixed;
  PhiSpec phi;
  // The "soft watchdog": WARN before the hang. Fixed timeout: after `warn_after` of silence
  // (off unless given). Phi: at phi.warn_threshold (default threshold - 3); `warn: false`
  // turns it off.
  bool warn = true;
  std::optional<Duration> warn_after;
  std::map<std::string, Duration> loops;  // watched loops declared in the config: name -> deadline
  int signal = SIGABRT;  // sent to a hung process (as systemd's WatchdogSignal); SIGKILL follows
  // Time a hung process gets after `signal` (e.g. to write a core dump) before SIGKILL, as
  // systemd's TimeoutAbortSec; default: stop.timeout.
  std::optional<Duration> abort_timeout;
  bool stacks = true;                               // capture every thread's stack before the kill
  Duration stack_budget = std::chrono::seconds(3);  // total time allowed for the capture
  bool operator==(const WatchdogSpec&) const = default;

  // Whether anything is watched at all once the component is ready.
  bool enabled() const { return timeout || detector == DetectorKind::phi || !loops.empty(); }
};

struct StopSpec {
  int signal = SIGTERM;
  Duration timeout = 5s;  // then SIGKILL to the whole process group
  bool operator==(const StopSpec&) const = default;
};

struct OutputSpec {
  std::uint64_t max_size = 10ull << 20;  // rotate the log file at this size
  int keep = 3;                          // rotated files kept: NAME.log.1 ... NAME.log.N
  int tail_lines = 20;                   // lines of output attached to a failure event
  bool operator==(const OutputSpec&) const = default;
};

struct ComponentSpec {
  std::string name;
  std::vector<std::string> command;  // argv; command[0] resolved to an absolute path
  std::map<std::string, std::string> env;
  std::string cwd;  // absolute
  RestartType restart = RestartType::permanent;
  BackoffSpec backoff;
  ReadySpec ready;
  Duration start_timeout = 30s;
  WatchdogSpec watchdog;
  // After readiness, neither the watchdog nor the resource monitors fail the component for
  // this long: start-up spikes are not failures.
  Duration grace = 0s;
  StopSpec stop;
  std::vector<std::string> after;
  OutputSpec output;
  SourceLocation location;

  // Equal when a running process need not be restarted (the location may move).
  bool same_behaviour(const ComponentSpec& other) const;
  // Names what the process was started with (command, env, cwd, watchdog): recorded with a
  // live process, so that a vigild adopting it can tell whether the config changed meanwhile.
  std::string process_fingerprint() const;
};

struct IntensitySpec {
  int restarts = 5;
  Duration within = 30s;
  bool operator==(const IntensitySpec&) const = default;
};

struct NodeSpec;

struct GroupSpec {
  std::string name;
  Strategy strategy = Strategy::one_for_one;
  IntensitySpec intensity;
  BackoffSpec backoff;  // delay before the parent restarts this group after it failed
  std::vector<std::string> after;
  std::vector<NodeSpec> children;
  SourceLocation location;
};

struct NodeSpec {
  std::variant<ComponentSpec, GroupSpec> node;
  const std::string& name() const;
};

struct EventLogSpec {
  std::int64_t max_events = 1'000'000;
  Duration max_age = std::chrono::hours(24 * 90);
};

struct SystemSpec {
  std::string source_file;  // absolute path of the config
  std::string state_dir;    // absolute
  GroupSpec root;
  FinalAction final_action = FinalAction::stop;
  EventLogSpec event_log;
};

const char* to_string(Strategy s);
const char* to_string(RestartType r);
const char* to_string(FinalAction a);
const char* to_string(ReadySpec::Kind k);
const char* to_string(DetectorKind k);

// Visits every component of the tree in declaration order.
template <typename F>
void for_each_component(const GroupSpec& group, F&& f) {
  for (const auto& child : group.children) {
    if (const auto* c = std::get_if<ComponentSpec>(&child.node)) {
      f(*c);
    } else {
      for_each_component(std::get<GroupSpec>(child.node), f);
    }
  }
}

}  // namespace vigil::config
