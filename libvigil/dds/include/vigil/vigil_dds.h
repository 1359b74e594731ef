/* libvigil_dds C API (C99): DDS heartbeats and the system mode, over Cyclone DDS.
 * Link with vigil::dds (CMake) or `pkg-config --libs vigil-dds`.
 *
 * Conventions, as in vigil.h:
 *  - Return value: 0 on success, or a negative errno value. No function aborts, longjmps or
 *    throws. -EINVAL: an invalid argument; -ENOMEM: out of memory; -EIO: another DDS error
 *    (creating a participant, topic, reader or writer, or writing).
 *  - Handles (vigil_dds_heartbeat_t, vigil_mode_listener_t, vigil_mode_t) may be used from
 *    several threads, but must not be used during or after their stop/free function.
 *  - Participants are dds_entity_t values (int32_t) so that this header does not need
 *    <dds/dds.h>; 0 means "create one of its own".
 *  - Defaults come from the environment as vigild and ROS 2 set it: the domain from
 *    ROS_DOMAIN_ID (else 0), the component name from VIGIL_COMPONENT (else ""), the lease from
 *    WATCHDOG_USEC when meant for this pid (else 1 s).
 */
#ifndef VIGIL_VIGIL_DDS_H
#define VIGIL_VIGIL_DDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Heartbeats on rt/vigil/heartbeat -------------------------------------------------- */

typedef struct vigil_dds_heartbeat vigil_dds_heartbeat_t;
/* Returns nonzero when the program is healthy; called from the beating thread. */
typedef int (*vigil_dds_health_fn)(void* context);

typedef struct vigil_dds_heartbeat_options {
  int64_t domain;        /* DDS domain id; -1: ROS_DOMAIN_ID, else 0 */
  const char* component; /* sample field `component` (copied); NULL: VIGIL_COMPONENT, else "" */
  uint64_t lease_usec;   /* liveliness lease; 0: WATCHDOG_USEC, else 1 s */
  uint64_t period_usec;  /* beat period; 0: lease / 3. Must be < lease */
  int own_thread;        /* nonzero: beat from a thread every period; 0: only on _beat() */
  vigil_dds_health_fn healthy; /* NULL: always healthy */
  void* healthy_context;
  int32_t participant; /* an existing dds_entity_t participant, or 0: create one */
} vigil_dds_heartbeat_options_t;

/* Fills *options with the defaults above (own_thread = 1). Always call it first, then set the
 * fields you need: later versions may add fields. NULL is a no-op. */
void vigil_dds_heartbeat_options_init(vigil_dds_heartbeat_options_t* options);
/* Creates the writer (MANUAL_BY_TOPIC liveliness with the lease, best effort, keep last 1) and,
 * with own_thread, starts beating. options NULL: all defaults. Returns 0 and sets *out;
 * -EINVAL if out is NULL or an option is invalid (domain < -1 or not accepted by DDS, period
 * >= lease);
 * -ENOMEM; -EIO when DDS fails (*out is NULL on every error). */
int vigil_dds_heartbeat_start(const vigil_dds_heartbeat_options_t* options,
                              vigil_dds_heartbeat_t** out);
/* One beat now (a write, which asserts liveliness), if healthy: 0 when written, -EAGAIN when
 * the health function says unhealthy, -EINVAL for NULL, -EIO when the write fails. */
int vigil_dds_heartbeat_beat(vigil_dds_heartbeat_t* heartbeat);
/* Stops the thread (promptly), deletes the DDS entities it created, frees the handle. NULL is
 * a no-op. */
void vigil_dds_heartbeat_stop(vigil_dds_heartbeat_t* heartbeat);
/* Successful writes so far, by either path (0 for NULL). */
uint64_t vigil_dds_heartbeat_beats(const vigil_dds_heartbeat_t* heartbeat);
/* The lease offered and the period, resolved from options and environment (0 for NULL). */
uint64_t vigil_dds_heartbeat_lease_usec(const vigil_dds_heartbeat_t* heartbeat);
uint64_t vigil_dds_heartbeat_period_usec(const vigil_dds_heartbeat_t* heartbeat);

/* ---- The system mode on rt/vigil/mode ------------------------------------------------- */

typedef struct vigil_mode vigil_mode_t;                   /* one immutable mode snapshot */
typedef struct vigil_mode_listener vigil_mode_listener_t; /* reads rt/vigil/mode */

/* Called when the mode first arrives and whenever its name, reason or values change, on the
 * thread that delivers the sample: A CYCLONE DDS THREAD when vigild writes, the writing thread
 * when the writer is in this process, and possibly inside vigil_mode_listener_start (before
 * *out is set) for the mode already known. Keep it short and synchronise what it touches; calls
 * never overlap. `mode` is valid only during the call (copy what you keep). Must not stop the
 * listener. */
typedef void (*vigil_mode_fn)(const vigil_mode_t* mode, void* context);

/* Starts reading the mode (reliable, transient local, keep last 1: the current mode arrives
 * at once even when it was set before). domain -1: ROS_DOMAIN_ID, else 0; participant 0: create
 * one. on_change may be NULL. Returns 0 and sets *out; -EINVAL (out NULL, domain out of range),
 * -ENOMEM, -EIO (*out NULL on every error). */
int vigil_mode_listener_start(int64_t domain, int32_t participant, vigil_mode_fn on_change,
                              void* context, vigil_mode_listener_t** out);
/* Deletes the reader (waiting for a running callback to return) and frees the handle. NULL is
 * a no-op. Must not be called from the on_change callback. */
void vigil_mode_listener_stop(vigil_mode_listener_t* listener);
/* The current mode as a new snapshot in *out (free it with vigil_mode_free). -ENODATA: no mode
 * received yet (*out NULL); -EINVAL: NULL argument; -ENOMEM. */
int vigil_mode_listener_current(const vigil_mode_listener_t* listener, vigil_mode_t** out);
/* Waits up to timeout_usec for a mode to be known, then as _current. -ETIMEDOUT when none
 * arrived in time (*out NULL). */
int vigil_mode_listener_wait(const vigil_mode_listener_t* listener, uint64_t timeout_usec,
                             vigil_mode_t** out);

/* Snapshot accessors. Strings are owned by the snapshot, valid until vigil_mode_free, never
 * NULL for a non-NULL mode (NULL for a NULL mode). */
const char* vigil_mode_name(const vigil_mode_t* mode);
const char* vigil_mode_reason(const vigil_mode_t* mode);
/* The stamp (wall clock of vigild when it set the mode) as ROS 2 Time. -EINVAL on NULL mode;
 * sec / nanosec may be NULL. */
int vigil_mode_stamp(const vigil_mode_t* mode, int32_t* sec, uint32_t* nanosec);
/* The values, sorted by key: count, then key/value at index (NULL past the end). */
size_t vigil_mode_value_count(const vigil_mode_t* mode);
const char* vigil_mode_value_key_at(const vigil_mode_t* mode, size_t index);
const char* vigil_mode_value_at(const vigil_mode_t* mode, size_t index);
/* The value named key, or NULL when absent (or mode/key NULL). */
const char* vigil_mode_value(const vigil_mode_t* mode, const char* key);
/* The value named key as a double: 0 and *out; -ENOENT absent; -EINVAL not a number (or NULL
 * argument). */
int vigil_mode_value_double(const vigil_mode_t* mode, const char* key, double* out);
/* Frees a snapshot. NULL is a no-op. */
void vigil_mode_free(vigil_mode_t* mode);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_DDS_H */
