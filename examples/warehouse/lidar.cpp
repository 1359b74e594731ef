// The lidar: publishes /scan (sensor_msgs/LaserScan, 360 ranges, one per degree) at 10 Hz, the
// warehouse as seen from a robot driving down an aisle. It beats over DDS (vigil::DdsHeartbeat
// on /vigil/heartbeat), so vigild watches it through DDS liveliness as well as its watchdog.
// SIGUSR1: sensor dropout (no more scans, the heartbeat goes on), SIGUSR2: scans again.
#include <algorithm>
#include <cmath>
#include <vector>
#include <vigil/dds.hpp>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

int main() {
  warehouse::Node node("lidar", "sensor dropout: no scans, heartbeat continues");
  warehouse::Participant participant;
  const dds_entity_t scans = participant.writer("/scan", &sensor_msgs_msg_dds__LaserScan__desc);
  if (scans < 0) warehouse::die("cannot create the /scan writer", scans);

  vigil::DdsHeartbeatOptions beat_options;
  beat_options.participant = participant.get();
  vigil::DdsHeartbeat heartbeat(beat_options);
  if (!heartbeat.status()) {
    warehouse::say("lidar: no DDS heartbeat: %s", heartbeat.status_detail().c_str());
    return 1;
  }

  constexpr int beams = 360;
  constexpr float pi = 3.14159265f;
  std::vector<float> ranges(beams);
  sensor_msgs_msg_dds__LaserScan_ scan{};
  scan.header.frame_id = const_cast<char*>("laser");
  scan.angle_min = -pi;
  scan.angle_max = pi - 2 * pi / beams;
  scan.angle_increment = 2 * pi / beams;
  scan.scan_time = 0.1f;
  scan.time_increment = scan.scan_time / beams;
  scan.range_min = 0.1f;
  scan.range_max = 30.0f;
  scan.ranges._buffer = ranges.data();
  scan.ranges._length = scan.ranges._maximum = beams;
  scan.ranges._release = false;

  (void)vigil::notify_ready();
  warehouse::say("lidar: domain %u, /scan at 10 Hz, %d ranges, DDS heartbeat every %lld ms",
                 heartbeat.domain(), beams,
                 static_cast<long long>(heartbeat.period().count() / 1000));
  unsigned tick = 0;
  node.run_every(100ms, [&] {
    ++tick;
    if (node.fault()) return;
    // Shelves 1.5 m to each side, a pallet ahead that comes and goes: a scene that changes.
    const float pallet = 4.0f + 2.0f * std::sin(tick * 0.05f);
    for (int i = 0; i < beams; ++i) {
      const float angle = scan.angle_min + i * scan.angle_increment;
      const float side =
          std::abs(std::sin(angle)) > 0.05f ? 1.5f / std::abs(std::sin(angle)) : scan.range_max;
      const float ahead = std::abs(angle) < 0.2f ? pallet : scan.range_max;
      ranges[i] = std::min({side, ahead, scan.range_max});
    }
    scan.header.stamp = warehouse::stamp_now();
    warehouse::publish(scans, scan);
  });
  (void)vigil::notify_stopping();
  return 0;
}
