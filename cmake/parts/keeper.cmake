# keeper: vigil-keeper, which restarts vigild when it dies or hangs where there is no systemd
# (issue 7), and its integration test.
add_executable(vigil-keeper ${PROJECT_SOURCE_DIR}/src/keeper/main.cpp)
target_link_libraries(vigil-keeper PRIVATE vigil_core CLI11::CLI11)
if(VIGIL_TESTS)
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/keeper_test.cpp
  )
  add_dependencies(vigil_integration_tests vigil-keeper)
endif()
