#include "health/state.hpp"

#include <array>

namespace vigil::health {

namespace {
constexpr std::array<std::pair<State, std::string_view>, 7> kNames{{
    {State::stopped, "stopped"},
    {State::starting, "starting"},
    {State::running, "running"},
    {State::stopping, "stopping"},
    {State::backoff, "backoff"},
    {State::failed, "failed"},
    {State::given_up, "given_up"},
}};
}  // namespace

std::string_view to_string(State s) {
  for (const auto& [state, name] : kNames) {
    if (state == s) return name;
  }
  return "?";
}

std::optional<State> state_from_string(std::string_view s) {
  for (const auto& [state, name] : kNames) {
    if (name == s) return state;
  }
  return std::nullopt;
}

Level level_of(State s) {
  switch (s) {
    case State::running:
      return Level::ok;
    case State::stopped:
      return Level::ok;
    case State::starting:
      return Level::warn;
    case State::stopping:
      return Level::warn;
    case State::backoff:
      return Level::error;
    case State::failed:
      return Level::error;
    case State::given_up:
      return Level::error;
  }
  return Level::stale;
}

std::string_view to_string(Level l) {
  switch (l) {
    case Level::ok:
      return "OK";
    case Level::warn:
      return "WARN";
    case Level::error:
      return "ERROR";
    case Level::stale:
      return "STALE";
  }
  return "?";
}

}  // namespace vigil::health
