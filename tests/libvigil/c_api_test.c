/* The C API from C99: vigil.h compiles as C and the functions link and behave. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vigil/vigil.h"

static int failures = 0;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

static int never_healthy(void* context) {
  (void)context;
  return 0;
}

int main(void) {
  char dir_template[] = "/tmp/libvigil-c-XXXXXX";
  char* dir = mkdtemp(dir_template);
  char path[256];
  vigil_checkpoint_t* checkpoint = NULL;
  vigil_heartbeat_t* heartbeat = NULL;
  uint64_t interval = 99;
  uint64_t generation = 0;
  size_t size = 0;
  char buffer[64];
  const char payload[] = "pose 1.0 2.0";

  CHECK(dir != NULL);
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  /* Outside vigil: successful no-ops. */
  CHECK(vigil_notify_ready() == 0);
  CHECK(vigil_notify_status("hello") == 0);
  CHECK(vigil_notify_watchdog() == 0);
  CHECK(vigil_extend_timeout(1000000) == 0);
  CHECK(vigil_loop_declare("plan", 500000) == 0);
  CHECK(vigil_loop_beat("plan") == 0);
  CHECK(vigil_loop_retire("plan") == 0);
  CHECK(vigil_notify_stopping() == 0);
  /* Bad arguments are -EINVAL. */
  CHECK(vigil_notify(NULL) == -EINVAL);
  CHECK(vigil_loop_declare("bad name", 500000) == -EINVAL);
  CHECK(vigil_loop_declare("plan", 0) == -EINVAL);
  CHECK(vigil_loop_name_valid("a/b.c-d_e") == 1);
  CHECK(vigil_loop_name_valid("") == 0);
  setenv("NOTIFY_SOCKET", "not-absolute", 1);
  CHECK(vigil_notify_ready() == -EINVAL);
  unsetenv("NOTIFY_SOCKET");

  CHECK(vigil_watchdog_interval(&interval) == 0 && interval == 0);
  CHECK(vigil_heartbeat_start_from_environment(NULL, NULL, &heartbeat) == 0 && heartbeat == NULL);
  vigil_heartbeat_stop(NULL);
  setenv("WATCHDOG_USEC", "200000", 1);
  CHECK(vigil_watchdog_interval(&interval) == 1 && interval == 200000);
  CHECK(vigil_heartbeat_start(10000, never_healthy, NULL, &heartbeat) == 0 && heartbeat != NULL);
  {
    const struct timespec fifty_ms = {0, 50000000L};
    nanosleep(&fifty_ms, NULL);
  }
  CHECK(vigil_heartbeat_beats(heartbeat) == 0);
  vigil_heartbeat_stop(heartbeat);
  unsetenv("WATCHDOG_USEC");

  /* Checkpoints. */
  snprintf(path, sizeof path, "%s/state", dir);
  CHECK(vigil_checkpoint_open("", &checkpoint) == -EINVAL);
  CHECK(vigil_checkpoint_open(path, &checkpoint) == 0 && checkpoint != NULL);
  CHECK(vigil_checkpoint_load(checkpoint, buffer, sizeof buffer, &size, &generation) == -ENOENT);
  CHECK(vigil_checkpoint_save(checkpoint, payload, sizeof payload) == 0);
  CHECK(vigil_checkpoint_save(checkpoint, payload, sizeof payload) == 0);
  CHECK(vigil_checkpoint_load(checkpoint, buffer, 4, &size, NULL) == -EMSGSIZE);
  CHECK(size == sizeof payload);
  CHECK(vigil_checkpoint_load(checkpoint, buffer, sizeof buffer, &size, &generation) == 0);
  CHECK(size == sizeof payload && memcmp(buffer, payload, size) == 0 && generation == 2);
  CHECK(vigil_checkpoint_load(checkpoint, NULL, 0, NULL, NULL) == -EINVAL);
  vigil_checkpoint_close(checkpoint);
  vigil_checkpoint_close(NULL);

  snprintf(path, sizeof path, "rm -rf '%s'", dir);
  CHECK(system(path) == 0);
  if (failures == 0) printf("libvigil C API: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
