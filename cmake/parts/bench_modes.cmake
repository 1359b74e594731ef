# The sensor-dropout -> degraded-mode benchmark (bench/modes/run.sh, issue 6): the component that
# publishes /scan, stops, and times the degraded mode's arrival over DDS.
add_executable(dropout_probe ${PROJECT_SOURCE_DIR}/bench/modes/dropout_probe.cpp)
target_link_libraries(dropout_probe PRIVATE libvigil_dds vigil_ros2_types CycloneDDS::ddsc)
