// One side of a ROS 2 bond, as a Nav2 lifecycle node keeps it with its lifecycle manager:
// publishes bond/msg/Status on rt/bond (ROS 2's default publisher QoS) every period, with ROS 2
// humble's field values. For tests and for trying `watchdog: {bond: ...}` without ROS 2.
//   bond_peer --id ID [--topic /bond] [--period MS] [--active true|false] [--break-after MS]
//             [--stop-after MS] [--exit-after MS]
// --period: between two messages (default 100, Nav2's); --active false: the bond is broken from
// the start; --break-after: publish active=false from MS on, as a Nav2 node does when it
// deactivates; --stop-after: stop publishing after MS but keep running (a hung node);
// --exit-after: exit 0 after MS. The domain is ROS_DOMAIN_ID (default 0), as in ROS 2.
#include <dds/dds.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "bond_messages.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop = true;
}

int usage(const char* why) {
  std::fprintf(stderr,
               "bond_peer: %s\nusage: bond_peer --id ID [--topic /bond] [--period MS] "
               "[--active true|false] [--break-after MS] [--stop-after MS] [--exit-after MS]\n",
               why);
  return 2;
}

bool parse_ms(const char* text, long& out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string id;
  std::string topic = "/bond";
  long period_ms = 100;  // Nav2's bond heartbeat period
  bool active = true;
  long break_after_ms = -1;
  long stop_after_ms = -1;
  long exit_after_ms = -1;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + flag).c_str());
    const char* value = argv[i + 1];
    bool ok = true;
    if (flag == "--id") {
      id = value;
    } else if (flag == "--topic") {
      topic = value;
      ok = !topic.empty() && topic.front() == '/';
    } else if (flag == "--period") {
      ok = parse_ms(value, period_ms) && period_ms > 0;
    } else if (flag == "--active") {
      const std::string v = value;
      ok = v == "true" || v == "false";
      active = v == "true";
    } else if (flag == "--break-after") {
      ok = parse_ms(value, break_after_ms);
    } else if (flag == "--stop-after") {
      ok = parse_ms(value, stop_after_ms);
    } else if (flag == "--exit-after") {
      ok = parse_ms(value, exit_after_ms);
    } else {
      return usage(("unknown option " + flag).c_str());
    }
    if (!ok) return usage(("bad value for " + flag + ": " + value).c_str());
  }
  if (id.empty()) return usage("--id is required");
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  const char* domain_env = std::getenv("ROS_DOMAIN_ID");
  const auto domain =
      static_cast<dds_domainid_t>(domain_env != nullptr ? std::atoi(domain_env) : 0);
  const dds_entity_t participant = dds_create_participant(domain, nullptr, nullptr);
  if (participant < 0) {
    std::fprintf(stderr, "bond_peer: participant: %s\n", dds_strretcode(participant));
    return 1;
  }
  const std::string dds_topic = "rt" + topic;
  const dds_entity_t t = dds_create_topic(participant, &bond_msg_dds__Status__desc,
                                          dds_topic.c_str(), nullptr, nullptr);
  if (t < 0) {
    std::fprintf(stderr, "bond_peer: topic %s: %s\n", dds_topic.c_str(), dds_strretcode(t));
    dds_delete(participant);
    return 1;
  }
  // bondcpp's publisher: ROS 2's default QoS (reliable, volatile, keep last 10).
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  const dds_entity_t writer = dds_create_writer(participant, t, qos, nullptr);
  dds_delete_qos(qos);
  if (writer < 0) {
    std::fprintf(stderr, "bond_peer: writer: %s\n", dds_strretcode(writer));
    dds_delete(participant);
    return 1;
  }

  // bondcpp's instance id is a UUID per side; this process's pid and start time suffice here.
  std::string instance_id =
      "bond_peer-" + std::to_string(::getpid()) + "-" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  bond_msg_dds__Status_ status{};
  status.header.frame_id = const_cast<char*>("");
  status.id = id.data();
  status.instance_id = instance_id.data();
  status.active = active;
  status.heartbeat_timeout = 4.0F;  // Nav2's
  status.heartbeat_period = static_cast<float>(period_ms) / 1000.0F;
  std::printf("bond_peer %s: publishing on %s every %ld ms (active=%s)\n", id.c_str(),
              topic.c_str(), period_ms, active ? "true" : "false");
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  bool announced_stop = false;
  while (!g_stop) {
    const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count();
    if (exit_after_ms >= 0 && elapsed_ms >= exit_after_ms) break;
    if (status.active && break_after_ms >= 0 && elapsed_ms >= break_after_ms) {
      status.active = false;
      std::printf("bond_peer %s: broke the bond (active=false)\n", id.c_str());
      std::fflush(stdout);
    }
    if (stop_after_ms < 0 || elapsed_ms < stop_after_ms) {
      const auto wall = std::chrono::system_clock::now().time_since_epoch();
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count();
      status.header.stamp.sec = static_cast<std::int32_t>(ns / 1'000'000'000);
      status.header.stamp.nanosec = static_cast<std::uint32_t>(ns % 1'000'000'000);
      if (const dds_return_t rc = dds_write(writer, &status); rc < 0) {
        std::fprintf(stderr, "bond_peer: write: %s\n", dds_strretcode(rc));
      }
    } else if (!announced_stop) {
      announced_stop = true;
      std::printf("bond_peer %s: stopped publishing, still running\n", id.c_str());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
  }
  dds_delete(participant);
  return 0;
}
