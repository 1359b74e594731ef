/* libvigil_dds's C API from C99: a heartbeat whose samples a raw DDS reader receives, a mode
 * listener that gets a latched mode from a raw writer playing vigild, and the documented
 * errors. Exits 0 when every check passed. */
#define _POSIX_C_SOURCE 200809L
#include <dds/dds.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <vigil/vigil_dds.h>

#include "ros2_messages.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pause_briefly(void) { /* polling interval, not a synchronisation */
  struct timespec t = {0, 5 * 1000 * 1000};
  nanosleep(&t, NULL);
}

static pthread_mutex_t callback_mutex = PTHREAD_MUTEX_INITIALIZER;
static int callback_calls = 0;
static char callback_mode[64];

static void on_change(const vigil_mode_t* mode, void* context) {
  pthread_mutex_lock(&callback_mutex);
  ++callback_calls;
  strncpy(callback_mode, vigil_mode_name(mode), sizeof callback_mode - 1);
  *(int*)context = 1;
  pthread_mutex_unlock(&callback_mutex);
}

static void test_heartbeat(dds_entity_t participant, int64_t domain) {
  dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__Heartbeat__desc,
                                        "rt/vigil/heartbeat", NULL, NULL);
  dds_entity_t reader = dds_create_reader(participant, topic, NULL, NULL);
  CHECK(reader > 0);

  vigil_dds_heartbeat_options_t options;
  vigil_dds_heartbeat_options_init(&options);
  CHECK(options.domain == -1 && options.own_thread == 1 && options.lease_usec == 0);
  options.domain = domain;
  options.component = "c_component";
  options.lease_usec = 600000;
  options.period_usec = 50000;
  vigil_dds_heartbeat_t* heartbeat = NULL;
  CHECK(vigil_dds_heartbeat_start(&options, &heartbeat) == 0);
  CHECK(heartbeat != NULL);
  CHECK(vigil_dds_heartbeat_lease_usec(heartbeat) == 600000);
  CHECK(vigil_dds_heartbeat_period_usec(heartbeat) == 50000);

  int received = 0;
  double deadline = now_s() + 10.0;
  while (!received && now_s() < deadline) {
    void* samples[1] = {NULL};
    dds_sample_info_t infos[1];
    if (dds_take(reader, samples, infos, 1, 1) == 1) {
      if (infos[0].valid_data) {
        const vigil_msgs_msg_dds__Heartbeat_* beat = samples[0];
        CHECK(strcmp(beat->component, "c_component") == 0);
        CHECK(beat->count >= 1);
        received = 1;
      }
      dds_return_loan(reader, samples, 1);
    } else {
      pause_briefly();
    }
  }
  CHECK(received);
  CHECK(vigil_dds_heartbeat_beat(heartbeat) == 0);
  CHECK(vigil_dds_heartbeat_beats(heartbeat) >= 2);
  vigil_dds_heartbeat_stop(heartbeat);

  /* Errors. */
  CHECK(vigil_dds_heartbeat_start(&options, NULL) == -EINVAL);
  options.period_usec = options.lease_usec;
  heartbeat = (vigil_dds_heartbeat_t*)&options; /* must be reset to NULL on error */
  CHECK(vigil_dds_heartbeat_start(&options, &heartbeat) == -EINVAL);
  CHECK(heartbeat == NULL);
  vigil_dds_heartbeat_options_init(&options);
  options.domain = -2;
  CHECK(vigil_dds_heartbeat_start(&options, &heartbeat) == -EINVAL);
  CHECK(vigil_dds_heartbeat_beat(NULL) == -EINVAL);
  CHECK(vigil_dds_heartbeat_beats(NULL) == 0);
  vigil_dds_heartbeat_stop(NULL);
  vigil_dds_heartbeat_options_init(NULL);
}

static void test_mode(dds_entity_t participant, int64_t domain) {
  dds_entity_t topic = dds_create_topic(participant, &vigil_msgs_msg_dds__SystemMode__desc,
                                        "rt/vigil/mode", NULL, NULL);
  dds_qos_t* qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_durability(qos, DDS_DURABILITY_TRANSIENT_LOCAL);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 1);
  dds_entity_t writer = dds_create_writer(participant, topic, qos, NULL);
  dds_delete_qos(qos);
  CHECK(writer > 0);
  diagnostic_msgs_msg_dds__KeyValue_ values[2] = {{"max_speed", "0.8"}, {"arm", "parked"}};
  vigil_msgs_msg_dds__SystemMode_ mode;
  memset(&mode, 0, sizeof mode);
  mode.stamp.sec = 1700000000;
  mode.stamp.nanosec = 5;
  mode.mode = "cautious";
  mode.reason = "people nearby";
  mode.values._maximum = mode.values._length = 2;
  mode.values._buffer = values;
  CHECK(dds_write(writer, &mode) == DDS_RETCODE_OK);

  int flag = 0;
  vigil_mode_listener_t* listener = NULL;
  CHECK(vigil_mode_listener_start(domain, 0, on_change, &flag, &listener) == 0);
  vigil_mode_t* snapshot = NULL;
  CHECK(vigil_mode_listener_wait(listener, 10 * 1000 * 1000, &snapshot) == 0);
  if (snapshot != NULL) {
    double speed = 0;
    int32_t sec = 0;
    uint32_t nanosec = 0;
    CHECK(strcmp(vigil_mode_name(snapshot), "cautious") == 0);
    CHECK(strcmp(vigil_mode_reason(snapshot), "people nearby") == 0);
    CHECK(vigil_mode_stamp(snapshot, &sec, &nanosec) == 0 && sec == 1700000000 && nanosec == 5);
    CHECK(vigil_mode_value_count(snapshot) == 2);
    CHECK(strcmp(vigil_mode_value_key_at(snapshot, 0), "arm") == 0); /* sorted by key */
    CHECK(strcmp(vigil_mode_value_at(snapshot, 1), "0.8") == 0);
    CHECK(vigil_mode_value_key_at(snapshot, 2) == NULL);
    CHECK(strcmp(vigil_mode_value(snapshot, "arm"), "parked") == 0);
    CHECK(vigil_mode_value(snapshot, "absent") == NULL);
    CHECK(vigil_mode_value_double(snapshot, "max_speed", &speed) == 0 && speed == 0.8);
    CHECK(vigil_mode_value_double(snapshot, "arm", &speed) == -EINVAL);
    CHECK(vigil_mode_value_double(snapshot, "absent", &speed) == -ENOENT);
    vigil_mode_free(snapshot);
  }
  snapshot = NULL;
  CHECK(vigil_mode_listener_current(listener, &snapshot) == 0 && snapshot != NULL);
  vigil_mode_free(snapshot);

  /* The callback ran (on a Cyclone thread), with the same mode. */
  double deadline = now_s() + 10.0;
  int calls = 0;
  while (now_s() < deadline) {
    pthread_mutex_lock(&callback_mutex);
    calls = callback_calls;
    pthread_mutex_unlock(&callback_mutex);
    if (calls >= 1) break;
    pause_briefly();
  }
  CHECK(calls == 1);
  pthread_mutex_lock(&callback_mutex);
  CHECK(flag == 1 && strcmp(callback_mode, "cautious") == 0);
  pthread_mutex_unlock(&callback_mutex);
  vigil_mode_listener_stop(listener);

  /* A listener on a domain where nobody publishes; errors; NULLs. */
  CHECK(vigil_mode_listener_start(domain + 1, 0, NULL, NULL, &listener) == 0);
  CHECK(vigil_mode_listener_current(listener, &snapshot) == -ENODATA && snapshot == NULL);
  CHECK(vigil_mode_listener_wait(listener, 100000, &snapshot) == -ETIMEDOUT && snapshot == NULL);
  vigil_mode_listener_stop(listener);
  CHECK(vigil_mode_listener_start(domain, 0, NULL, NULL, NULL) == -EINVAL);
  CHECK(vigil_mode_listener_start(-5, 0, NULL, NULL, &listener) == -EINVAL && listener == NULL);
  CHECK(vigil_mode_listener_start(domain, 999, NULL, NULL, &listener) == -EINVAL);
  CHECK(vigil_mode_listener_current(NULL, &snapshot) == -EINVAL);
  CHECK(vigil_mode_name(NULL) == NULL && vigil_mode_value_count(NULL) == 0);
  CHECK(vigil_mode_stamp(NULL, NULL, NULL) == -EINVAL);
  vigil_mode_listener_stop(NULL);
  vigil_mode_free(NULL);
}

int main(void) {
  setenv("CYCLONEDDS_URI", "file://" VIGIL_SOURCE_DIR "/dds/cyclonedds-loopback.xml", 1);
  unsetenv("WATCHDOG_USEC");
  const int64_t domain = 1 + (getpid() * 13) % 200;
  dds_entity_t participant = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  CHECK(participant > 0);
  test_heartbeat(participant, domain);
  test_mode(participant, domain);
  dds_delete(participant);
  if (failures == 0) puts("libvigil_dds C API: all checks passed");
  return failures == 0 ? 0 : 1;
}
