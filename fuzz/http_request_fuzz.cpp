// What an HTTP client controls after httplib has parsed the request line and headers: query
// parameters, a command's body, the Host and Last-Event-ID headers. Every rejection must be an
// HttpError with status 400 and a message; anything else (another exception, a crash, UB) is
// a bug. Input: four fields separated by newlines — query string, body, Host, Last-Event-ID.
// (httplib's own parser is a prebuilt Debian library, not instrumented here.)
#include <cstdint>
#include <string>
#include <string_view>

#include "http/request_parsing.hpp"

namespace {

using vigil::http::HttpError;
using vigil::http::QueryParams;

QueryParams parse_query(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    params.emplace(std::string(pair.substr(0, eq)),
                   eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

template <typename F>
void expect_ok_or_400(F f) {
  try {
    f();
  } catch (const HttpError& e) {
    if (e.status != 400 || std::string_view(e.what()).empty()) __builtin_trap();
  }
}

std::string_view next_field(std::string_view& input) {
  const auto nl = input.find('\n');
  const auto field = input.substr(0, nl);
  input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
  return field;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto params = parse_query(next_field(input));
  const auto body = next_field(input);
  const std::string host(next_field(input));
  const auto last_event_id = next_field(input);

  using namespace vigil::http;
  // The events route, the widest set of parameters.
  expect_ok_or_400([&] {
    allow_params(params, {"component", "since", "after", "before", "limit"});
    (void)text_param(params, "component");
    (void)duration_param(params, "since", 0);
    (void)int_param(params, "after", 0, INT64_MAX, 0);
    (void)int_param(params, "before", 0, INT64_MAX, 0);
    (void)int_param(params, "limit", 1, 10000, 100);
  });
  // The same parameters read without the allow-list (routes read what they know).
  expect_ok_or_400([&] { (void)duration_param(params, "since", 0); });
  expect_ok_or_400([&] { (void)int_param(params, "points", 2, 5000, 600); });
  expect_ok_or_400([&] {
    auto fields = parse_command_body(body);
    if (!fields.is_object()) __builtin_trap();
    if (fields.contains("reason") && !fields["reason"].is_string()) __builtin_trap();
  });
  if (auto id = parse_last_event_id(last_event_id); id && *id < 0) __builtin_trap();
  const auto h = host_of(host);
  if (h.size() > host.size()) __builtin_trap();
  (void)is_ip_literal_or_localhost(h);
  (void)is_loopback_host(h);
  return 0;
}
