#include <stdio.h>
#include <vigil/vigil.h>

int main(void) {
  if (vigil_notify_ready() != 0) return 1;
  puts("libvigil C consumer ok");
  return 0;
}
