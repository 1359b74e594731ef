#pragma once
// Where vigild keeps its state when the configured state_dir cannot be written at start (a
// read-only root file system, a full disk): a directory of its own under /run (a tmpfs),
// named after the configured one, so that vigild and the `vigil` command line both find it
// from the config alone. What is kept there does not survive a reboot; vigild says so loudly.
#include <string>

namespace vigil::config {

// A short name for a state dir, the same from run to run: FNV-1a, 8 hex digits. Names what
// belongs to one vigild where several share a host (its fallback dir, its nftables tables).
std::string state_dir_tag(const std::string& state_dir);

// "/run/vigil/state-<state_dir_tag>".
std::string fallback_state_dir(const std::string& state_dir);

// Empty when `dir` exists (or could be created) and can be written; else why not.
std::string state_dir_unwritable(const std::string& dir);

}  // namespace vigil::config
