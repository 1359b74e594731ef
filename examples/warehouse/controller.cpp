// The controller: steers the robot from its /pose to the planner's /goal_pose, publishing
// /cmd_vel (geometry_msgs/Twist) at 20 Hz, never faster than the system mode's max_speed
// (vigil::ModeListener on /vigil/mode; 1 m/s when the mode sets none). Each change of mode or
// max_speed is reported to vigild as STATUS ("mode=NAME max_speed=V"), so it shows in vigil's
// event log as status_changed. SIGUSR1: it crashes (abort()).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vigil/dds.hpp>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

namespace {

constexpr double default_max_speed = 1.0;  // m/s

std::string format_speed(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

int main() {
  warehouse::Node node("controller", "crash: abort()", [](bool on) {
    if (on) std::abort();
  });
  warehouse::Participant participant;
  const dds_entity_t poses = participant.reader("/pose", &geometry_msgs_msg_dds__PoseStamped__desc);
  const dds_entity_t goals =
      participant.reader("/goal_pose", &geometry_msgs_msg_dds__PoseStamped__desc);
  const dds_entity_t commands = participant.writer("/cmd_vel", &geometry_msgs_msg_dds__Twist__desc);
  for (dds_entity_t e : {poses, goals, commands}) {
    if (e < 0) warehouse::die("cannot create a reader or writer", e);
  }
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment();

  // The callback runs on a DDS thread (or in the constructor): it only stores and reports.
  std::atomic<double> max_speed{default_max_speed};
  vigil::ModeListenerOptions mode_options;
  mode_options.participant = participant.get();
  mode_options.on_change = [&max_speed](const vigil::SystemMode& mode) {
    const double speed = mode.value<double>("max_speed").value_or(default_max_speed);
    max_speed = speed;
    const std::string status = "mode=" + mode.name + " max_speed=" + format_speed(speed);
    warehouse::say("controller: %s", status.c_str());
    (void)vigil::notify_status(status);
  };
  vigil::ModeListener mode(std::move(mode_options));
  if (!mode.status())
    warehouse::say("controller: no system mode: %s", mode.status_detail().c_str());

  geometry_msgs_msg_dds__PoseStamped_ pose{};
  geometry_msgs_msg_dds__PoseStamped_ goal{};
  bool have_pose = false, have_goal = false;
  (void)vigil::notify_ready();
  warehouse::say("controller: /cmd_vel at 20 Hz, max_speed %s m/s until the mode says otherwise",
                 format_speed(default_max_speed).c_str());
  node.run_every(50ms, [&] {
    warehouse::take_all<geometry_msgs_msg_dds__PoseStamped_>(poses, [&](const auto& p) {
      pose = p;
      have_pose = true;
    });
    warehouse::take_all<geometry_msgs_msg_dds__PoseStamped_>(goals, [&](const auto& g) {
      goal = g;
      have_goal = true;
    });
    geometry_msgs_msg_dds__Twist_ command{};  // no pose or no goal yet: stand still
    if (have_pose && have_goal) {
      const auto& q = pose.pose.orientation;
      const double heading = 2 * std::atan2(q.z, q.w);
      const double dx = goal.pose.position.x - pose.pose.position.x;
      const double dy = goal.pose.position.y - pose.pose.position.y;
      const double bearing = std::remainder(std::atan2(dy, dx) - heading, 2 * M_PI);
      const double limit = max_speed.load();
      // Turn towards the goal first, then drive; slow down on arrival.
      command.angular.z = std::clamp(2.0 * bearing, -1.5, 1.5);
      const double speed = std::abs(bearing) < 0.5 ? 0.8 * std::hypot(dx, dy) : 0.0;
      command.linear.x = std::clamp(speed, 0.0, limit);
    }
    warehouse::publish(commands, command);
  });
  (void)vigil::notify_stopping();
  return 0;
}
