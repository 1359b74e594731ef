/* beat: a component that heartbeats at a fixed period (as a ROS timer would: absolute
 * deadlines, so a late wake-up is followed by a short interval) to vigild's NOTIFY_SOCKET,
 * and records the CLOCK_MONOTONIC time of every heartbeat it sent. The kernel timestamps a
 * datagram when it is queued, inside sendto(), so these are the arrival times vigild sees.
 *   beat PERIOD_MS TRACE_FILE
 * SIGTERM: write the trace (binary int64 nanoseconds) and exit. SIGSTOP from the benchmark is
 * a real hang. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: beat PERIOD_MS TRACE_FILE\n");
    return 64;
  }
  const long period_ns = atol(argv[1]) * 1000000L;
  const char *path = getenv("NOTIFY_SOCKET");
  if (path == NULL) return 64;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  size_t cap = 1 << 16, n = 0;
  int64_t *trace = malloc(cap * sizeof *trace);
  sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof addr);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!stop) {
    next.tv_nsec += period_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec += 1;
    }
    if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) continue;
    sendto(fd, "WATCHDOG=1", 10, MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof addr);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (n == cap) trace = realloc(trace, (cap *= 2) * sizeof *trace);
    trace[n++] = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
  }
  FILE *out = fopen(argv[2], "wb");
  if (out != NULL) {
    fwrite(trace, sizeof *trace, n, out);
    fclose(out);
  }
  return 0;
}
