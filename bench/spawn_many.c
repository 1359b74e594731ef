/* The floor for starting N programs: posix_spawn (vfork + exec) N times back to back, then
 * wait forever (the benchmark kills it). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: spawn_many N PROGRAM [ARGS...]\n");
    return 64;
  }
  const int n = atoi(argv[1]);
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ) != 0) perror("posix_spawn");
  }
  for (;;) pause();
}
