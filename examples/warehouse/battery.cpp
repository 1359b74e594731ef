// The battery: publishes its charge in percent on /battery (std_msgs/Float32) at 1 Hz,
// draining slowly, and reports it to vigild as STATUS ("battery NN%") each time the whole
// percent changes. No fault switch: it is the part that just works.
#include <cmath>
#include <vigil/vigil.hpp>

#include "node.hpp"

using namespace std::chrono_literals;

int main() {
  warehouse::Node node("battery", "none (the battery has no fault switch)");
  warehouse::Participant participant;
  const dds_entity_t charge_writer =
      participant.writer("/battery", &std_msgs_msg_dds__Float32__desc);
  if (charge_writer < 0) warehouse::die("cannot create the /battery writer", charge_writer);
  vigil::Heartbeat heartbeat = vigil::Heartbeat::from_environment();

  float percent = 100.0f;
  int reported = -1;
  (void)vigil::notify_ready();
  warehouse::say("battery: /battery at 1 Hz, %.0f%%", percent);
  node.run_every(1s, [&] {
    const std_msgs_msg_dds__Float32_ charge{percent};
    warehouse::publish(charge_writer, charge);
    if (std::lround(percent) != reported) {
      reported = static_cast<int>(std::lround(percent));
      (void)vigil::notify_status("battery " + std::to_string(reported) + "%");
    }
    // A charging dock tops it up when it runs low, so the demo can run for ever.
    percent = percent > 20.0f ? percent - 0.05f : 100.0f;
  });
  (void)vigil::notify_stopping();
  return 0;
}
