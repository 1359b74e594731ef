#pragma once
// The validated description of a robot's programs: what the loader produces and the
// supervisor consumes. Plain data; equality is what `reload` uses to find changed components.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// A ROS 2 bond (bond/msg/Status, as Nav2's lifecycle nodes keep with their lifecycle manager)
// used as the component's heartbeat: every `active` Status with this `id` written by the
// component's own processes is a beat. Needs the `dds:` section.
struct BondSpec {
  std::string topic = "/bond";  // ROS 2 name; the DDS topic is "rt" + topic
  std::string id;               // the bond id; Nav2 uses the node's name (default: component name)
  bool operator==(const BondSpec&) const = default;
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
  std::optional<BondSpec> bond;  // beats also come from the component's bond messages
  bool operator==(const WatchdogSpec&) const = default;

  // Whether anything is watched at all once the component is ready.
  bool enabled() const {
    return timeout || detector == DetectorKind::phi || !loops.empty() || bond.has_value();
  }
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

// What a resource monitor does at its fail level (its warn level always only warns).
enum class MonitorAction {
  warn,     // a resource_exceeded event and a warning; the process keeps running
  restart,  // a failure (kind resource): the restart policy applies
  hook,     // run `hook` (argv), then as warn
};

// A monitored figure: warn and fail thresholds with debounce and hysteresis (see
// detection/threshold_monitor.hpp). Values are in the figure's unit: bytes, percent, count.
struct ThresholdSpec {
  std::optional<double> warn;
  std::optional<double> fail;
  std::optional<double> clear;  // leave WARN/FAIL below this (default 10 % under each level)
  Duration hold = 0s;           // `for:` the condition must last this long...
  int samples = 1;              // ...and this many consecutive samples
  MonitorAction action = MonitorAction::restart;
  std::vector<std::string> hook;
  bool operator==(const ThresholdSpec&) const = default;
};

// Sustained RSS growth: the least-squares slope over `window` at or above `rate`.
struct LeakSpec {
  double bytes_per_second = 0;
  Duration window = std::chrono::minutes(10);
  double min_fit = 0.8;  // r^2 of the fit: steady growth, not one allocation burst
  MonitorAction action = MonitorAction::warn;
  std::vector<std::string> hook;
  bool operator==(const LeakSpec&) const = default;
};

struct ResourcesSpec {
  std::optional<ThresholdSpec> rss;        // bytes, whole process tree
  std::optional<ThresholdSpec> cpu;        // percent of one core, whole tree
  std::optional<ThresholdSpec> threads;    // count
  std::optional<ThresholdSpec> fds;        // open file descriptors
  std::optional<ThresholdSpec> processes;  // processes in the tree
  std::optional<LeakSpec> leak;
  bool any() const { return rss || cpu || threads || fds || processes || leak; }
  bool operator==(const ResourcesSpec&) const = default;
};

// A DDS topic watched for sensor dropout, whatever its message type (see
// detection/topic_monitor.hpp). `topic` is a ROS 2 name (/scan is DDS topic rt/scan) unless
// given as `dds_topic`, a raw DDS name.
struct TopicMonitorSpec {
  std::string topic;                              // as written, for messages
  std::string dds_topic;                          // what is subscribed
  std::optional<double> min_rate;                 // Hz: WARN below, over `window`
  std::optional<double> max_rate;                 // Hz: WARN above
  std::optional<Duration> stale_after;            // no message for this long: the fail level
  Duration window = std::chrono::seconds(1);      // the rate, jitter and largest gap are over this
  Duration hold = 0s;                             // `for:` a rate out of range must last this long
  MonitorAction action = MonitorAction::restart;  // at the fail level (stale)
  std::vector<std::string> hook;
  bool operator==(const TopicMonitorSpec&) const = default;
};

struct RlimitSpec {
  int resource = 0;  // RLIMIT_*
  std::uint64_t value = 0;
  bool unlimited = false;
  bool operator==(const RlimitSpec&) const = default;
};

struct LimitsSpec {
  std::vector<RlimitSpec> rlimits;          // address_space, open_files, core, processes
  std::optional<std::uint64_t> memory_max;  // cgroup v2 memory.max
  std::optional<double> cpu_max;            // cgroup v2 cpu.max, in cores
  std::optional<int> pids_max;              // cgroup v2 pids.max
  bool wants_cgroup() const { return memory_max || cpu_max || pids_max; }
  bool operator==(const LimitsSpec&) const = default;
};

// Run the component as another user (systemd's User=): its uid, primary gid, no
// supplementary groups.
struct UserSpec {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool operator==(const UserSpec&) const = default;
};

// One rung of an escalation ladder (`recovery:`). A component climbs to the next rung when
// it fails again after the current one was used up; it returns to the bottom after running
// `backoff.reset_after` without a failure. A ladder replaces the group's restart policy for
// the component's failures (clean exits of a permanent component still restart as before).
struct RecoveryStep {
  enum class Action {
    restart,        // restart the component with its backoff, `times` times
    restart_group,  // restart every member of group `target` (default: the enclosing group)
    standby,        // hold the component stopped; its standby `target` serves instead
    mode,           // force system mode `target` while the ladder is up here; restart once more
    safe_stop,      // stop the component until an operator starts it, and alert; force mode
                    // `target` if given. Every ladder ends with one (implicitly if not written)
  };
  Action action = Action::restart;
  int times = 1;
  std::string target;
  // `approval: required`: the rung waits for `vigil approve ID`; nobody answering within
  // `approval_timeout` is the safe default: deny (skip to the next rung) unless
  // `approve_on_timeout`.
  bool approval = false;
  Duration approval_timeout = std::chrono::seconds(60);
  bool approve_on_timeout = false;
  SourceLocation location;
  bool operator==(const RecoveryStep&) const = default;
};

// `standby_for: lidar`: this component stands in for `primary`. A cold standby is started
// only when the primary is given up (or its ladder reaches a standby rung) and stopped once
// the primary is running again. A hot standby runs all the time; both learn their DDS
// ownership strength from VIGIL_OWNERSHIP_STRENGTH, higher for whichever should publish, so
// that readers of an exclusive-ownership topic switch to the standby when the primary's
// writer loses liveliness.
struct StandbySpec {
  enum class Failback {
    immediate,  // hot: the restarted primary outranks the standby at once
    stay,       // the standby keeps serving; the primary comes back below it
    after,      // after `failback_after`, the primary takes over again
  };
  std::string primary;
  bool hot = false;
  Failback failback = Failback::stay;
  Duration failback_after{};
  bool operator==(const StandbySpec&) const = default;
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
  ResourcesSpec resources;
  std::vector<TopicMonitorSpec> topics;  // `monitors:` entries with a topic
  LimitsSpec limits;
  std::optional<UserSpec> user;
  std::vector<RecoveryStep> recovery;  // empty: the group's policy alone
  std::optional<StandbySpec> standby;
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

// vigild's watch over the host itself: a `host` node in the health tree. Percent values.
// Defaults: CPU warn at 95 % for 1 min; memory and disk available warn at 10 %, fail at 5 %;
// temperature warn at 85 C, fail at 95 C; load off. A host monitor warns (or runs a hook).
struct HostSpec {
  ThresholdSpec cpu{
      95.0, std::nullopt, std::nullopt, std::chrono::minutes(1), 1, MonitorAction::warn, {}};
  ThresholdSpec load{};  // 1-minute load average per core
  ThresholdSpec memory_available{10.0, 5.0, std::nullopt, 0s, 3, MonitorAction::warn, {}};
  ThresholdSpec disk_available{10.0, 5.0, std::nullopt, 0s, 1, MonitorAction::warn, {}};
  ThresholdSpec temperature{85.0, 95.0, std::nullopt, 10s, 1, MonitorAction::warn, {}};
};

struct MonitoringSpec {
  Duration interval = 1s;  // resource and host sampling period
  HostSpec host;
};

// The HTTP API, dashboard and /metrics. Local access only unless the operator says otherwise.
struct HttpSpec {
  bool enabled = true;
  std::string host = "127.0.0.1";  // an IPv4/IPv6 address literal or "localhost"
  int port = 8080;                 // 0: any free port (written to state_dir/http.url)
};

// Downsampled metric series kept in state_dir/metrics.db, so charts survive a page reload
// and a vigild restart. Each tier keeps points of `resolution` for `keep`.
struct HistoryTier {
  Duration resolution;
  Duration keep;
};
struct HistorySpec {
  std::vector<HistoryTier> tiers{{1s, 1h}, {60s, std::chrono::hours(24 * 7)}};
};

// Where alerts go when a component fails, a group escalates, the root gives up, and when it
// recovers. Each target is optional; all enabled ones receive every alert.
struct AlertsSpec {
  std::string alertmanager_url;               // e.g. http://127.0.0.1:9093 (POST /api/v2/alerts)
  std::string webhook_url;                    // generic JSON POST
  std::vector<std::string> exec;              // argv; the alert JSON on stdin
  std::map<std::string, std::string> labels;  // added to every alert (e.g. robot: r2d2)
  Duration retry_initial = 1s;                // backoff between delivery attempts, doubling...
  Duration retry_max = 60s;                   // ...up to this
  Duration give_up_after = std::chrono::hours(1);  // then the alert is dropped and logged
  Duration resolve_timeout = 5min;  // Alertmanager endsAt for a firing alert, renewed
  bool any() const { return !alertmanager_url.empty() || !webhook_url.empty() || !exec.empty(); }
  bool operator==(const AlertsSpec&) const = default;  // reload rebuilds the targets on change
};

// ROS 2 over DDS (Cyclone DDS): /diagnostics. Off unless the config has a `dds` section. The
// network is Cyclone's own configuration ($CYCLONEDDS_URI; dds/cyclonedds-loopback.xml).
struct DdsSpec {
  bool enabled = false;
  int domain = 0;                    // ROS_DOMAIN_ID
  Duration diagnostics_period = 1s;  // and on every change
};

// A system mode (see health/mode_manager.hpp). Modes are declared from the least to the most
// severe; the first is the default and has no rule. While a mode is active its `publish` values
// are the robot's, the components in `stop` are held stopped and those in `start` held
// started; `hook` runs on entry.
struct ModeSpec {
  std::string name;
  std::string when;        // the rule (health/mode_rule.hpp); empty for the default mode
  SourceLocation when_at;  // where the rule's first character is
  std::map<std::string, std::string> publish;
  std::vector<std::string> start;
  std::vector<std::string> stop;
  std::vector<std::string> hook;  // argv, run on entry
  Duration enter_after = 0s;      // the rule must hold this long before the mode is entered
  Duration exit_after = 1s;       // ... and be false this long before it is left (hysteresis)
  Duration dwell = 2s;            // the least time in the mode before a less severe one
  SourceLocation location;
  bool operator==(const ModeSpec&) const = default;
};

// A hardware watchdog (/dev/watchdog, or any device with the Linux watchdog API) that vigild
// keeps alive only while the robot is healthy: every `require` node running (a group: all its
// members; a component in its first start counts as healthy). If vigild hangs or dies, or a
// required node stays down for the device's `timeout`, the hardware resets the machine: the
// last step of recovery. On a clean vigild stop the device is disarmed (magic close).
struct HardwareWatchdogSpec {
  std::string device;                           // empty: none
  Duration timeout = std::chrono::seconds(60);  // set on the device (WDIOC_SETTIMEOUT) if it can
  std::optional<Duration> interval;             // between keepalives; default timeout / 4
  std::vector<std::string> require;             // components or groups; empty: all of them
  bool operator==(const HardwareWatchdogSpec&) const = default;
};

struct SystemSpec {
  std::string source_file;  // absolute path of the config
  std::string state_dir;    // absolute
  MonitoringSpec monitoring;
  HttpSpec http;
  HistorySpec history;
  AlertsSpec alerts;
  DdsSpec dds;
  std::vector<ModeSpec> modes;  // empty: no modes (the robot is always "nominal")
  HardwareWatchdogSpec hardware_watchdog;
  GroupSpec root;
  FinalAction final_action = FinalAction::stop;
  EventLogSpec event_log;
};

const char* to_string(Strategy s);
const char* to_string(RestartType r);
const char* to_string(FinalAction a);
const char* to_string(ReadySpec::Kind k);
const char* to_string(DetectorKind k);

// A watched loop's name, from the config or a VIGIL_LOOP= datagram: 1 to 64 of A-Za-z0-9_-./
bool valid_loop_name(std::string_view name);
const char* to_string(MonitorAction a);
const char* to_string(RecoveryStep::Action a);
const char* to_string(StandbySpec::Failback f);

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
