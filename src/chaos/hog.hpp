#pragma once
// The helper process of `vigil chaos cpu-hog|memory-hog`: vigild starts itself again as
// `vigild --chaos-hog cpu N` (N threads spinning) or `vigild --chaos-hog memory BYTES` (that
// much memory touched and held), counted in the target component's process tree until the
// fault ends. Re-executing vigild (/proc/self/exe) needs no other program installed.
#include <string>
#include <vector>

namespace vigil::chaos {

inline constexpr const char* kHogFlag = "--chaos-hog";

// Runs the hog described by `args` ({"cpu", N} or {"memory", BYTES}) until killed; returns
// an exit status only for bad arguments (2) or a failed allocation (1).
int run_hog(const std::vector<std::string>& args);

}  // namespace vigil::chaos
