# Hot standby over DDS: scan_publisher (examples/standby/), a /scan publisher with EXCLUSIVE
# ownership whose strength vigild hands it (VIGIL_OWNERSHIP_STRENGTH), and the integration test
# that kills, hangs and restarts the primary of a pair under a real vigild and a real reader.
# sensor_msgs/LaserScan is declared in examples/standby/standby_msgs.idl; its std_msgs/Header
# comes from ros2_messages.idl (vigil_ros2_types), so the tests link a single copy of it.
idlc_generate(TARGET vigil_standby_types FILES ${PROJECT_SOURCE_DIR}/examples/standby/standby_msgs.idl
  INCLUDES ${PROJECT_SOURCE_DIR}/src/dds/idl NO_TYPE_INFO)
add_dependencies(vigil_standby_types_generate vigil_ros2_types_generate)

add_executable(scan_publisher ${PROJECT_SOURCE_DIR}/examples/standby/scan_publisher.cpp)
target_link_libraries(scan_publisher PRIVATE vigil_standby_types vigil_ros2_types CycloneDDS::ddsc
  libvigil)

if(VIGIL_TESTS)
  target_sources(vigil_integration_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/dds/standby_test.cpp)
  target_link_libraries(vigil_integration_tests PRIVATE vigil_standby_types)
  add_dependencies(vigil_integration_tests scan_publisher)
endif()
