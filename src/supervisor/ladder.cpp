#include "supervisor/ladder.hpp"

#include <fmt/format.h>

namespace vigil::supervisor {

namespace {
// Every ladder ends here: stop the component and wait for an operator.
const config::RecoveryStep kFinalSafeStop{config::RecoveryStep::Action::safe_stop};
}  // namespace

const config::RecoveryStep* Ladder::current() const {
  if (index_ < 0) return nullptr;
  if (index_ >= size()) return &kFinalSafeStop;
  return &(*steps_)[static_cast<std::size_t>(index_)];
}

std::string Ladder::describe(const config::RecoveryStep& step) {
  using Action = config::RecoveryStep::Action;
  switch (step.action) {
    case Action::restart:
      return step.times == 1 ? "restart" : fmt::format("restart x{}", step.times);
    case Action::restart_group:
      return step.target.empty() ? "restart_group" : "restart_group " + step.target;
    case Action::standby:
      return "standby " + step.target;
    case Action::mode:
      return "mode " + step.target;
    case Action::safe_stop:
      return step.target.empty() ? "safe_stop" : "safe_stop (mode " + step.target + ")";
  }
  return "?";
}

Ladder::Rung Ladder::enter(int index, std::string why) {
  index_ = index;
  uses_ = 1;
  Rung r;
  r.index = index;
  r.step = current();
  r.use = 1;
  r.entered = true;
  r.why = std::move(why);
  return r;
}

Ladder::Rung Ladder::climb(const std::string& failure) {
  if (index_ < 0) return enter(0, failure);
  const auto* step = current();
  if (step->action != config::RecoveryStep::Action::safe_stop && uses_ < step->times) {
    ++uses_;
    return Rung{index_, step, uses_, false, failure};
  }
  if (index_ >= size()) return Rung{index_, step, ++uses_, false, failure};
  return enter(index_ + 1, fmt::format("step {} ({}) did not keep it up: {}", index_ + 1,
                                       describe(*step), failure));
}

Ladder::Rung Ladder::skip(const std::string& why) {
  if (index_ >= size()) return Rung{index_, current(), uses_, false, why};
  return enter(index_ + 1, why);
}

void Ladder::reset() {
  index_ = -1;
  uses_ = 0;
}

void Ladder::rebind(const std::vector<config::RecoveryStep>* steps) {
  steps_ = steps;
  reset();
}

}  // namespace vigil::supervisor
