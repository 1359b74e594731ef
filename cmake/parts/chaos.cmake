# chaos: `vigil chaos`, faults injected into a running robot by vigild itself (issue 7). The
# protocol, CLI and daemon wiring live in files of other parts; this adds the injector and
# its integration tests.
target_sources(vigil_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/daemon/fault_injector.cpp
  ${PROJECT_SOURCE_DIR}/src/daemon/network_fault.cpp
  ${PROJECT_SOURCE_DIR}/src/chaos/hog.cpp
)
if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/daemon/network_fault_test.cpp)
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/chaos_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/integration/network_fault_test.cpp
  )
endif()
