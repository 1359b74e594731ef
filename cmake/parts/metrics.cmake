# metrics: sources and tests of this part (target_sources on vigil_core, vigil_unit_tests or
# vigil_integration_tests; paths from ${PROJECT_SOURCE_DIR}).
target_sources(vigil_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/metrics/prometheus_text.cpp
  ${PROJECT_SOURCE_DIR}/src/metrics/metrics_registry.cpp)
# vigil_build_info{version}
set_source_files_properties(${PROJECT_SOURCE_DIR}/src/metrics/metrics_registry.cpp
  PROPERTIES COMPILE_DEFINITIONS "VIGIL_VERSION=\"${PROJECT_VERSION}\"")

if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/metrics/prometheus_text_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/metrics/metrics_registry_test.cpp)
  # The exposition is checked by the real promtool (Debian's `prometheus` package).
  target_compile_definitions(vigil_unit_tests PRIVATE VIGIL_PROMTOOL="/usr/bin/promtool")
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/prometheus_test.cpp)
  target_compile_definitions(vigil_integration_tests PRIVATE
    VIGIL_PROMETHEUS="/usr/bin/prometheus")
endif()
