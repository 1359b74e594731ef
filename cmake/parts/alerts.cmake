# alerts: sources and tests of this part (target_sources on vigil_core, vigil_unit_tests or
# vigil_integration_tests; paths from ${PROJECT_SOURCE_DIR}).
target_sources(vigil_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/alerts/alert.cpp
  ${PROJECT_SOURCE_DIR}/src/alerts/target.cpp
  ${PROJECT_SOURCE_DIR}/src/alerts/http_target.cpp
  ${PROJECT_SOURCE_DIR}/src/alerts/exec_target.cpp
  ${PROJECT_SOURCE_DIR}/src/alerts/alert_router.cpp
)
if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/alerts/alert_router_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/alerts/delivery_test.cpp
  )
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/alerts_test.cpp
  )
endif()
