#pragma once
// A chaos run (`vigil chaos run scenario.yaml --duration 1h --seed N`): faults drawn from the
// scenario are injected into the running robot through vigild (each one an event), one every
// `interval`, into a target that is running and has no fault in effect; then the robot is
// given `settle` to recover and the report is computed from the event log of the run.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "chaos/scenario.hpp"
#include "chaos/soak_report.hpp"
#include "common/result.hpp"

namespace vigil::chaos {

struct RunOptions {
  Duration duration = std::chrono::minutes(10);
  std::uint64_t seed = 1;
  std::function<void(const std::string&)> progress;  // one line per injection; may be empty
};

// One control request, its reply ({"ok": true, ...} or an error).
using Request = std::function<Result<nlohmann::json>(const nlohmann::json&)>;

struct RunResult {
  SoakReport report;
  int injections_refused = 0;  // vigild said no (the target changed state meanwhile)
  int injections_skipped = 0;  // no target was eligible when one was due
};

Result<RunResult> run_soak(const Scenario& scenario, const RunOptions& options,
                           const Request& request);

// The report of a past window [start_us, end_us] (wall clock) from the event log: a run that
// was interrupted, or one to look at again. `initial_mode` empty: found out from the log
// and the status.
Result<SoakReport> report_window(std::int64_t start_us, std::int64_t end_us, const Request& request,
                                 std::string initial_mode = {});

}  // namespace vigil::chaos
