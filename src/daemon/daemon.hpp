#pragma once
// vigild: wires the parts onto one Asio event loop. Data flows one way: process exits,
// notify datagrams, probe results and timers go into the Supervisor; the Supervisor emits
// health events; the EventBus commits them to the EventLog and then hands them to observers
// (control-socket followers today; HTTP, metrics and DDS plug in the same way).
#include <string>

#include "config/spec.hpp"

namespace vigil::daemon {

// Exit codes, written down so scripts and unit files can tell failures apart.
enum ExitCode : int {
  kExitOk = 0,
  kExitSystem = 1,     // could not set up: state_dir, sockets, event log, another vigild running
  kExitConfig = 2,     // the config is invalid: nothing was started
  kExitUsage = 64,     // bad command-line arguments
  kExitInternal = 70,  // a bug: an exception escaped
};

struct DaemonOptions {
  std::string config_path;
};

// Runs until SIGTERM/SIGINT or a `shutdown` request, then stops everything in reverse
// dependency order. Returns an ExitCode.
int run_daemon(const config::SystemSpec& spec, const DaemonOptions& options);

}  // namespace vigil::daemon
