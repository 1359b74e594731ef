#include "alerts/alert.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

namespace vigil::alerts {

std::string rfc3339(std::int64_t wall_us) {
  const std::time_t seconds = static_cast<std::time_t>(wall_us / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>((wall_us % 1'000'000) / 1000));
}

nlohmann::json webhook_body(const Alert& alert, const nlohmann::json& event) {
  const bool firing = alert.ends_at_us == 0;
  return {{"version", 1},
          {"status", firing ? "firing" : "resolved"},
          {"alertname", alert.name},
          {"labels", alert.labels},
          {"annotations", alert.annotations},
          {"starts_at", rfc3339(alert.starts_at_us)},
          {"ends_at", firing ? nlohmann::json() : nlohmann::json(rfc3339(alert.ends_at_us))},
          {"event", event}};
}

nlohmann::json alertmanager_alert(const Alert& alert, std::int64_t ends_at_us) {
  // Alertmanager rejects an alert that ends before it starts.
  const std::int64_t ends = std::max(ends_at_us, alert.starts_at_us);
  return {{"labels", alert.labels},
          {"annotations", alert.annotations},
          {"startsAt", rfc3339(alert.starts_at_us)},
          {"endsAt", rfc3339(ends)}};
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace vigil::alerts
