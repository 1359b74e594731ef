/* libvigil C API (C99): talk to vigild from a C component.
 *
 * Conventions for every function below:
 *  - Return value: 0 on success, or a negative errno value (-EINVAL, -ENOENT, ...), as
 *    sd_notify(3) does. No function aborts, longjmps or throws.
 *  - Notify functions send one datagram to $NOTIFY_SOCKET (an absolute path or "@abstract").
 *    When NOTIFY_SOCKET is unset or empty they do nothing and return 0, so a component runs
 *    unchanged outside vigil. -EINVAL: NOTIFY_SOCKET is malformed or too long, or an argument
 *    is invalid; other errors are those of socket(2)/sendto(2) (e.g. -ECONNREFUSED when vigild
 *    is gone, -EAGAIN when its queue is full; a datagram is never waited for).
 *  - Thread safety: the notify functions read the environment and open a fresh socket per call;
 *    they may be called from any thread (as long as nobody calls setenv concurrently). A handle
 *    (vigil_checkpoint_t, vigil_heartbeat_t) may be used from several threads, but must not be
 *    used during or after its close/stop function.
 */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Notify protocol ---------------------------------------------------------------- */

/* Sends `message` (KEY=VALUE lines separated by '\n') as one datagram.
 * -EINVAL if message is NULL. */
int vigil_notify(const char* message);
/* READY=1: initialisation is complete. */
int vigil_notify_ready(void);
/* STATUS=text: a one-line status for humans ("" clears it). Newlines in `text` are sent as
 * spaces. -EINVAL if text is NULL. */
int vigil_notify_status(const char* text);
/* STOPPING=1: the component is shutting down on purpose. */
int vigil_notify_stopping(void);
/* WATCHDOG=1: one heartbeat. */
int vigil_notify_watchdog(void);
/* EXTEND_TIMEOUT_USEC=usec: more time to start or stop; while running, no hang is declared
 * before now + usec. */
int vigil_extend_timeout(uint64_t usec);

/* The watchdog interval expected of this process: WATCHDOG_USEC when it is a positive number
 * and WATCHDOG_PID is unset or equal to getpid(). Returns 1 and sets *usec when there is one,
 * 0 when there is none (*usec set to 0), -EINVAL if usec is NULL. */
int vigil_watchdog_interval(uint64_t* usec);

/* ---- Watched loops ------------------------------------------------------------------ */

/* 1 if `name` is a valid loop name (1-64 characters of A-Za-z0-9_-./), else 0. */
int vigil_loop_name_valid(const char* name);
/* VIGIL_LOOP=name + VIGIL_LOOP_USEC=deadline_usec: declares (or re-declares) a watched loop
 * that must turn at least every deadline_usec. Counts as its first turn. -EINVAL for an
 * invalid name or deadline_usec == 0. */
int vigil_loop_declare(const char* name, uint64_t deadline_usec);
/* WATCHDOG=1 + VIGIL_LOOP=name: one turn of the loop. -EINVAL for an invalid name. */
int vigil_loop_beat(const char* name);
/* VIGIL_LOOP_USEC=0: the loop has finished; it is no longer watched. -EINVAL: invalid name. */
int vigil_loop_retire(const char* name);

/* ---- Heartbeat thread --------------------------------------------------------------- */

typedef struct vigil_heartbeat vigil_heartbeat_t;
/* Returns nonzero when the program is healthy; called from the heartbeat thread. */
typedef int (*vigil_health_fn)(void* context);

/* Starts a thread that sends WATCHDOG=1 every period_usec while `healthy(context)` returns
 * nonzero (healthy may be NULL: always healthy). Returns 0 and sets *out; -EINVAL if out is
 * NULL or period_usec is 0; -ENOMEM/-EAGAIN if the thread cannot be created. */
int vigil_heartbeat_start(uint64_t period_usec, vigil_health_fn healthy, void* context,
                          vigil_heartbeat_t** out);
/* As vigil_heartbeat_start with half of vigil_watchdog_interval(). Returns 0 with *out NULL
 * when there is no watchdog for this process (nothing to do); vigil_heartbeat_stop(NULL) is
 * allowed. */
int vigil_heartbeat_start_from_environment(vigil_health_fn healthy, void* context,
                                           vigil_heartbeat_t** out);
/* Stops the thread, joins it (promptly: it does not finish a sleep) and frees the handle.
 * NULL is a no-op. */
void vigil_heartbeat_stop(vigil_heartbeat_t* heartbeat);
/* Successful WATCHDOG=1 datagrams sent by the thread so far (0 for NULL). */
uint64_t vigil_heartbeat_beats(const vigil_heartbeat_t* heartbeat);

/* ---- Checkpoints -------------------------------------------------------------------- */

typedef struct vigil_checkpoint vigil_checkpoint_t;

/* A checkpoint stored in path.a / path.b (two generations, written atomically with a CRC-32
 * checked header; see vigil/checkpoint.hpp). Opening touches no file. Returns 0 and sets *out;
 * -EINVAL if path is NULL or empty or out is NULL; -ENOMEM. */
int vigil_checkpoint_open(const char* path, vigil_checkpoint_t** out);
/* Frees the handle (the files stay). NULL is a no-op. */
void vigil_checkpoint_close(vigil_checkpoint_t* checkpoint);
/* Saves size bytes as the next generation; a crash at any moment leaves the previous
 * generations intact. -EINVAL for a NULL checkpoint or NULL data with size > 0; otherwise the
 * errno of the failing open/write/fsync/rename. */
int vigil_checkpoint_save(vigil_checkpoint_t* checkpoint, const void* data, size_t size);
/* Loads the newest valid generation into buffer (capacity bytes), falling back to the previous
 * generation when the newest is torn or corrupt. On success returns 0 and sets *size (and
 * *generation if not NULL). Errors: -ENOENT no checkpoint saved yet; -EBADMSG files exist but
 * none is valid; -EMSGSIZE buffer too small (*size set to the size needed); -EINVAL NULL
 * checkpoint or size, or NULL buffer with capacity > 0; other negative errno for read errors.
 */
int vigil_checkpoint_load(vigil_checkpoint_t* checkpoint, void* buffer, size_t capacity,
                          size_t* size, uint64_t* generation);

/* ---- The system mode from vigild's mode file (no DDS) ---------------------------------- */
/* vigild writes the robot's current system mode to a file and passes its path in
 * VIGIL_MODE_FILE; see vigil/mode_file.hpp for the format. The names differ from the DDS
 * listener's (vigil_mode_* in vigil_dds.h) so that both headers can be used in one program.
 * Linux only (inotify). */

typedef struct vigil_file_mode vigil_file_mode_t; /* one immutable mode snapshot */
typedef struct vigil_file_mode_listener vigil_file_mode_listener_t; /* follows the file */

/* Called when the mode first becomes known and whenever its name, reason or values change,
 * always on the listener's own thread (never inside vigil_file_mode_listener_start). Calls
 * never overlap. `mode` is valid only during the call (copy what you keep). It must not call
 * vigil_file_mode_listener_stop. */
typedef void (*vigil_file_mode_fn)(const vigil_file_mode_t* mode, void* context);

/* Starts following the mode file at `path` (NULL: $VIGIL_MODE_FILE): reads it at once, then
 * re-reads it from a thread whenever it is replaced. A file or directory that does not exist
 * yet is not an error (it is read when it appears); a file that does not parse is ignored and
 * the previous mode stays (see _last_read). on_change may be NULL. Returns 0 and sets *out.
 * When path is NULL and VIGIL_MODE_FILE is unset or empty (not running under vigild), returns
 * 0 with an inactive listener (_active 0, never a mode), so a component runs unchanged
 * outside vigil. Errors (*out NULL): -EINVAL (out NULL, path empty, ending in '/'), -ENOMEM,
 * or the errno of inotify_init1/inotify_add_watch/pipe2/thread creation. */
int vigil_file_mode_listener_start(const char* path, vigil_file_mode_fn on_change,
                                   void* context, vigil_file_mode_listener_t** out);
/* Stops the thread promptly (waiting for a running callback to return), closes its file
 * descriptors and frees the handle. NULL is a no-op. Must not be called from on_change. */
void vigil_file_mode_listener_stop(vigil_file_mode_listener_t* listener);
/* 1 when the listener follows a file, 0 when inactive (not under vigild) or NULL. */
int vigil_file_mode_listener_active(const vigil_file_mode_listener_t* listener);
/* The outcome of the last read of the file: 0 ok; -ENOENT not there (yet); -EBADMSG it did not
 * parse (the previous mode stays); -EFBIG larger than 1 MiB; another negative errno of
 * open/read; -EINVAL for NULL. */
int vigil_file_mode_listener_last_read(const vigil_file_mode_listener_t* listener);
/* A line for humans ("ok", "waiting for ... to appear", the parse error, why inactive), copied
 * into buffer and always NUL-terminated when capacity > 0 (truncated if need be). Returns the
 * full length without the NUL, like snprintf; 0 for a NULL listener. buffer may be NULL when
 * capacity is 0. */
size_t vigil_file_mode_listener_status(const vigil_file_mode_listener_t* listener, char* buffer,
                                       size_t capacity);
/* The current mode as a new snapshot in *out (free it with vigil_file_mode_free). -ENODATA:
 * no valid mode read yet, or an inactive listener (*out NULL); -EINVAL: NULL argument;
 * -ENOMEM. */
int vigil_file_mode_listener_current(const vigil_file_mode_listener_t* listener,
                                     vigil_file_mode_t** out);
/* Waits up to timeout_usec for a mode to be known, then as _current. -ETIMEDOUT when none
 * became known in time; -ENODATA at once for an inactive listener (*out NULL on errors). */
int vigil_file_mode_listener_wait(const vigil_file_mode_listener_t* listener,
                                  uint64_t timeout_usec, vigil_file_mode_t** out);

/* Snapshot accessors. Strings are owned by the snapshot, valid until vigil_file_mode_free,
 * never NULL for a non-NULL mode (NULL for a NULL mode). */
const char* vigil_file_mode_name(const vigil_file_mode_t* mode);
const char* vigil_file_mode_reason(const vigil_file_mode_t* mode);
/* When vigild set the mode: its wall clock, microseconds since the Unix epoch. 0 and
 * *since_usec; -EINVAL on a NULL argument. */
int vigil_file_mode_since(const vigil_file_mode_t* mode, int64_t* since_usec);
/* The values, sorted by key: count, then key/value at index (NULL past the end). */
size_t vigil_file_mode_value_count(const vigil_file_mode_t* mode);
const char* vigil_file_mode_value_key_at(const vigil_file_mode_t* mode, size_t index);
const char* vigil_file_mode_value_at(const vigil_file_mode_t* mode, size_t index);
/* The value named key, or NULL when absent (or mode/key NULL). */
const char* vigil_file_mode_value(const vigil_file_mode_t* mode, const char* key);
/* The value named key as a double (locale-independent): 0 and *out; -ENOENT absent; -EINVAL
 * not a number (or NULL argument). */
int vigil_file_mode_value_double(const vigil_file_mode_t* mode, const char* key, double* out);
/* Frees a snapshot. NULL is a no-op. */
void vigil_file_mode_free(vigil_file_mode_t* mode);

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_H */
