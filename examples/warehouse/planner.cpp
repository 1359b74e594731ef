// The planner: picks the next goal of the robot's round through the warehouse (four corners of
// an aisle) from its /pose, and publishes it on /goal_pose (geometry_msgs/PoseStamped) at 2 Hz.
// Its planning loop is a vigil::WatchedLoop named "plan": vigild declares a hang when the loop
// stops turning, even though the process's heartbeat goes on.
// SIGUSR1: the planning loop gets stuck (navigation stuck), SIGUSR2: it goes on.
#include <cmath>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

int main() {
  warehouse::Node node("planner", "navigation stuck: the plan loop makes no progress");
  warehouse::Participant participant;
  const dds_entity_t poses = participant.reader("/pose", &geometry_msgs_msg_dds__PoseStamped__desc);
  const dds_entity_t goals =
      participant.writer("/goal_pose", &geometry_msgs_msg_dds__PoseStamped__desc);
  if (poses < 0) warehouse::die("cannot create the /pose reader", poses);
  if (goals < 0) warehouse::die("cannot create the /goal_pose writer", goals);
  // The process heartbeat runs on its own thread and says nothing about the loop: that is what
  // the watched loop is for.
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment();
  // Four turns at 2 Hz: a planning cycle may be slow now and then, not stuck.
  vigil::WatchedLoop plan_loop("plan", std::chrono::milliseconds(2000));

  struct Waypoint {
    double x, y;
  };
  constexpr Waypoint round[] = {{5, 0}, {5, 3}, {0, 3}, {0, 0}};
  std::size_t next = 0;
  geometry_msgs_msg_dds__PoseStamped_ pose{};
  bool have_pose = false;

  (void)vigil::notify_ready();
  warehouse::say("planner: /goal_pose at 2 Hz, watched loop 'plan' (deadline 2 s)");
  node.run_every(500ms, [&] {
    // Stuck: blocked right here until SIGUSR2 (or SIGTERM), as a planner waiting on a lock.
    node.wait_while([&] { return node.fault(); });
    if (!node.running()) return;
    warehouse::take_all<geometry_msgs_msg_dds__PoseStamped_>(poses, [&](const auto& p) {
      pose = p;
      have_pose = true;
    });
    const Waypoint& goal = round[next];
    if (have_pose &&
        std::hypot(goal.x - pose.pose.position.x, goal.y - pose.pose.position.y) < 0.3) {
      next = (next + 1) % std::size(round);
      warehouse::say("planner: waypoint reached, next (%.0f, %.0f)", round[next].x, round[next].y);
    }
    geometry_msgs_msg_dds__PoseStamped_ out{};
    out.header.stamp = warehouse::stamp_now();
    out.header.frame_id = const_cast<char*>("map");
    out.pose.position = {round[next].x, round[next].y, 0};
    out.pose.orientation.w = 1;
    warehouse::publish(goals, out);
    (void)plan_loop.beat();
  });
  (void)vigil::notify_stopping();
  return 0;
}
