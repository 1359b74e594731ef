// A component that beats over DDS instead of the notify socket: it writes vigil_msgs/Heartbeat
// on rt/vigil/heartbeat (MANUAL_BY_TOPIC liveliness, lease = its watchdog timeout) every half
// timeout, says READY=1 with libvigil, and can be told to stop beating while staying alive.
//   dds_heartbeat [--name NAME] [--period MS] [--stop-after MS]
#include <dds/dds.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vigil/vigil.hpp>

#include "ros2_messages.h"

int main(int argc, char** argv) {
  std::string name = "component";
  auto period = vigil::watchdog_interval().value_or(std::chrono::microseconds(1'000'000)) / 2;
  long stop_after_ms = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--name") name = argv[i + 1];
    if (a == "--period") period = std::chrono::milliseconds(std::atol(argv[i + 1]));
    if (a == "--stop-after") stop_after_ms = std::atol(argv[i + 1]);
  }
  // The domain as ROS 2 chooses it.
  const char* domain_env = std::getenv("ROS_DOMAIN_ID");
  const auto domain =
      static_cast<dds_domainid_t>(domain_env != nullptr ? std::atoi(domain_env) : 0);
  const dds_entity_t participant = dds_create_participant(domain, nullptr, nullptr);
  if (participant < 0) {
    std::fprintf(stderr, "dds_heartbeat: participant: %s\n", dds_strretcode(participant));
    return 1;
  }
  const dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                                              "rt/vigil/heartbeat", nullptr, nullptr);
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_liveliness(qos, DDS_LIVELINESS_MANUAL_BY_TOPIC,
                      std::chrono::duration_cast<std::chrono::nanoseconds>(period * 2).count());
  const dds_entity_t writer = dds_create_writer(participant, topic, qos, nullptr);
  dds_delete_qos(qos);
  if (writer < 0) {
    std::fprintf(stderr, "dds_heartbeat: writer: %s\n", dds_strretcode(writer));
    return 1;
  }
  vigil::notify_ready();
  std::printf("dds_heartbeat %s: beating every %lld ms\n", name.c_str(),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(period).count()));
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  vigil_msgs_msg_dds__Heartbeat_ beat{};
  beat.component = name.data();
  for (;;) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (stop_after_ms < 0 || elapsed < std::chrono::milliseconds(stop_after_ms)) {
      ++beat.count;
      dds_write(writer, &beat);
    }
    std::this_thread::sleep_for(period);
  }
}
