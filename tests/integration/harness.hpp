#pragma once
// Runs a real vigild on a config written by the test, in a temporary directory, and follows
// its event stream over the real control socket. Waiting is always for an event (vigild's
// READY=1 on a notify socket of ours, or an event from the log stream), never a fixed sleep.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"

namespace vigil::testing {

using nlohmann::json;
using namespace std::chrono_literals;

std::string bin(const std::string& name);  // build/bin/NAME

class Vigild {
 public:
  // `yaml` may use @BIN@ (build/bin) and @DIR@ (the test's directory). state_dir defaults to
  // @DIR@/state unless the yaml sets it.
  explicit Vigild(const std::string& yaml);
  ~Vigild();

  void start();  // returns once vigild reports READY=1 and the event stream is open
  void write_config(const std::string& yaml);
  void kill9();  // SIGKILL vigild itself; its components keep running
  int stop();    // SIGTERM and wait; returns vigild's exit status
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/robot.yaml"; }
  std::string state_dir() const { return dir_ + "/state"; }
  // vigild's control socket: state_dir()/control.sock unless a test moved it.
  std::string socket_path() const {
    return socket_path_.empty() ? state_dir() + "/control.sock" : socket_path_;
  }
  void set_socket_path(std::string path) { socket_path_ = std::move(path); }

  json request(const json& request);  // one request, one reply
  json status() { return request({{"cmd", "status"}}); }
  json component(const std::string& name);  // its node in the status tree

  // The first event (from the start of the stream, or after `after_id`) matching `pred`,
  // reading more of the stream as needed until `timeout`. Fails the test on timeout.
  json wait_for(const std::function<bool(const json&)>& pred,
                std::chrono::milliseconds timeout = 10s, std::int64_t after_id = 0);
  json wait_for(const std::string& component, const std::string& kind,
                std::chrono::milliseconds timeout = 10s, std::int64_t after_id = 0);
  // Reads the event stream for `duration` (whatever arrives: not a wait for anything).
  void follow_for(std::chrono::milliseconds duration);
  // For state that has no event of its own (a silent retry counter): polls every 50 ms.
  bool poll_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
  const std::vector<json>& events() const { return events_; }
  std::vector<json> events_of(const std::string& component, const std::string& kind) const;
  std::string vigild_output() const;
  // vigild's HTTP API base URL (state_dir/http.url, written before READY=1) and its token.
  std::string http_url() const;
  std::string token() const;

 private:
  void open_stream();
  bool read_stream(std::chrono::milliseconds budget);

  std::string dir_;
  std::string socket_path_;
  pid_t pid_ = 0;
  UniqueFd pidfd_;
  UniqueFd stream_;
  std::string stream_buffer_;
  std::vector<json> events_;
  bool killed_ = false;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a program (argv, no shell) to completion and captures its output.
CommandResult run_command(const std::vector<std::string>& argv);

// A connection to a Unix stream socket (vigild's control socket); invalid if it fails.
UniqueFd connect_unix(const std::string& path);

// Sends one sd_notify datagram to `socket_path` from this (foreign) process.
void send_datagram(const std::string& socket_path, const std::string& message);
// Whether a process exists and is not a zombie.
bool process_alive(pid_t pid);

}  // namespace vigil::testing
