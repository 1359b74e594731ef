#pragma once
// The control protocol (docs/PROTOCOL.md): one JSON object per line each way over
// state_dir/control.sock. Parsing is total: any input yields a request or a clear error.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace vigil::api {

enum class Command {
  status,
  start,
  stop,
  restart,
  events,
  logs,
  report,
  reload,
  shutdown,
  ping,
  history,
  approve,
  deny,
  chaos
};

// `chaos`: one fault injected into a running component by vigild (`vigil chaos`), or `list`
// of the faults still running.
enum class ChaosFault {
  list,
  kill,
  hang,
  slow,
  heartbeat_loss,
  partition,
  packet_loss,
  cpu_hog,
  memory_hog,
  topic_dropout,
  state_dir_full
};

struct ChaosRequest {
  ChaosFault fault = ChaosFault::list;
  std::chrono::milliseconds duration{0};  // hang, slow, heartbeat_loss: required
  int signal = SIGKILL;                   // kill: unless told otherwise
  bool group = false;                     // kill: the whole process group
  std::chrono::milliseconds period{100};  // slow: one stop/continue cycle
  double duty = 0.5;                      // slow: the fraction of each period stopped
  double loss_percent = 0;                // packet_loss: the share of datagrams dropped
  int cpus = 1;                           // cpu_hog: spinning threads
  std::uint64_t bytes = 0;                // memory_hog: memory touched and held
  // What the robot should do: fail and be recovered (the default), or ride it out with no
  // failure at all ("expect": "none", e.g. packet loss a lease absorbs). Recorded in the
  // event for the report.
  bool expect_failure = true;
};

std::string_view to_string(ChaosFault f);
// The faults that last a while (all but kill and list), each of which needs a duration.
bool is_timed(ChaosFault f);
// Bounds of the chaos parameters, shared with the CLI's messages.
inline constexpr std::chrono::milliseconds kMaxChaosDuration{24LL * 3600 * 1000};
inline constexpr std::chrono::milliseconds kMinChaosPeriod{10};
inline constexpr std::chrono::milliseconds kMaxChaosPeriod{10'000};

struct Request {
  Command command = Command::ping;
  std::string name;           // start/stop/restart/logs: component or group
  std::string component;      // events: filter
  std::int64_t since_us = 0;  // events/report: how far back (a duration in microseconds)
  std::int64_t after_id = 0;  // events: resume after this id
  bool follow = false;        // events/logs: keep streaming
  int limit = 100;            // events: how many, lines: logs
  std::string series;         // history: e.g. cpu_percent (empty: list the series)
  int max_points = 600;       // history: thin to at most this many points
  std::string id;             // approve/deny: a pending approval's id (from `status`)
  ChaosRequest chaos;         // chaos: the fault and its parameters (name: the target)
};

// An approval id as an operator may send it: 1 to kMaxApprovalIdBytes printable ASCII
// characters without spaces. Shared with the HTTP API so both reject the same ids.
inline constexpr std::size_t kMaxApprovalIdBytes = 64;
// Empty when `id` is acceptable, otherwise why not.
std::string approval_id_problem(std::string_view id);

inline constexpr std::size_t kMaxRequestBytes = std::size_t{64} * 1024;

Result<Request> parse_request(std::string_view line);
std::string_view to_string(Command c);

// {"ok":true, ...fields} and {"ok":false,"error":"..."}
nlohmann::json ok_response(nlohmann::json fields = nlohmann::json::object());
nlohmann::json error_response(const std::string& message);

}  // namespace vigil::api
