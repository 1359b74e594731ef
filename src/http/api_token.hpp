#pragma once
// The bearer token that mutating HTTP calls must present. Kept in state_dir/token, mode 0600,
// so only vigild's user (and `vigil token`, run as that user) can read it. Created once and
// kept across restarts, so an operator's open dashboard keeps working after a vigild restart.
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace vigil::http {

class ApiToken {
 public:
  // Reads the token at `path`, or creates one (256 random bits, hex) if there is none. A file
  // that others may read, or that does not hold a well-formed token, is replaced.
  static Result<ApiToken> load_or_create(const std::string& path);

  // Constant time in the length of the stored token: no timing oracle.
  bool matches(std::string_view presented) const;
  const std::string& value() const { return value_; }

 private:
  explicit ApiToken(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// "Bearer TOKEN" -> TOKEN; empty if the header is not a bearer credential.
std::string_view bearer_credential(std::string_view authorization_header);

}  // namespace vigil::http
