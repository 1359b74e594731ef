# approvals: operator approval of recovery steps over the CLI, control socket, HTTP API,
# dashboard and alerts. The sources live in files of other parts (api/, cli/, http/, alerts/);
# this part adds only its tests.
if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/cli/format_test.cpp)
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/approval_http_test.cpp
  )
endif()
