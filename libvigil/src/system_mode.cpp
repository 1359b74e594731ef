#include "vigil/system_mode.hpp"

#include <charconv>
#include <system_error>

namespace vigil {

// ---- value<T> -------------------------------------------------------------------------

namespace detail {

bool parse_mode_value(std::string_view text, std::string& out) {
  out.assign(text);
  return true;
}

bool parse_mode_value(std::string_view text, bool& out) {
  if (text == "true" || text == "1") {
    out = true;
    return true;
  }
  if (text == "false" || text == "0") {
    out = false;
    return true;
  }
  return false;
}

namespace {
// std::from_chars: locale-independent (vigild writes "0.5" whatever the reader's locale).
template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  T value{};
  const char* first = text.data();
  const char* last = first + text.size();
  if (*first == '+') ++first;  // from_chars does not take a leading '+'
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || end != last || first == last) return false;
  out = value;
  return true;
}
}  // namespace

bool parse_mode_value(std::string_view text, double& out) {
  return parse_number(text, out);
}
bool parse_mode_value(std::string_view text, float& out) {
  return parse_number(text, out);
}
bool parse_mode_value(std::string_view text, long long& out) {
  return parse_number(text, out);
}
bool parse_mode_value(std::string_view text, unsigned long long& out) {
  if (!text.empty() && text.front() == '-') return false;
  return parse_number(text, out);
}

}  // namespace detail

}  // namespace vigil
