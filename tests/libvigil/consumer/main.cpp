#include <cstdio>
#include <vigil/vigil.hpp>

int main() {
  // Outside vigil (no NOTIFY_SOCKET): everything is a successful no-op.
  if (!vigil::notify_ready()) return 1;
  vigil::CircuitBreaker breaker;
  if (!breaker.allow()) return 1;
  std::puts("libvigil consumer ok");
  return 0;
}
