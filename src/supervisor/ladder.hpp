#pragma once
// Where a component stands on its escalation ladder (`recovery:`), and which rung its next
// failure takes. Pure bookkeeping: the supervisor carries the rungs out.
//
// A rung is used up after `times` uses (restart: N; every other rung once). A failure while
// the current rung still has uses left takes it again; otherwise the next rung, with the
// reason the current one is judged to have failed. Past the last written rung comes an
// implicit safe stop, so every ladder ends safely.
#include <string>
#include <vector>

#include "config/spec.hpp"

namespace vigil::supervisor {

class Ladder {
 public:
  struct Rung {
    int index = 0;  // 0-based position; == size() for the implicit final safe stop
    const config::RecoveryStep* step = nullptr;
    int use = 1;           // 1..times: which use of the rung this is
    bool entered = false;  // the first use of a rung just climbed to
    std::string why;       // for a rung entered: why the one below did not do
  };

  explicit Ladder(const std::vector<config::RecoveryStep>* steps = nullptr) : steps_(steps) {}

  // The component failed (`failure` says how): the rung to take.
  Rung climb(const std::string& failure);
  // The current rung cannot be taken (approval denied or timed out): the next one.
  Rung skip(const std::string& why);
  // Back to the bottom: the component ran long enough without failing, or an operator
  // stepped in.
  void reset();
  // The steps changed (config reload): back to the bottom of the new ladder.
  void rebind(const std::vector<config::RecoveryStep>* steps);

  bool empty() const { return steps_ == nullptr || steps_->empty(); }
  int size() const { return steps_ == nullptr ? 0 : static_cast<int>(steps_->size()); }
  // -1 before the first failure.
  int index() const { return index_; }
  const config::RecoveryStep* current() const;
  // "restart x3", "restart_group sensors", "standby lidar_backup", "mode degraded", ...
  static std::string describe(const config::RecoveryStep& step);

 private:
  Rung enter(int index, std::string why);

  const std::vector<config::RecoveryStep>* steps_;
  int index_ = -1;
  int uses_ = 0;
};

}  // namespace vigil::supervisor
