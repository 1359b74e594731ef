#pragma once
// libvigil: everything a component needs to cooperate with vigild (C++17).
#include "vigil/checkpoint.hpp"
#include "vigil/circuit_breaker.hpp"
#include "vigil/freshness.hpp"
#include "vigil/heartbeat.hpp"
#include "vigil/mode_file.hpp"
#include "vigil/notify.hpp"
#include "vigil/retry.hpp"
#include "vigil/status.hpp"
#include "vigil/watched_loop.hpp"
