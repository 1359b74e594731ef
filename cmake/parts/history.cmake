# history: downsampled metric series in state_dir/metrics.db (src/history/), fed by the
# resource watcher's ticks; its tests and its benchmark.
target_sources(vigil_core PRIVATE
  ${PROJECT_SOURCE_DIR}/src/history/metric_history.cpp
  ${PROJECT_SOURCE_DIR}/src/history/tick_recorder.cpp)

if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/history/metric_history_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/history/tick_recorder_test.cpp)
  target_sources(vigil_integration_tests PRIVATE
    ${PROJECT_SOURCE_DIR}/tests/integration/history_test.cpp)
endif()

# bench/history: 100 components x 6 series for an hour of simulated 1 s ticks.
add_executable(history_bench ${PROJECT_SOURCE_DIR}/bench/history/history_bench.cpp)
target_link_libraries(history_bench PRIVATE vigil_core)
