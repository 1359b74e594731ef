#include <cstdio>
#include <vigil/dds.hpp>
#include <vigil/vigil.hpp>

int main() {
  // Beats on demand (no vigild needed: a DDS write succeeds without readers).
  vigil::DdsHeartbeatOptions options;
  options.own_thread = false;
  vigil::DdsHeartbeat heartbeat(options);
  if (!heartbeat.status() || !heartbeat.beat()) {
    std::fprintf(stderr, "heartbeat: %s\n", heartbeat.status_detail().c_str());
    return 1;
  }
  vigil::ModeListener mode;
  if (!mode.status() || mode.value<double>("max_speed")) return 1;  // nobody publishes a mode
  if (!vigil::notify_ready()) return 1;
  std::puts("libvigil_dds consumer ok");
  return 0;
}
