// The camera: the backup obstacle sensor (depth straight ahead), publishing /camera/range
// (sensor_msgs/Range) at 5 Hz; localization falls back to it when the lidar's scan is stale.
// Heartbeats on the notify socket (vigil::Heartbeat).
// SIGUSR1: sensor dropout (no more ranges, the heartbeat goes on), SIGUSR2: ranges again.
#include <cmath>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

int main() {
  warehouse::Node node("camera", "sensor dropout: no ranges, heartbeat continues");
  warehouse::Participant participant;
  const dds_entity_t ranges =
      participant.writer("/camera/range", &sensor_msgs_msg_dds__Range__desc);
  if (ranges < 0) warehouse::die("cannot create the /camera/range writer", ranges);
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment();

  sensor_msgs_msg_dds__Range_ range{};
  range.header.frame_id = const_cast<char*>("camera_depth");
  range.radiation_type = 1;  // INFRARED: the closest match for a depth camera
  range.field_of_view = 1.2f;
  range.min_range = 0.2f;
  range.max_range = 10.0f;

  (void)vigil::notify_ready();
  warehouse::say("camera: /camera/range at 5 Hz");
  unsigned tick = 0;
  node.run_every(200ms, [&] {
    ++tick;
    if (node.fault()) return;
    range.range = 4.0f + 2.0f * std::sin(tick * 0.1f);  // the same pallet the lidar sees
    range.header.stamp = warehouse::stamp_now();
    warehouse::publish(ranges, range);
  });
  (void)vigil::notify_stopping();
  return 0;
}
