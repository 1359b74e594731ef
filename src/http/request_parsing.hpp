#pragma once
// Checks of what an HTTP client sends, apart from the server so that they can be unit-tested
// and fuzzed: query parameters, the command body, the Host and Last-Event-ID headers. Every
// rejection is an HttpError carrying its status code and a message for the client.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vigil::http {

// Answers with a status code and a JSON error.
struct HttpError : std::runtime_error {
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

// A request's decoded query parameters (httplib::Params is this type).
using QueryParams = std::multimap<std::string, std::string>;

// 400 for a parameter the route does not take, or one given twice: a typo must not silently
// mean "everything".
void allow_params(const QueryParams& params, std::initializer_list<std::string_view> allowed);
// The parameter's value, empty when absent; 400 when longer than `max`.
std::string text_param(const QueryParams& params, const char* name, std::size_t max = 256);
// A whole number in [lo, hi], `fallback` when absent; 400 otherwise.
std::int64_t int_param(const QueryParams& params, const char* name, std::int64_t lo,
                       std::int64_t hi, std::int64_t fallback);
// A positive duration ("15m", "2h", "7d") in microseconds, `fallback` when absent.
std::int64_t duration_param(const QueryParams& params, const char* name, std::int64_t fallback);

// A command's optional body: empty, or {"reason": "at most 500 bytes"}. Returns the fields.
nlohmann::json parse_command_body(std::string_view body);
// An approval id taken from a URL path: 400 unless it is one the control protocol accepts
// (short printable ASCII), so both interfaces reject the same ids the same way.
std::string checked_approval_id(const std::string& id);
// A non-negative event id, or nothing for anything else.
std::optional<std::int64_t> parse_last_event_id(std::string_view header);

// Host header checks (DNS rebinding): the host part of "127.0.0.1:8080" or "[::1]:80".
std::string host_of(const std::string& header);
bool is_ip_literal_or_localhost(const std::string& host);
bool is_loopback_host(const std::string& host);

}  // namespace vigil::http
