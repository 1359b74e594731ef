#pragma once
// Captures the stack of every thread of every process in a hung component's tree before it is
// killed, with eu-stack (elfutils) or, failing that, gdb in batch mode. One tool process per
// target process, all in parallel, within one time budget: whatever is not done by then is
// killed and reported as incomplete. Runs on the event loop; never blocks it.
#include <sys/types.h>

#include <asio/io_context.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/units.hpp"

namespace vigil::daemon {

class PidfdRunner;

// Which tool is installed: "eu-stack", "gdb", or empty.
std::string stack_tool();

// The processes of a component's tree: every process in its session (components run in a
// session of their own), main process first.
std::vector<pid_t> processes_in_session(pid_t session);

// Starts the capture; `done` runs once on the loop with
// {tool, complete, elapsed_ms, processes: [{pid, comm, threads, text, error?}]}.
void capture_stacks(asio::io_context& io, PidfdRunner& runner, pid_t session, Duration budget,
                    std::function<void(nlohmann::json)> done);

}  // namespace vigil::daemon
