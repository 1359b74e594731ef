// Odometry: the wheels. Drives at the velocity the controller commands (/cmd_vel) and reports
// what the wheels did on /odom_twist (geometry_msgs/Twist) at 50 Hz. Heartbeats on the notify
// socket. SIGUSR1: communication failure with vigild (no more heartbeats, while odometry keeps
// running and publishing), SIGUSR2: heartbeats again.
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

int main() {
  warehouse::Node node("odometry", "heartbeat loss: no heartbeats, still publishing");
  warehouse::Participant participant;
  const dds_entity_t commands = participant.reader("/cmd_vel", &geometry_msgs_msg_dds__Twist__desc);
  const dds_entity_t twists =
      participant.writer("/odom_twist", &geometry_msgs_msg_dds__Twist__desc);
  if (commands < 0) warehouse::die("cannot create the /cmd_vel reader", commands);
  if (twists < 0) warehouse::die("cannot create the /odom_twist writer", twists);
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment([&] { return !node.fault(); });

  geometry_msgs_msg_dds__Twist_ commanded{};
  geometry_msgs_msg_dds__Twist_ measured{};
  (void)vigil::notify_ready();
  warehouse::say("odometry: /odom_twist at 50 Hz, following /cmd_vel");
  node.run_every(20ms, [&] {
    warehouse::take_all<geometry_msgs_msg_dds__Twist_>(
        commands, [&](const geometry_msgs_msg_dds__Twist_& c) { commanded = c; });
    // The wheels follow the command with some inertia.
    measured.linear.x += 0.2 * (commanded.linear.x - measured.linear.x);
    measured.angular.z += 0.2 * (commanded.angular.z - measured.angular.z);
    warehouse::publish(twists, measured);
  });
  (void)vigil::notify_stopping();
  return 0;
}
