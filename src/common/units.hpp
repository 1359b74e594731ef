#pragma once
// Parsing and printing of the units users write in configs and on the command line.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using Duration = std::chrono::nanoseconds;

// "250ms", "5s", "2m", "1h", "1d", "1.5s", "100us", "0". A bare number other than 0 is
// rejected: a unit-less timeout is the classic source of 1000x mistakes.
std::optional<Duration> parse_duration(std::string_view text);

// "200MiB", "1GiB", "64KiB", "10MB", "512B", "4096". Returns bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Signal names "SIGTERM", "TERM", "sigkill" or numbers; nullopt for anything else.
std::optional<int> parse_signal(std::string_view text);
std::string signal_name(int sig);

// "1.2s", "350ms", "2m05s", "3h12m", "4d02h": short, human, for status lines.
std::string format_duration(Duration d);

}  // namespace vigil
