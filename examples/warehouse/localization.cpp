// Localization: where the robot is. Dead-reckons the pose from /odom_twist and publishes it on
// /pose (geometry_msgs/PoseStamped) at 10 Hz; keeps the distance to the nearest obstacle
// ahead from the lidar's /scan, or from the camera's /camera/range while the scan is stale
// (vigil::Freshness: the staleness goes to vigild as this component's STATUS).
// SIGUSR1: memory leak, ~20 MiB/s of touched pages (resource exhaustion), SIGUSR2: stops it
// and gives the memory back.
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

namespace {

// The nearest obstacle within 10 degrees of straight ahead, from a scan.
float nearest_ahead(const sensor_msgs_msg_dds__LaserScan_& scan) {
  float nearest = scan.range_max;
  for (uint32_t i = 0; i < scan.ranges._length; ++i) {
    const float angle = scan.angle_min + i * scan.angle_increment;
    const float r = scan.ranges._buffer[i];
    if (std::abs(angle) < 0.175f && r >= scan.range_min && r < nearest) nearest = r;
  }
  return nearest;
}

}  // namespace

int main() {
  warehouse::Node node("localization", "memory leak: 20 MiB/s");
  warehouse::Participant participant;
  const dds_entity_t scans = participant.reader("/scan", &sensor_msgs_msg_dds__LaserScan__desc);
  const dds_entity_t ranges =
      participant.reader("/camera/range", &sensor_msgs_msg_dds__Range__desc);
  const dds_entity_t twists =
      participant.reader("/odom_twist", &geometry_msgs_msg_dds__Twist__desc);
  const dds_entity_t poses = participant.writer("/pose", &geometry_msgs_msg_dds__PoseStamped__desc);
  for (dds_entity_t e : {scans, ranges, twists, poses}) {
    if (e < 0) warehouse::die("cannot create a reader or writer", e);
  }
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment();

  // Three scans (300 ms) without one: stale, use the camera. The camera's own limit is looser
  // since it publishes at 5 Hz.
  vigil::Freshness<float> obstacle_from_scan("lidar scan", 300ms);
  vigil::Freshness<float> obstacle_from_camera("camera range", 600ms, {},
                                               [](std::string_view) {});  // scan's status wins
  geometry_msgs_msg_dds__Twist_ velocity{};
  double x = 0, y = 0, heading = 0;
  std::vector<std::unique_ptr<char[]>> leaked;
  bool was_using_camera = false;

  (void)vigil::notify_ready();
  warehouse::say(
      "localization: /pose at 10 Hz from /odom_twist; obstacles from /scan, "
      "/camera/range as fallback");
  constexpr auto period = 100ms;
  node.run_every(period, [&] {
    warehouse::take_all<sensor_msgs_msg_dds__LaserScan_>(
        scans, [&](const auto& scan) { obstacle_from_scan.update(nearest_ahead(scan)); });
    warehouse::take_all<sensor_msgs_msg_dds__Range_>(
        ranges, [&](const auto& range) { obstacle_from_camera.update(range.range); });
    warehouse::take_all<geometry_msgs_msg_dds__Twist_>(twists,
                                                       [&](const auto& t) { velocity = t; });

    bool using_camera = false;
    // Neither sensor fresh: nothing is known ahead, which must count as blocked (0 m).
    const float obstacle = obstacle_from_scan.value_or_else([&] {
      using_camera = true;
      return obstacle_from_camera.get().value_or(0.0f);
    });
    if (using_camera != was_using_camera) {
      warehouse::say("localization: obstacles from the %s", using_camera ? "camera" : "lidar");
      was_using_camera = using_camera;
    }
    (void)obstacle;  // a real localizer would match the scan to the map here

    const double dt = std::chrono::duration<double>(period).count();
    heading += velocity.angular.z * dt;
    x += velocity.linear.x * std::cos(heading) * dt;
    y += velocity.linear.x * std::sin(heading) * dt;
    geometry_msgs_msg_dds__PoseStamped_ pose{};
    pose.header.stamp = warehouse::stamp_now();
    pose.header.frame_id = const_cast<char*>("map");
    pose.pose.position = {x, y, 0};
    pose.pose.orientation = {0, 0, std::sin(heading / 2), std::cos(heading / 2)};
    warehouse::publish(poses, pose);

    if (node.fault()) {
      constexpr std::size_t chunk = 2 << 20;  // 2 MiB per 100 ms
      leaked.emplace_back(new char[chunk]);
      std::memset(leaked.back().get(), 0xa5, chunk);  // touched: resident, not just reserved
    } else if (!leaked.empty()) {
      leaked.clear();
    }
  });
  (void)vigil::notify_stopping();
  return 0;
}
