/* The mode file listener's C API from C99: a file replaced atomically, a callback, snapshots,
 * an inactive listener outside vigild. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
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

static void write_atomically(const char* path, const char* text) {
  char temp[300];
  snprintf(temp, sizeof temp, "%s.tmp", path);
  int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  CHECK(fd >= 0);
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  CHECK(fsync(fd) == 0);
  close(fd);
  CHECK(rename(temp, path) == 0);
}

static void sleep_10ms(void) {
  struct timespec t = {0, 10000000L};
  nanosleep(&t, NULL);
}

static volatile int callbacks = 0; /* written by the listener thread, read after a wait */
static char last_name[64];
static void on_change(const vigil_file_mode_t* mode, void* context) {
  CHECK(context == &callbacks);
  strncpy(last_name, vigil_file_mode_name(mode), sizeof last_name - 1);
  ++callbacks;
}

int main(void) {
  char dir_template[] = "/tmp/libvigil-modec-XXXXXX";
  char* dir = mkdtemp(dir_template);
  char path[256];
  char status[128];
  vigil_file_mode_listener_t* listener = NULL;
  vigil_file_mode_t* mode = NULL;
  double speed = 0;
  int64_t since = 0;
  int i;

  CHECK(dir != NULL);
  snprintf(path, sizeof path, "%s/mode", dir);

  /* Not under vigild: an inactive listener, no error. */
  unsetenv("VIGIL_MODE_FILE");
  CHECK(vigil_file_mode_listener_start(NULL, NULL, NULL, &listener) == 0);
  CHECK(listener != NULL);
  CHECK(vigil_file_mode_listener_active(listener) == 0);
  CHECK(vigil_file_mode_listener_current(listener, &mode) == -ENODATA && mode == NULL);
  CHECK(vigil_file_mode_listener_wait(listener, 5000000, &mode) == -ENODATA);
  CHECK(vigil_file_mode_listener_status(listener, status, sizeof status) > 0);
  CHECK(strstr(status, "VIGIL_MODE_FILE") != NULL);
  vigil_file_mode_listener_stop(listener);
  listener = NULL;

  /* Invalid arguments. */
  CHECK(vigil_file_mode_listener_start(path, NULL, NULL, NULL) == -EINVAL);
  CHECK(vigil_file_mode_listener_start("", NULL, NULL, &listener) == -EINVAL && !listener);
  CHECK(vigil_file_mode_listener_start("/tmp/", NULL, NULL, &listener) == -EINVAL);
  CHECK(vigil_file_mode_listener_active(NULL) == 0);
  CHECK(vigil_file_mode_listener_last_read(NULL) == -EINVAL);
  CHECK(vigil_file_mode_listener_status(NULL, status, sizeof status) == 0 && status[0] == 0);
  CHECK(vigil_file_mode_name(NULL) == NULL);
  CHECK(vigil_file_mode_value_count(NULL) == 0);
  vigil_file_mode_listener_stop(NULL);
  vigil_file_mode_free(NULL);

  /* The file appears after the start, then changes. */
  setenv("VIGIL_MODE_FILE", path, 1);
  CHECK(vigil_file_mode_listener_start(NULL, on_change, (void*)&callbacks, &listener) == 0);
  CHECK(vigil_file_mode_listener_active(listener) == 1);
  CHECK(vigil_file_mode_listener_last_read(listener) == -ENOENT);
  CHECK(vigil_file_mode_listener_wait(listener, 1000, &mode) == -ETIMEDOUT);
  write_atomically(path,
                   "seq=1\nmode=degraded\nreason=lidar\\nlost\nsince_us=1500000\n"
                   "value.max_speed=0.3\nvalue.zone=b\nfuture=ignored\n");
  CHECK(vigil_file_mode_listener_wait(listener, 10000000, &mode) == 0);
  CHECK(mode != NULL);
  if (mode != NULL) {
    CHECK(strcmp(vigil_file_mode_name(mode), "degraded") == 0);
    CHECK(strcmp(vigil_file_mode_reason(mode), "lidar\nlost") == 0);
    CHECK(vigil_file_mode_since(mode, &since) == 0 && since == 1500000);
    CHECK(vigil_file_mode_value_count(mode) == 2);
    CHECK(strcmp(vigil_file_mode_value_key_at(mode, 0), "max_speed") == 0);
    CHECK(strcmp(vigil_file_mode_value_at(mode, 1), "b") == 0);
    CHECK(vigil_file_mode_value_key_at(mode, 2) == NULL);
    CHECK(strcmp(vigil_file_mode_value(mode, "zone"), "b") == 0);
    CHECK(vigil_file_mode_value(mode, "absent") == NULL);
    CHECK(vigil_file_mode_value_double(mode, "max_speed", &speed) == 0 && speed == 0.3);
    CHECK(vigil_file_mode_value_double(mode, "zone", &speed) == -EINVAL);
    CHECK(vigil_file_mode_value_double(mode, "absent", &speed) == -ENOENT);
    vigil_file_mode_free(mode);
    mode = NULL;
  }

  write_atomically(path, "seq=2\nmode=nominal\nreason=\nsince_us=2000000\n");
  for (i = 0; i < 1000 && callbacks < 2; ++i) sleep_10ms(); /* poll with a deadline */
  CHECK(callbacks == 2);
  CHECK(strcmp(last_name, "nominal") == 0);
  CHECK(vigil_file_mode_listener_current(listener, &mode) == 0);
  CHECK(mode != NULL && strcmp(vigil_file_mode_name(mode), "nominal") == 0);
  vigil_file_mode_free(mode);

  /* Garbage: the mode stays, the reason is reported. */
  write_atomically(path, "no mode here\n");
  for (i = 0; i < 1000 && vigil_file_mode_listener_last_read(listener) != -EBADMSG; ++i)
    sleep_10ms();
  CHECK(vigil_file_mode_listener_last_read(listener) == -EBADMSG);
  CHECK(vigil_file_mode_listener_status(listener, status, 8) > 7 && strlen(status) == 7);
  CHECK(vigil_file_mode_listener_current(listener, &mode) == 0);
  CHECK(mode != NULL && strcmp(vigil_file_mode_name(mode), "nominal") == 0);
  vigil_file_mode_free(mode);

  vigil_file_mode_listener_stop(listener);
  unsetenv("VIGIL_MODE_FILE");
  unlink(path);
  rmdir(dir);
  if (failures != 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("mode file C API: ok\n");
  return 0;
}
