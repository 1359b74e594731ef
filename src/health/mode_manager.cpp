#include "health/mode_manager.hpp"

namespace vigil::health {

ModeManager::ModeManager(std::vector<config::ModeSpec> modes, TimePoint now,
                         std::size_t initial, std::optional<TimePoint> entered_at)
    : modes_(std::move(modes)),
      true_since_(modes_.size()),
      false_since_(modes_.size(), now),
      current_(initial < modes_.size() ? initial : 0),
      entered_at_(entered_at.value_or(now)) {
  if (current_ != 0) {
    true_since_[current_] = now;
    false_since_[current_].reset();
  }
}

bool ModeManager::applies(std::size_t i, TimePoint now) const {
  return i != 0 && true_since_[i] && now - *true_since_[i] >= modes_[i].enter_after;
}

std::optional<ModeManager::Switch> ModeManager::evaluate(const std::vector<bool>& holds,
                                                         TimePoint now) {
  for (std::size_t i = 1; i < modes_.size(); ++i) {
    const bool h = i < holds.size() && holds[i];
    if (h) {
      if (!true_since_[i]) true_since_[i] = now;
      false_since_[i].reset();
    } else {
      if (!false_since_[i]) false_since_[i] = now;
      true_since_[i].reset();
    }
  }
  std::size_t candidate = 0;
  for (std::size_t i = modes_.size(); i-- > 1;) {
    if (applies(i, now)) {
      candidate = i;
      break;
    }
  }
  if (candidate == current_) return std::nullopt;
  if (candidate < current_) {
    const auto& m = modes_[current_];
    const bool rule_gone = false_since_[current_] && now - *false_since_[current_] >= m.exit_after;
    const bool dwelt = now - entered_at_ >= m.dwell;
    if (!rule_gone || !dwelt) return std::nullopt;
  }
  Switch s{current_, candidate, candidate > current_};
  current_ = candidate;
  entered_at_ = now;
  return s;
}

std::optional<TimePoint> ModeManager::next_check(TimePoint now) const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (t > now && (!next || t < *next)) next = t;
  };
  // A more severe mode whose rule holds but not yet for its enter_after.
  for (std::size_t i = current_ + 1; i < modes_.size(); ++i) {
    if (true_since_[i]) consider(*true_since_[i] + modes_[i].enter_after);
  }
  // Leaving the current mode, once its rule has been false long enough and it has lasted.
  if (current_ != 0 && false_since_[current_]) {
    const auto& m = modes_[current_];
    consider(std::max(*false_since_[current_] + m.exit_after, entered_at_ + m.dwell));
  }
  // Less severe modes whose enter_after runs while the current one may be left.
  for (std::size_t i = 1; i < current_; ++i) {
    if (true_since_[i]) consider(*true_since_[i] + modes_[i].enter_after);
  }
  return next;
}

}  // namespace vigil::health
