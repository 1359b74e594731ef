#include "http/api_token.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.hpp"

namespace vigil::http {
namespace {

constexpr std::size_t kTokenBytes = 32;

bool well_formed(std::string_view token) {
  return token.size() == kTokenBytes * 2 && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<std::string> read_private_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return make_error(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return make_error(std::strerror(errno));
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
    return make_error("not a private regular file");
  }
  std::array<char, 256> buf{};
  const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  if (n < 0) return make_error(std::strerror(errno));
  std::string text(buf.data(), static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Result<std::string> random_token() {
  std::array<unsigned char, kTokenBytes> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(fmt::format("getrandom: {}", std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

// Written to a temporary file created 0600 and renamed over the old one, so the token is never
// readable by others and never half-written.
Result<void> write_private_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return make_error(fmt::format("create {}: {}", tmp, std::strerror(errno)));
  const std::string line = text + "\n";
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      ::fsync(fd.get()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(fmt::format("write {}: {}", tmp, why));
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return make_error(fmt::format("rename {} to {}: {}", tmp, path, why));
  }
  return {};
}

}  // namespace

Result<ApiToken> ApiToken::load_or_create(const std::string& path) {
  if (auto existing = read_private_file(path); existing && well_formed(*existing)) {
    return ApiToken(std::move(*existing));
  }
  auto fresh = random_token();
  if (!fresh) return make_error(fresh.error());
  if (auto written = write_private_file(path, *fresh); !written) {
    return make_error(written.error());
  }
  return ApiToken(std::move(*fresh));
}

bool ApiToken::matches(std::string_view presented) const {
  // Compare every byte of the stored token whatever the input, so the time taken reveals
  // neither where a guess first differs nor (beyond a length mismatch) anything else.
  unsigned char diff = presented.size() == value_.size() ? 0 : 1;
  for (std::size_t i = 0; i < value_.size(); ++i) {
    const char c = i < presented.size() ? presented[i] : '\0';
    diff |= static_cast<unsigned char>(c ^ value_[i]);
  }
  return diff == 0;
}

std::string_view bearer_credential(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    // The scheme is case-insensitive (RFC 7235).
    if (std::tolower(static_cast<unsigned char>(header[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {};
    }
  }
  auto token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace vigil::http
