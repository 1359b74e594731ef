/* The floor: the least a supervisor can do. Fork, exec, wait, repeat. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: respawn PROGRAM [ARGS...]\n");
    return 64;
  }
  for (;;) {
    pid_t pid = fork();
    if (pid < 0) {
      sleep(1);
      continue;
    }
    if (pid == 0) {
      execv(argv[1], argv + 1);
      _exit(127);
    }
    while (waitpid(pid, NULL, 0) < 0) {
    }
  }
}
