#include <stdio.h>
#include <vigil/vigil.h>
#include <vigil/vigil_dds.h>

int main(void) {
  vigil_dds_heartbeat_options_t options;
  vigil_dds_heartbeat_t* heartbeat = NULL;
  vigil_dds_heartbeat_options_init(&options);
  options.own_thread = 0;
  if (vigil_dds_heartbeat_start(&options, &heartbeat) != 0) return 1;
  if (vigil_dds_heartbeat_beat(heartbeat) != 0) return 1;
  vigil_dds_heartbeat_stop(heartbeat);
  if (vigil_notify_ready() != 0) return 1;
  puts("libvigil_dds C consumer ok");
  return 0;
}
