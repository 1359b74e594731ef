/* The benchmark's supervised program, linked statically so that "first instruction" is
 * close to main(). On start it reports "<pid> <CLOCK_MONOTONIC ns>" to $BENCH_SOCKET, tells
 * its supervisor it is ready (sd_notify READY=1 on $NOTIFY_SOCKET, or a newline on the s6
 * notification fd 3), then:
 *   target sleep            waits forever
 *   target heartbeat        sends WATCHDOG=1 at 10 Hz
 *   target hang MS          heartbeats every 10 ms for MS, reports "hang <pid> <last ns>",
 *                           then stops heartbeating */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void send_to_flags(const char* path, const char* msg, int flags);
static void send_to(const char* path, const char* msg) { send_to_flags(path, msg, 0); }
/* Reports to the benchmark block for at most 1 s: nobody reads them while resources are
 * measured, and the kernel queues only net.unix.max_dgram_qlen datagrams. */
static void report(const char* msg) { send_to_flags(getenv("BENCH_SOCKET"), msg, -1); }

static void send_to_flags(const char* path, const char* msg, int flags) {
  if (path == NULL || *path == 0) return;
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (flags == -1) {
    struct timeval limit = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    flags = 0;
  }
  sendto(fd, msg, strlen(msg), MSG_NOSIGNAL | flags, (struct sockaddr*)&a, sizeof a);
  close(fd);
}

int main(int argc, char** argv) {
  const long long started = now_ns();
  char msg[128];
  snprintf(msg, sizeof msg, "start %d %lld", getpid(), started);
  report(msg);
  send_to(getenv("NOTIFY_SOCKET"), "READY=1");
  if (fcntl(3, F_GETFD) >= 0 && getenv("S6_READY") != NULL) {
    (void)!write(3, "\n", 1);
    close(3);
  }
  const char* mode = argc > 1 ? argv[1] : "sleep";
  if (strcmp(mode, "heartbeat") == 0) {
    for (;;) {
      send_to(getenv("NOTIFY_SOCKET"), "WATCHDOG=1");
      usleep(100000);
    }
  }
  if (strcmp(mode, "hang") == 0 && argc > 2) {
    const long long until = started + atoll(argv[2]) * 1000000LL;
    long long last = 0;
    while (now_ns() < until) {
      send_to(getenv("NOTIFY_SOCKET"), "WATCHDOG=1");
      last = now_ns();
      usleep(10000);
    }
    snprintf(msg, sizeof msg, "hang %d %lld", getpid(), last);
    report(msg);
  }
  for (;;) pause();
}
