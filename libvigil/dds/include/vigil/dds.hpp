#pragma once
// libvigil_dds: vigil over DDS (Cyclone DDS) for component authors (C++17). Link vigil::dds
// (CMake: find_package(vigil COMPONENTS dds)) or pkg-config vigil-dds.
#include "vigil/dds_heartbeat.hpp"
#include "vigil/mode_listener.hpp"
