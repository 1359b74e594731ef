#pragma once
// `vigil top`: a live view of vigild's components in the terminal (ncurses), refreshed every
// second and at once on each event, with restart/stop/start of the selected component.
#include <string>

namespace vigil::cli {

// Runs until the operator quits (q, Ctrl-C); keeps retrying while vigild is unreachable.
// stdin and stdout must be a terminal. Returns the process exit code.
int run_top(const std::string& socket_path);

}  // namespace vigil::cli
