#pragma once
// A chaos scenario: which faults to inject, how often and into what, read from YAML with
// FILE:LINE:COL errors; and the plan for one run, drawn from a seed, so that a run can be
// repeated exactly.
//
//   interval: 10s           # a fault every interval ...
//   jitter: 0.2             # ... +- 20 %, drawn from the seed
//   targets: [lidar, camera, planner]   # default: every component vigild runs
//   settle: 20s             # at the end, time for the last recovery before the report
//   min_uptime: 35s         # only into a component running for this long (default 0): past
//                           # its backoff's reset_after, every hit measures a first failure
//   faults:
//     - {fault: kill, weight: 3}                  # signal: SIGKILL (default)
//     - {fault: hang, for: 3s}
//     - {fault: heartbeat_loss, for: 2s}
//     - {fault: slow, for: 5s, duty: 0.5, period: 100ms}
//     - {fault: kill, signal: SIGSEGV, targets: [battery]}
//     - {fault: partition, for: 3s}                # the node's DDS datagrams dropped
//     - {fault: packet_loss, for: 10s, loss: 20%, expect: none}   # to be ridden out
//     - {fault: cpu_hog, for: 10s, cpus: 2}         # helpers counted in the node's tree
//     - {fault: memory_hog, for: 10s, size: 200MiB}
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/units.hpp"

namespace vigil::chaos {

struct FaultSpec {
  std::string fault;  // kill | hang | slow | heartbeat_loss | partition | packet_loss | cpu_hog |
                      // memory_hog
  double weight = 1.0;
  std::vector<std::string> targets;                  // empty: the scenario's
  Duration duration{};                               // hang, slow, heartbeat_loss
  std::string signal = "SIGKILL";                    // kill
  Duration period = std::chrono::milliseconds(100);  // slow
  double duty = 0.5;                                 // slow
  double loss_percent = 0;                           // packet_loss
  int cpus = 1;                                      // cpu_hog
  std::uint64_t bytes = 0;                           // memory_hog
  bool expect_failure = true;  // `expect: none`: the robot must ride it out, with no failure
  int line = 0;
};

struct Scenario {
  Duration interval = std::chrono::seconds(10);
  double jitter = 0.0;
  std::vector<std::string> targets;
  Duration settle = std::chrono::seconds(20);
  Duration min_uptime{};
  std::vector<FaultSpec> faults;
};

struct ScenarioResult {
  std::optional<Scenario> scenario;
  std::vector<std::string> errors;  // "FILE:LINE:COL: error: ..."
};

ScenarioResult parse_scenario(const std::string& text, const std::string& file_name);

// The control request that injects `fault` into `target` (docs/PROTOCOL.md, "chaos").
nlohmann::json injection_request(const FaultSpec& fault, const std::string& target);

// Draws the faults of one run. `next` picks the next fault and target among those eligible
// now (running, no fault in effect); the same seed and the same eligibility give the same
// run.
class Planner {
 public:
  Planner(const Scenario& scenario, std::uint64_t seed);
  // The wait before the next injection.
  Duration next_delay();
  // The fault and target to inject now; none when no eligible target fits any fault.
  std::optional<std::pair<const FaultSpec*, std::string>> next(
      const std::vector<std::string>& eligible);

 private:
  const Scenario& scenario_;
  std::mt19937_64 rng_;
};

}  // namespace vigil::chaos
