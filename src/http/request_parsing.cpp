#include "http/request_parsing.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "api/protocol.hpp"
#include "common/units.hpp"

namespace vigil::http {

using nlohmann::json;

// Rejects query parameters the route does not know: a typo should not silently mean "all".
void allow_params(const QueryParams& params, std::initializer_list<std::string_view> allowed) {
  std::set<std::string> seen;
  for (const auto& [key, value] : params) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      throw HttpError(400, fmt::format("unknown query parameter '{}'{}", key.substr(0, 64),
                                       list.empty() ? std::string(" (this route takes none)")
                                                    : fmt::format(" (expected: {})", list)));
    }
    if (!seen.insert(key).second) {
      throw HttpError(400, fmt::format("query parameter '{}' given twice", key.substr(0, 64)));
    }
  }
}

std::string text_param(const QueryParams& params, const char* name, std::size_t max) {
  const auto it = params.find(name);
  if (it == params.end()) return {};
  const auto& v = it->second;
  if (v.size() > max) throw HttpError(400, fmt::format("'{}' is longer than {} bytes", name, max));
  return v;
}

std::int64_t int_param(const QueryParams& params, const char* name, std::int64_t lo,
                       std::int64_t hi, std::int64_t fallback) {
  const auto it = params.find(name);
  if (it == params.end()) return fallback;
  const auto& text = it->second;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size() || v < lo || v > hi) {
    throw HttpError(400, fmt::format("'{}' must be a whole number from {} to {}, not '{}'", name,
                                     lo, hi, text.substr(0, 64)));
  }
  return v;
}

// since=15m, 2h, 7d: how far back from now.
std::int64_t duration_param(const QueryParams& params, const char* name, std::int64_t fallback) {
  const auto it = params.find(name);
  if (it == params.end()) return fallback;
  const auto& text = it->second;
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) {
    throw HttpError(400, fmt::format("'{}' must be a duration such as 15m, 2h or 7d, not '{}'",
                                     name, text.substr(0, 64)));
  }
  return std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// The host part of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string host_of(const std::string& header) {
  if (!header.empty() && header.front() == '[') {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  const auto colon = header.find(':');
  return colon == std::string::npos ? header : header.substr(0, colon);
}

bool is_ip_literal_or_localhost(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return host == "localhost" || ::inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

json parse_command_body(std::string_view text) {
  json fields = json::object();
  if (text.empty()) return fields;
  auto body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw HttpError(400, "the body is not valid JSON");
  if (!body.is_object()) throw HttpError(400, "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it.key() != "reason") {
      throw HttpError(
          400, fmt::format("unknown field \"{}\" (expected: reason)", it.key().substr(0, 64)));
    }
    if (!it.value().is_string() || it.value().get<std::string>().size() > 500) {
      throw HttpError(400, "\"reason\" must be a string of at most 500 bytes");
    }
    fields["reason"] = it.value();
  }
  return fields;
}

std::string checked_approval_id(const std::string& id) {
  if (auto problem = api::approval_id_problem(id); !problem.empty()) throw HttpError(400, problem);
  return id;
}

std::optional<std::int64_t> parse_last_event_id(std::string_view header) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
  if (ec != std::errc{} || ptr != header.data() + header.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace vigil::http
