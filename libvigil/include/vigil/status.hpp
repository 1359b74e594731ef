#pragma once
// The result of a libvigil call: success, or an errno value saying why not. Nothing in
// libvigil throws for an expected failure (a missing socket, a corrupt file); a component must
// keep running when its supervisor is unreachable.
#include <cstring>
#include <string>

namespace vigil {

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  static Status from_errno(int error_number) { return Status(error_number); }

  bool ok() const { return error_ == 0; }
  explicit operator bool() const { return ok(); }
  // 0 on success, else a positive errno value (EINVAL, ENOENT, EBADMSG, ...).
  int error() const { return error_; }
  std::string message() const { return ok() ? "ok" : std::strerror(error_); }

 private:
  explicit Status(int error_number) : error_(error_number) {}
  int error_ = 0;
};

}  // namespace vigil
